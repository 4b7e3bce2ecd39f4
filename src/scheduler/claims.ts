/**
 * Resource claims in the DB (the allocations table plays placement's part). A claim is atomic:
 * in one transaction the node's capacity and its current usage (a SUM over its allocations)
 * are read and the allocation is inserted only if it still fits, so concurrent claims never
 * overcommit a node, whatever the callers' caches believed. Used by the scheduler (first
 * choice) and the conductor (alternates on reschedule, resize bookkeeping).
 */
import { inList, type Sql } from '../db/sql.js';
import type { ServerGroupSpec } from './rpcapi.js';
import type { NodeInventory } from '../virt/driver.js';
import { nowIso } from '../util/time.js';
import { RESOURCE_KINDS, type Resources } from './host-state.js';
import { RESOURCE_WORDS } from './filters/resource-filter.js';

export type ClaimResult = { ok: true } | { ok: false; reason: string };

/** The capacity columns of a compute_nodes row. */
export interface NodeRow extends NodeInventory {
  host: string;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
}

/** Usable capacity of a compute_nodes row per resource: (total - reserved) * ratio. */
export function nodeCapacity(n: NodeRow): Resources {
  return {
    vcpus: Math.floor((n.vcpus - n.reserved_host_cpus) * n.cpu_allocation_ratio),
    memory_mb: Math.floor((n.memory_mb - n.reserved_host_memory_mb) * n.ram_allocation_ratio),
    disk_gb: Math.floor((n.local_gb - Math.ceil(n.reserved_host_disk_mb / 1024)) * n.disk_allocation_ratio),
  };
}

export async function nodeUsage(sql: Sql, nodeUuid: string): Promise<Resources & { instances: number }> {
  const u = await sql.get<{ v: number | null; m: number | null; d: number | null; n: number }>(
    'SELECT SUM(vcpus) AS v, SUM(memory_mb) AS m, SUM(disk_gb) AS d, COUNT(*) AS n FROM allocations WHERE node_uuid = ?',
    [nodeUuid],
  );
  return { vcpus: Number(u?.v ?? 0), memory_mb: Number(u?.m ?? 0), disk_gb: Number(u?.d ?? 0), instances: Number(u?.n ?? 0) };
}

/**
 * Claims `resources` on node for consumer. Idempotent: an existing allocation of the same
 * consumer on the same node counts as claimed. Never throws for "does not fit": answers
 * {ok: false, reason} with the numbers.
 */
export async function claim(
  sql: Sql,
  c: {
    node_uuid: string;
    consumer_uuid: string;
    resources: Resources;
    project_id?: string | null;
    user_id?: string | null;
    /** When set, the group's policy is re-checked in the same transaction (affinity / anti-affinity). */
    group?: ServerGroupSpec | null;
  },
): Promise<ClaimResult> {
  return sql.tx(async (tx) => {
    const lock = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
    const hard = c.group && HARD_POLICIES.has(c.group.policy) ? c.group : null;
    // The group row first (then the node): two claims for one group run one after the other.
    if (hard && lock) await tx.get(`SELECT id FROM server_groups WHERE uuid = ?${lock}`, [hard.uuid]);
    const node = await tx.get<NodeRow>(`SELECT * FROM compute_nodes WHERE uuid = ? AND deleted = 0${lock}`, [c.node_uuid]);
    if (!node) return { ok: false, reason: `compute node ${c.node_uuid} no longer exists` };
    const existing = await tx.get('SELECT 1 AS x FROM allocations WHERE consumer_uuid = ? AND node_uuid = ?', [c.consumer_uuid, c.node_uuid]);
    if (existing) return { ok: true };
    if (hard) {
      const refusal = await groupRefusal(tx, hard, c.consumer_uuid, c.node_uuid, node.host);
      if (refusal) return { ok: false, reason: refusal };
    }
    const cap = nodeCapacity(node);
    const used = await nodeUsage(tx, c.node_uuid);
    for (const k of RESOURCE_KINDS) {
      if (c.resources[k] > cap[k] - used[k]) {
        const w = RESOURCE_WORDS[k];
        return {
          ok: false,
          reason: `${node.host}: not enough ${w.noun}: needs ${c.resources[k]} ${w.unit}, free ${Math.max(0, cap[k] - used[k])} ${w.unit}`,
        };
      }
    }
    await tx.run(
      'INSERT INTO allocations (consumer_uuid, node_uuid, vcpus, memory_mb, disk_gb, project_id, user_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [c.consumer_uuid, c.node_uuid, c.resources.vcpus, c.resources.memory_mb, c.resources.disk_gb, c.project_id ?? null, c.user_id ?? null, nowIso()],
    );
    return { ok: true };
  });
}

const HARD_POLICIES = new Set(['affinity', 'anti-affinity']);
/** Migration states after which a migration holds no allocation any more. */
export const MIGRATION_DONE_STATES = ['confirmed', 'reverted', 'error', 'failed', 'done', 'completed', 'cancelled'];

/**
 * Where the group's other live members hold allocations now, as node uuid -> member uuids
 * (a member counts on a node through its own allocation and through that of an unfinished
 * migration of it: during a resize it occupies both hosts).
 */
async function membersByNode(tx: Sql, groupUuid: string, consumer: string): Promise<Map<string, { host: string; members: Set<string> }>> {
  const done = inList(MIGRATION_DONE_STATES.length);
  const rows = await tx.all<{ node_uuid: string; host: string; member: string }>(
    `SELECT a.node_uuid AS node_uuid, n.host AS host, m.instance_uuid AS member FROM server_group_members m
       JOIN instances i ON i.uuid = m.instance_uuid AND i.deleted = 0
       JOIN allocations a ON a.consumer_uuid = m.instance_uuid
       LEFT JOIN compute_nodes n ON n.uuid = a.node_uuid
     WHERE m.group_uuid = ? AND m.instance_uuid <> ?
     UNION
     SELECT a.node_uuid AS node_uuid, n.host AS host, m.instance_uuid AS member FROM server_group_members m
       JOIN instances i ON i.uuid = m.instance_uuid AND i.deleted = 0
       JOIN migrations mg ON mg.instance_uuid = m.instance_uuid AND mg.status NOT IN ${done}
       JOIN allocations a ON a.consumer_uuid = mg.uuid
       LEFT JOIN compute_nodes n ON n.uuid = a.node_uuid
     WHERE m.group_uuid = ? AND m.instance_uuid <> ?`,
    [groupUuid, consumer, ...MIGRATION_DONE_STATES, groupUuid, consumer],
  );
  const out = new Map<string, { host: string; members: Set<string> }>();
  for (const r of rows) {
    let e = out.get(r.node_uuid);
    if (!e) out.set(r.node_uuid, (e = { host: r.host ?? r.node_uuid, members: new Set() }));
    e.members.add(r.member);
  }
  return out;
}

/**
 * The hard group policy, checked against the DB inside the claim's transaction: why consumer
 * may not go to the node, or null when it may.
 * - anti-affinity: fewer than max_server_per_host (null = 1) other members on this node;
 * - affinity: no other member on any other node.
 */
async function groupRefusal(tx: Sql, g: ServerGroupSpec, consumer: string, nodeUuid: string, host: string): Promise<string | null> {
  const byNode = await membersByNode(tx, g.uuid, consumer);
  if (g.policy === 'anti-affinity') {
    const max = g.max_server_per_host ?? 1;
    const here = byNode.get(nodeUuid)?.members.size ?? 0;
    if (here < max) return null;
    return `${host}: server group policy: anti-affinity group ${g.uuid} already has ${here} member${here === 1 ? '' : 's'} on this host, at most ${max} per host`;
  }
  const elsewhere = [...byNode].filter(([n]) => n !== nodeUuid);
  if (elsewhere.length === 0) return null;
  const where = elsewhere.map(([, e]) => `${e.members.size} on ${e.host}`).join(', ');
  return `${host}: server group policy: affinity group ${g.uuid} has members on another host (${where})`;
}

/** Drops a consumer's allocations (on one node, or everywhere); answers the nodes touched. Idempotent. */
export async function release(sql: Sql, consumerUuid: string, nodeUuid?: string): Promise<string[]> {
  const where = nodeUuid ? 'consumer_uuid = ? AND node_uuid = ?' : 'consumer_uuid = ?';
  const params = nodeUuid ? [consumerUuid, nodeUuid] : [consumerUuid];
  return sql.tx(async (tx) => {
    const rows = await tx.all<{ node_uuid: string }>(`SELECT node_uuid FROM allocations WHERE ${where}`, params);
    if (rows.length) await tx.run(`DELETE FROM allocations WHERE ${where}`, params);
    return rows.map((r) => r.node_uuid);
  });
}

/** Moves every allocation of one consumer to another (resize: instance <-> migration). */
export async function moveAllocations(sql: Sql, from: string, to: string): Promise<string[]> {
  return sql.tx(async (tx) => {
    const rows = await tx.all<{ node_uuid: string }>('SELECT node_uuid FROM allocations WHERE consumer_uuid = ?', [from]);
    await tx.run('UPDATE allocations SET consumer_uuid = ? WHERE consumer_uuid = ?', [to, from]);
    return rows.map((r) => r.node_uuid);
  });
}
