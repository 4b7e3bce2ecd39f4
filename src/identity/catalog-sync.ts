/**
 * Reconciles the catalog with the services this cloud serves, on every start: each served
 * service has one public, internal and admin endpoint in the region, at the current public
 * URL; services nova-ts manages but does not serve (yet) are removed, so the catalog never
 * advertises an API that is not there. Services an admin registered by hand are left alone.
 * Idempotent.
 */
import type { Sql } from '../db/sql.js';
import { hexId } from '../util/ids.js';

export interface ManagedService {
  /** The name bootstrap's `services` option uses. */
  key: string;
  type: string;
  name: string;
  /** Path below the public URL. */
  path: string;
}

/** Every service nova-ts can serve, with DevStack's names and paths. */
export const MANAGED_SERVICES: readonly ManagedService[] = [
  { key: 'identity', type: 'identity', name: 'keystone', path: '/identity' },
  { key: 'compute', type: 'compute', name: 'nova', path: '/compute/v2.1' },
  { key: 'image', type: 'image', name: 'glance', path: '/image' },
  { key: 'network', type: 'network', name: 'neutron', path: '/network' },
  { key: 'placement', type: 'placement', name: 'placement', path: '/placement' },
  { key: 'volume', type: 'volumev3', name: 'cinderv3', path: '/volume/v3/$(project_id)s' },
  { key: 'volume', type: 'block-storage', name: 'cinder', path: '/volume/v3/$(project_id)s' },
];

/** What the cloud serves today. */
export const DEFAULT_SERVICES: readonly string[] = ['identity', 'compute', 'image'];

const INTERFACES = ['public', 'internal', 'admin'] as const;

export async function syncCatalog(sql: Sql, publicUrl: string, region: string, services: readonly string[]): Promise<void> {
  const base = publicUrl.replace(/\/+$/, '');
  await sql.tx(async (tx) => {
    if (!(await tx.get('SELECT id FROM regions WHERE id = ?', [region]))) {
      await tx.run(`INSERT INTO regions (id, description, parent_region_id) VALUES (?, '', NULL)`, [region]);
    }
    for (const m of MANAGED_SERVICES) {
      const existing = await tx.all<{ id: string; name: string }>('SELECT id, name FROM catalog_services WHERE type = ? ORDER BY id', [m.type]);
      if (!services.includes(m.key)) {
        for (const s of existing) {
          await tx.run('DELETE FROM catalog_endpoints WHERE service_id = ?', [s.id]);
          await tx.run('DELETE FROM catalog_services WHERE id = ?', [s.id]);
        }
        continue;
      }
      let id = (existing.find((s) => s.name === m.name) ?? existing[0])?.id;
      if (!id) {
        id = hexId();
        await tx.run(`INSERT INTO catalog_services (id, type, name, description, enabled) VALUES (?, ?, ?, '', 1)`, [id, m.type, m.name]);
      } else {
        await tx.run('UPDATE catalog_services SET name = ?, enabled = 1 WHERE id = ?', [m.name, id]);
      }
      const url = base + m.path;
      for (const iface of INTERFACES) {
        const eps = await tx.all<{ id: string }>(
          'SELECT id FROM catalog_endpoints WHERE service_id = ? AND interface = ? AND region_id = ? ORDER BY id',
          [id, iface, region],
        );
        if (eps.length === 0) {
          await tx.run('INSERT INTO catalog_endpoints (id, service_id, interface, region_id, url, enabled) VALUES (?, ?, ?, ?, ?, 1)', [
            hexId(),
            id,
            iface,
            region,
            url,
          ]);
          continue;
        }
        await tx.run('UPDATE catalog_endpoints SET url = ?, enabled = 1 WHERE id = ?', [url, eps[0].id]);
        for (const extra of eps.slice(1)) await tx.run('DELETE FROM catalog_endpoints WHERE id = ?', [extra.id]);
      }
    }
  });
}
