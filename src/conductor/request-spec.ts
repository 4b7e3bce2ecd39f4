/**
 * The scheduler's RequestSpec for instances recorded by the API. Placement constraints the API
 * accepted are read from the row: availability_zone, scheduler_hints, and the requested
 * destination: scheduler_hints `requested_destination` {host, node} (2.74 `host` /
 * `hypervisor_hostname`) or `force_hosts` / `force_nodes` (a forced `az:host:node`), or
 * system_metadata keys `requested_host` / `requested_node`. The server group named by the
 * `group` hint is read from the DB by schedulingSpec / groupSpec.
 */
import { json, type Sql } from '../db/sql.js';
import type { InstanceRow } from '../db/instances.js';
import type { FlavorSnapshot } from '../objects/flavor.js';
import type { RequestSpec, ServerGroupPolicy, ServerGroupSpec } from '../scheduler/rpcapi.js';
import type { ImageMeta } from '../virt/driver.js';
import { systemMetadata } from './payload.js';

export function requestSpec(
  row: InstanceRow,
  uuids: string[],
  o: { flavor?: FlavorSnapshot; image?: ImageMeta | null; ignoreHosts?: string[] } = {},
): RequestSpec {
  const f = o.flavor ?? json<FlavorSnapshot>(row.flavor, null as never);
  const sys = systemMetadata(row);
  const hints = json<Record<string, any>>(row.scheduler_hints, {});
  const first = (v: unknown): string | null => (Array.isArray(v) && typeof v[0] === 'string' ? v[0] : typeof v === 'string' ? v : null);
  const dest = hints.requested_destination && typeof hints.requested_destination === 'object' ? hints.requested_destination : {};
  return {
    instance_uuids: uuids,
    project_id: row.project_id,
    user_id: row.user_id,
    flavor: { id: f.id, memory_mb: f.memory_mb, vcpus: f.vcpus, root_gb: f.root_gb, ephemeral_gb: f.ephemeral_gb, swap: f.swap, extra_specs: f.extra_specs ?? {} },
    image: o.image ? { id: o.image.id, properties: o.image.properties } : row.image_ref ? { id: row.image_ref, properties: {} } : null,
    availability_zone: row.availability_zone || null,
    requested_host: sys.requested_host || first(dest.host) || first(hints.force_hosts) || null,
    requested_node: sys.requested_node || first(dest.node) || first(hints.force_nodes) || null,
    scheduler_hints: hints,
    ignore_hosts: o.ignoreHosts ?? [],
  };
}

const POLICIES: readonly ServerGroupPolicy[] = ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'];

/**
 * The server group of an instance (its `group` scheduler hint) as the scheduler needs it: the
 * policy, rules.max_server_per_host (null = 1) and the group's live members now. Null when the
 * instance asked for no group or the group has been deleted since.
 */
export async function groupSpec(sql: Sql, row: Pick<InstanceRow, 'scheduler_hints'>): Promise<ServerGroupSpec | null> {
  const hints = json<Record<string, unknown>>(row.scheduler_hints, {});
  const hint = Array.isArray(hints.group) ? hints.group[0] : hints.group;
  if (typeof hint !== 'string' || hint === '') return null;
  const g = await sql.get<{ uuid: string; policy: string; rules: string | null }>('SELECT uuid, policy, rules FROM server_groups WHERE uuid = ? AND deleted = 0', [
    hint,
  ]);
  if (!g || !POLICIES.includes(g.policy as ServerGroupPolicy)) return null;
  const members = await sql.all<{ instance_uuid: string }>(
    `SELECT m.instance_uuid AS instance_uuid FROM server_group_members m JOIN instances i ON i.uuid = m.instance_uuid AND i.deleted = 0
     WHERE m.group_uuid = ? ORDER BY i.id`,
    [g.uuid],
  );
  const max = Number(json<Record<string, unknown>>(g.rules, {}).max_server_per_host);
  return {
    uuid: g.uuid,
    policy: g.policy as ServerGroupPolicy,
    max_server_per_host: g.policy === 'anti-affinity' && Number.isInteger(max) && max > 0 ? max : null,
    members: members.map((m) => m.instance_uuid),
  };
}

/** requestSpec plus what only the DB knows (the server group); for builds and resizes. */
export async function schedulingSpec(sql: Sql, row: InstanceRow, uuids: string[], o: Parameters<typeof requestSpec>[2] = {}): Promise<RequestSpec> {
  return { ...requestSpec(row, uuids, o), group: await groupSpec(sql, row) };
}
