/**
 * The all-in-one's first network: the shared network `private` with subnet `private-subnet`
 * (198.18.0.0/20, gateway 198.18.0.1, no DNS servers), owned by the admin project; and the
 * `default` security group of every project that exists (projects made later get theirs on
 * first need). Idempotent: whatever of it exists is left as it is.
 */
import type { Sql } from '../db/sql.js';
import { uuid } from '../util/ids.js';
import { logger } from '../util/log.js';
import { nowIso } from '../util/time.js';
import type { NetworkRow } from './repo.js';
import type { SecurityGroupLink } from './sg-link.js';
import { createSubnet } from './subnets.js';

const log = logger('network');

export const SEED_NETWORK = 'private';
export const SEED_SUBNET = 'private-subnet';
export const SEED_CIDR = '198.18.0.0/20';

async function adminProject(sql: Sql): Promise<string> {
  const row = await sql.get<{ id: string }>(
    "SELECT id FROM projects WHERE name = 'admin' ORDER BY CASE WHEN domain_id = 'default' THEN 0 ELSE 1 END LIMIT 1",
  );
  return row?.id ?? 'admin';
}

export async function seedNetworks(sql: Sql, sg: SecurityGroupLink): Promise<void> {
  for (const p of await sql.all<{ id: string }>('SELECT id FROM projects ORDER BY id')) await sg.ensureDefault(sql, p.id);
  let net = await sql.get<NetworkRow>('SELECT * FROM networks WHERE name = ? AND shared = 1 ORDER BY created_at LIMIT 1', [SEED_NETWORK]);
  if (!net) {
    const now = nowIso();
    const row: NetworkRow = {
      id: uuid(), project_id: await adminProject(sql), name: SEED_NETWORK, description: '', admin_state_up: 1, shared: 1, external: 0,
      status: 'ACTIVE', mtu: 1500, port_security_enabled: 1, tags: '[]', revision_number: 1, created_at: now, updated_at: now,
    };
    await sql.run(
      `INSERT INTO networks (id, project_id, name, description, admin_state_up, shared, external, status, mtu, port_security_enabled, tags,
        revision_number, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [row.id, row.project_id, row.name, row.description, row.admin_state_up, row.shared, row.external, row.status, row.mtu,
        row.port_security_enabled, row.tags, row.revision_number, row.created_at, row.updated_at],
    );
    net = row;
  }
  const has = await sql.get('SELECT 1 AS x FROM subnets WHERE network_id = ?', [net.id]);
  if (has) return;
  // A user's subnet may already hold the range: the network then stays without one (said in the log).
  await createSubnet(sql, sg, net, net.project_id, { name: SEED_SUBNET, cidr: SEED_CIDR, gateway_ip: '198.18.0.1', dns_nameservers: [] }).catch((e) =>
    log.warn(`network ${SEED_NETWORK}: subnet ${SEED_SUBNET} not created: ${e instanceof Error ? e.message : String(e)}`),
  );
}
