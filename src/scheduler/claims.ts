/**
 * Resource claims in the DB (the allocations table plays placement's part). A claim is atomic:
 * in one transaction the node's capacity and its current usage (a SUM over its allocations)
 * are read and the allocation is inserted only if it still fits, so concurrent claims never
 * overcommit a node, whatever the callers' caches believed. Used by the scheduler (first
 * choice) and the conductor (alternates on reschedule, resize bookkeeping).
 */
import type { Sql } from '../db/sql.js';
import type { ServerGroupSpec } from './rpcapi.js';
import { nowIso } from '../util/time.js';
import { RESOURCE_KINDS, type Resources } from './host-state.js';
import { RESOURCE_WORDS } from './filters/resource-filter.js';

export type ClaimResult = { ok: true } | { ok: false; reason: string };

/** The capacity columns of a compute_nodes row. */
export interface NodeRow {
  host: string;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  cpu_allocation_ratio: number;
  ram_allocation_ratio: number;
  disk_allocation_ratio: number;
  reserved_host_cpus: number;
  reserved_host_memory_mb: number;
  reserved_host_disk_mb: number;
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
    const node = await tx.get<NodeRow>(`SELECT * FROM compute_nodes WHERE uuid = ? AND deleted = 0${lock}`, [c.node_uuid]);
    if (!node) return { ok: false, reason: `compute node ${c.node_uuid} no longer exists` };
    const existing = await tx.get('SELECT 1 AS x FROM allocations WHERE consumer_uuid = ? AND node_uuid = ?', [c.consumer_uuid, c.node_uuid]);
    if (existing) return { ok: true };
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
