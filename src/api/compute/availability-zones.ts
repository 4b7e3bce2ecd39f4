/**
 * os-availability-zone: the zones users may pick (compute hosts grouped by their aggregate's
 * `availability_zone`, else the default zone), and, for admins, /detail with every service per
 * host including the `internal` zone of the control services.
 */
import { ctxOf } from '../../http/types.js';
import { requireAdmin } from '../policy.js';
import { API_PREFIX, type MountFn } from './common.js';
import { INTERNAL_ZONE, hostZones, isServiceUp, listServiceRows, novaDbTime, serviceDownTime, zoneOf, type ServiceRow } from './service-state.js';
import { latest } from './services.js';

interface Zones {
  /** Zone -> its enabled services. */
  available: Map<string, ServiceRow[]>;
  /** Zones whose services are all disabled. */
  unavailable: string[];
}

async function zonesOf(sql: Parameters<MountFn>[1]['sql'], defaultZone: string): Promise<Zones> {
  const rows = await listServiceRows(sql);
  const zones = await hostZones(sql);
  const available = new Map<string, ServiceRow[]>();
  const disabledZones = new Set<string>();
  for (const s of rows) {
    for (const z of zoneOf(s, zones, defaultZone).split(',')) {
      if (s.disabled) {
        disabledZones.add(z);
        continue;
      }
      if (!available.has(z)) available.set(z, []);
      available.get(z)!.push(s);
    }
  }
  const unavailable = [...disabledZones].filter((z) => !available.has(z)).sort();
  return { available, unavailable };
}

export const mountAvailabilityZones: MountFn = (router, deps) => {
  const { sql, config } = deps;
  const base = `${API_PREFIX}/os-availability-zone`;

  router.get(base, async () => {
    const { available, unavailable } = await zonesOf(sql, config.compute.defaultAvailabilityZone);
    const info = [
      ...[...available.keys()].filter((z) => z !== INTERNAL_ZONE).sort().map((z) => ({ zoneName: z, zoneState: { available: true }, hosts: null })),
      ...unavailable.filter((z) => z !== INTERNAL_ZONE).map((z) => ({ zoneName: z, zoneState: { available: false }, hosts: null })),
    ];
    return { status: 200, body: { availabilityZoneInfo: info } };
  });

  router.get(`${base}/detail`, async (req) => {
    requireAdmin(ctxOf(req), 'os_compute_api:os-availability-zone:detail');
    const { available, unavailable } = await zonesOf(sql, config.compute.defaultAvailabilityZone);
    const down = serviceDownTime(config);
    const now = Date.now();
    const names = [...available.keys()].sort((a, b) => (a === INTERNAL_ZONE ? -1 : b === INTERNAL_ZONE ? 1 : a.localeCompare(b)));
    const info: unknown[] = names.map((z) => {
      const hosts: Record<string, Record<string, unknown>> = {};
      for (const s of available.get(z)!) {
        hosts[s.host] ??= {};
        hosts[s.host][s.binary] = {
          available: isServiceUp(s, down, now),
          active: !s.disabled,
          updated_at: novaDbTime(latest(s.updated_at, s.last_seen_up)),
        };
      }
      return { zoneName: z, zoneState: { available: true }, hosts };
    });
    for (const z of unavailable) info.push({ zoneName: z, zoneState: { available: false }, hosts: null });
    return { status: 200, body: { availabilityZoneInfo: info } };
  });
};
