/**
 * The resource audit: repairs drift between allocations and instances, so that a node's usage
 * is always the sum of what lives on it (no orphaned claims after a crash or a lost message,
 * no instance running unaccounted). Run by the scheduler service at start and every
 * config.scheduler.auditIntervalSec. Three repairs:
 *
 * - removed: allocations whose consumer is neither a live instance nor an unfinished migration
 *   (nor a live instance that holds nothing: not building, on no node), older than the grace
 *   period (a claim is made before the instance records its host: young rows are in flight);
 * - created: a live instance with a node, not building (nor being deleted, nor an ERROR that
 *   never launched: a failed build holds nothing) and without a migration in flight, that has no
 *   allocation: one is created on its node from its flavor, even over capacity (logged);
 * - moved: such an instance whose allocation sits on another node: it is moved to the
 *   instance's node (a duplicate on the right node already: the stray one is removed).
 *
 * Every write re-checks its condition in the DB in the same statement/transaction, so an
 * operation that changes things meanwhile (a claim, a delete, a resize) is never undone.
 * Instances with an unfinished migration are left alone: the resize protocol (see
 * src/conductor/resize.ts) moves their allocations between the instance and the migration.
 */
import { inList, json, type Sql } from '../db/sql.js';
import type { FlavorSnapshot } from '../objects/flavor.js';
import { nowIso } from '../util/time.js';
import { logger, type Logger } from '../util/log.js';
import { MIGRATION_DONE_STATES, nodeCapacity, nodeUsage, type NodeRow } from './claims.js';
import { flavorResources, RESOURCE_KINDS } from './host-state.js';

export interface AuditResult {
  removed: number;
  created: number;
  moved: number;
  /** Nodes whose usage the audit changed. */
  nodes: string[];
}

/** Allocations younger than this are never removed (claims in flight). */
export const AUDIT_GRACE_SEC = 30;
/** At most this many repairs are logged one by one per run; the rest are only counted. */
const LOG_LINES = 20;

interface AllocRow {
  consumer_uuid: string;
  node_uuid: string;
  created_at: string;
}
interface InstRow {
  uuid: string;
  node: string | null;
  vm_state: string;
  task_state: string | null;
  launched_at: string | null;
}

const DONE = () => ({ sql: inList(MIGRATION_DONE_STATES.length), params: MIGRATION_DONE_STATES });

/** Whether an instance should hold an allocation on its node (given it has no migration in flight). */
function holdsResources(i: InstRow): boolean {
  if (!i.node || i.vm_state === 'building' || i.task_state === 'deleting') return false;
  if (i.vm_state === 'error' && !i.launched_at) return false;
  return true;
}

export async function auditAllocations(sql: Sql, o: { graceSec?: number; now?: number; log?: Logger } = {}): Promise<AuditResult> {
  const log = o.log ?? logger('scheduler.audit');
  const cutoff = new Date((o.now ?? Date.now()) - (o.graceSec ?? AUDIT_GRACE_SEC) * 1000).toISOString();
  const done = DONE();
  // Allocations first, then migrations, then instances: an allocation moved to a migration
  // after the first read belongs to a migration the second read sees (see resize.ts).
  const allocs = await sql.all<AllocRow>('SELECT consumer_uuid, node_uuid, created_at FROM allocations');
  const migrating = new Set<string>();
  const migrations = new Set<string>();
  for (const m of await sql.all<{ uuid: string; instance_uuid: string }>(`SELECT uuid, instance_uuid FROM migrations WHERE status NOT IN ${done.sql}`, done.params)) {
    migrations.add(m.uuid);
    migrating.add(m.instance_uuid);
  }
  const instances = new Map(
    (await sql.all<InstRow>('SELECT uuid, node, vm_state, task_state, launched_at FROM instances WHERE deleted = 0')).map((i) => [i.uuid, i]),
  );
  const nodes = await sql.all<{ uuid: string; host: string; hypervisor_hostname: string }>('SELECT uuid, host, hypervisor_hostname FROM compute_nodes WHERE deleted = 0');
  const nodeByName = new Map(nodes.map((n) => [n.hypervisor_hostname, n.uuid]));
  const hostOf = new Map(nodes.map((n) => [n.uuid, n.host]));
  const where = (node: string) => hostOf.get(node) ?? `node ${node}`;

  const out: AuditResult = { removed: 0, created: 0, moved: 0, nodes: [] };
  const touched = new Set<string>();
  let logged = 0;
  const note = (msg: string) => {
    if (logged++ < LOG_LINES) log.warn(msg);
  };

  const byConsumer = new Map<string, AllocRow[]>();
  for (const a of allocs) {
    const list = byConsumer.get(a.consumer_uuid);
    if (list) list.push(a);
    else byConsumer.set(a.consumer_uuid, [a]);
  }

  // 1. Orphans (and allocations of live instances that hold nothing).
  for (const [consumer, rows] of byConsumer) {
    if (migrations.has(consumer) || migrating.has(consumer)) continue;
    const inst = instances.get(consumer);
    if (inst && (inst.vm_state === 'building' || inst.node)) continue;
    for (const a of rows) {
      if (a.created_at >= cutoff) continue;
      const r = await sql.run(
        `DELETE FROM allocations WHERE consumer_uuid = ? AND node_uuid = ? AND created_at < ?
           AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.uuid = ? AND i.deleted = 0 AND (i.node IS NOT NULL OR i.vm_state = 'building'))
           AND NOT EXISTS (SELECT 1 FROM migrations m WHERE (m.uuid = ? OR m.instance_uuid = ?) AND m.status NOT IN ${done.sql})`,
        [consumer, a.node_uuid, cutoff, consumer, consumer, consumer, ...done.params],
      );
      if (r.changes) {
        out.removed++;
        touched.add(a.node_uuid);
        note(`removed the allocation of ${consumer} on ${where(a.node_uuid)}: ${inst ? `instance ${inst.vm_state} on no node` : 'no live instance or migration'}`);
      }
    }
  }

  // 2. Live instances whose allocation is missing or on the wrong node.
  for (const inst of instances.values()) {
    if (migrating.has(inst.uuid) || !holdsResources(inst)) continue;
    const node = nodeByName.get(inst.node!);
    if (!node) {
      note(`instance ${inst.uuid} is on node ${inst.node}, which is not a known compute node; left alone`);
      continue;
    }
    const rows = byConsumer.get(inst.uuid) ?? [];
    if (rows.length === 1 && rows[0].node_uuid === node) continue;
    const r = await sql.tx((tx) => repairInstance(tx, inst, node, done));
    if (!r) continue;
    for (const n of r.nodes) touched.add(n);
    out.removed += r.removed;
    out.created += r.created;
    out.moved += r.moved;
    note(r.what(where));
  }
  if (logged > LOG_LINES) log.warn(`${logged - LOG_LINES} more repairs not logged one by one`);
  out.nodes = [...touched];
  if (out.removed + out.created + out.moved > 0) log.info(`audit repaired allocations: ${out.removed} removed, ${out.created} created, ${out.moved} moved`);
  return out;
}

type Repair = { removed: number; created: number; moved: number; nodes: string[]; what: (where: (n: string) => string) => string };

/** Re-reads the instance and its allocations in the transaction and makes them agree. */
async function repairInstance(tx: Sql, seen: InstRow, node: string, done: { sql: string; params: string[] }): Promise<Repair | null> {
  const inst = await tx.get<InstRow & { flavor: string; project_id: string; user_id: string }>(
    'SELECT uuid, node, vm_state, task_state, launched_at, flavor, project_id, user_id FROM instances WHERE uuid = ? AND deleted = 0',
    [seen.uuid],
  );
  if (!inst || inst.node !== seen.node || !holdsResources(inst)) return null;
  const moving = await tx.get(`SELECT 1 AS x FROM migrations WHERE instance_uuid = ? AND status NOT IN ${done.sql}`, [inst.uuid, ...done.params]);
  if (moving) return null;
  const rows = await tx.all<{ node_uuid: string }>('SELECT node_uuid FROM allocations WHERE consumer_uuid = ?', [inst.uuid]);
  const stray = rows.map((r) => r.node_uuid).filter((n) => n !== node);
  const here = rows.length > stray.length;
  if (here && stray.length === 0) return null;
  if (here) {
    await tx.run(`DELETE FROM allocations WHERE consumer_uuid = ? AND node_uuid IN ${inList(stray.length)}`, [inst.uuid, ...stray]);
    return { removed: stray.length, created: 0, moved: 0, nodes: stray, what: (w) => `removed stray allocations of instance ${inst.uuid} on ${stray.map(w).join(', ')} (it is on ${w(node)})` };
  }
  if (stray.length) {
    const [from, ...rest] = stray;
    await tx.run('UPDATE allocations SET node_uuid = ? WHERE consumer_uuid = ? AND node_uuid = ?', [node, inst.uuid, from]);
    if (rest.length) await tx.run(`DELETE FROM allocations WHERE consumer_uuid = ? AND node_uuid IN ${inList(rest.length)}`, [inst.uuid, ...rest]);
    const over = await overCapacity(tx, node);
    return {
      removed: rest.length,
      created: 0,
      moved: 1,
      nodes: [node, ...stray],
      what: (w) => `moved the allocation of instance ${inst.uuid} from ${w(from)} to ${w(node)}, where it runs${over ? `; ${w(node)} is now over capacity (${over})` : ''}`,
    };
  }
  const flavor = json<FlavorSnapshot | null>(inst.flavor, null);
  if (!flavor) return null;
  const r = flavorResources(flavor);
  await tx.run(
    'INSERT INTO allocations (consumer_uuid, node_uuid, vcpus, memory_mb, disk_gb, project_id, user_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    [inst.uuid, node, r.vcpus, r.memory_mb, r.disk_gb, inst.project_id, inst.user_id, nowIso()],
  );
  const over = await overCapacity(tx, node);
  return {
    removed: 0,
    created: 1,
    moved: 0,
    nodes: [node],
    what: (w) =>
      `created the missing allocation of instance ${inst.uuid} on ${w(node)} (${r.vcpus} VCPU, ${r.memory_mb} MB, ${r.disk_gb} GB)` +
      (over ? `; ${w(node)} is now over capacity (${over})` : ''),
  };
}

/** What is over capacity on the node, e.g. "memory 4608 MB used of 4096 MB", or null. */
async function overCapacity(tx: Sql, nodeUuid: string): Promise<string | null> {
  const n = await tx.get<NodeRow>('SELECT * FROM compute_nodes WHERE uuid = ?', [nodeUuid]);
  if (!n) return null;
  const cap = nodeCapacity(n);
  const used = await nodeUsage(tx, nodeUuid);
  const words = { vcpus: ['VCPU', ''], memory_mb: ['memory', ' MB'], disk_gb: ['disk', ' GB'] } as const;
  const over = RESOURCE_KINDS.filter((k) => used[k] > cap[k]).map((k) => `${words[k][0]} ${used[k]}${words[k][1]} used of ${cap[k]}${words[k][1]}`);
  return over.length ? over.join(', ') : null;
}
