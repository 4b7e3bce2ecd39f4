import { conflict, notFound } from '../errors.js';
import { nowIso } from '../util/time.js';
import { inList, json, type Sql, type SqlValue } from './sql.js';
import type { FlavorSnapshot } from '../objects/flavor.js';

export type { FlavorSnapshot };

/** One row of `instances`, as stored (JSON columns still text). */
export interface InstanceRow {
  id: number;
  uuid: string;
  project_id: string;
  user_id: string;
  display_name: string;
  display_description: string | null;
  hostname: string | null;
  host: string | null;
  node: string | null;
  launched_on: string | null;
  availability_zone: string | null;
  flavor_id: number;
  flavor: string;
  old_flavor: string | null;
  new_flavor: string | null;
  image_ref: string | null;
  kernel_id: string | null;
  ramdisk_id: string | null;
  key_name: string | null;
  key_data: string | null;
  user_data: string | null;
  config_drive: string;
  vm_state: string;
  task_state: string | null;
  power_state: number;
  memory_mb: number;
  vcpus: number;
  root_gb: number;
  ephemeral_gb: number;
  access_ip_v4: string | null;
  access_ip_v6: string | null;
  auto_disk_config: number;
  locked: number;
  locked_by: string | null;
  locked_reason: string | null;
  progress: number;
  launch_index: number;
  reservation_id: string;
  root_device_name: string | null;
  os_type: string | null;
  security_groups: string;
  requested_networks: string;
  network_info: string;
  block_devices: string;
  system_metadata: string;
  scheduler_hints: string;
  trusted_image_certificates: string | null;
  hidden: number;
  created_at: string;
  updated_at: string;
  launched_at: string | null;
  terminated_at: string | null;
  deleted_at: string | null;
  deleted: number;
}

/** Columns a caller may change with updateInstance (never id, uuid, created_at, deleted). */
export type InstancePatch = Partial<Omit<InstanceRow, 'id' | 'uuid' | 'created_at' | 'deleted'>>;

export const flavorOf = (row: Pick<InstanceRow, 'flavor'>): FlavorSnapshot => json<FlavorSnapshot>(row.flavor, null as never);

/** The live (not deleted) instance, or NotFound in Nova's words. */
export async function getInstance(sql: Sql, uuid: string, opts: { readDeleted?: boolean } = {}): Promise<InstanceRow> {
  const row = await sql.get<InstanceRow>(
    `SELECT * FROM instances WHERE uuid = ?${opts.readDeleted ? '' : ' AND deleted = 0'}`,
    [uuid],
  );
  if (!row) throw notFound(`Instance ${uuid} could not be found.`);
  return row;
}

/**
 * Updates an instance and bumps updated_at. With `expectTaskState` the write happens only if
 * the current task_state is one of those values (compare-and-set); otherwise Conflict, with the
 * state actually found, so racing actions cannot both proceed. `expectHost` likewise: only
 * while the instance is (still) on that host.
 */
export async function updateInstance(
  sql: Sql,
  uuid: string,
  patch: InstancePatch,
  opts: { expectTaskState?: (string | null)[]; expectVmState?: string[]; expectHost?: string } = {},
): Promise<InstanceRow> {
  const cols = Object.keys(patch).filter((k) => (patch as any)[k] !== undefined);
  const sets = [...cols.map((c) => `${c} = ?`), 'updated_at = ?'];
  const params: SqlValue[] = [...cols.map((c) => (patch as any)[c] as SqlValue), patch.updated_at ?? nowIso()];
  let where = 'uuid = ? AND deleted = 0';
  params.push(uuid);
  if (opts.expectTaskState) {
    const nonNull = opts.expectTaskState.filter((s): s is string => s !== null);
    const parts = nonNull.map(() => 'task_state = ?');
    if (opts.expectTaskState.includes(null)) parts.push('task_state IS NULL');
    where += ` AND (${parts.join(' OR ') || '1 = 0'})`;
    params.push(...nonNull);
  }
  if (opts.expectVmState) {
    where += ` AND vm_state IN (${opts.expectVmState.map(() => '?').join(', ')})`;
    params.push(...opts.expectVmState);
  }
  if (opts.expectHost !== undefined) {
    where += ' AND host = ?';
    params.push(opts.expectHost);
  }
  const r = await sql.run(`UPDATE instances SET ${sets.join(', ')} WHERE ${where}`, params);
  if (r.changes === 0) {
    const cur = await getInstance(sql, uuid);
    throw conflict(
      `Conflict updating instance ${uuid}: expected task_state ${JSON.stringify(opts.expectTaskState ?? null)}` +
        `${opts.expectVmState ? ` and vm_state ${JSON.stringify(opts.expectVmState)}` : ''}` +
        `${opts.expectHost !== undefined ? ` on host ${opts.expectHost}` : ''}, ` +
        `found task_state ${cur.task_state} and vm_state ${cur.vm_state}${opts.expectHost !== undefined ? ` on host ${cur.host}` : ''}.`,
    );
  }
  return getInstance(sql, uuid);
}

/** Records a fault on an instance (shown as `fault` in the server view while in ERROR). */
export async function addInstanceFault(
  sql: Sql,
  uuid: string,
  fault: { code: number; message: string; details?: string; host?: string | null },
): Promise<void> {
  await sql.run('INSERT INTO instance_faults (instance_uuid, code, message, details, host, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
    uuid,
    fault.code,
    fault.message.slice(0, 255),
    fault.details ?? '',
    fault.host ?? null,
    nowIso(),
  ]);
}

/** Starts an instance action (os-instance-actions); returns its id. */
export async function startAction(
  sql: Sql,
  a: { uuid: string; action: string; requestId: string; userId: string | null; projectId: string | null },
): Promise<number> {
  const now = nowIso();
  const row = await sql.get<{ id: number }>(
    'INSERT INTO instance_actions (action, instance_uuid, request_id, user_id, project_id, start_time, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id',
    [a.action, a.uuid, a.requestId, a.userId, a.projectId, now, now],
  );
  return row!.id;
}

/** Starts an event of the newest action with requestId on the instance, in one transaction. */
export async function startActionEvent(
  sql: Sql,
  e: { uuid: string; requestId: string; event: string; host?: string | null },
): Promise<void> {
  await sql.tx((tx) => startEvent(tx, e));
}

async function startEvent(sql: Sql, e: { uuid: string; requestId: string; event: string; host?: string | null }): Promise<void> {
  const action = await sql.get<{ id: number }>(
    'SELECT id FROM instance_actions WHERE instance_uuid = ? AND request_id = ? ORDER BY id DESC LIMIT 1',
    [e.uuid, e.requestId],
  );
  if (!action) return;
  const now = nowIso();
  await sql.run('INSERT INTO instance_action_events (action_id, event, start_time, host) VALUES (?, ?, ?, ?)', [
    action.id,
    e.event,
    now,
    e.host ?? null,
  ]);
  await sql.run('UPDATE instance_actions SET updated_at = ? WHERE id = ?', [now, action.id]);
}

/**
 * Finishes an event (result 'Success' or 'Error'); with an error the action's message becomes
 * 'Error' as in Nova, and the traceback (admin-only) holds `traceback`, else the details.
 */
export async function finishActionEvent(
  sql: Sql,
  e: { uuid: string; requestId: string; event: string; result: 'Success' | 'Error'; details?: string | null; traceback?: string | null },
): Promise<void> {
  await sql.tx((tx) => finishEvent(tx, e));
}

async function finishEvent(
  sql: Sql,
  e: { uuid: string; requestId: string; event: string; result: 'Success' | 'Error'; details?: string | null; traceback?: string | null },
): Promise<void> {
  const action = await sql.get<{ id: number }>(
    'SELECT id FROM instance_actions WHERE instance_uuid = ? AND request_id = ? ORDER BY id DESC LIMIT 1',
    [e.uuid, e.requestId],
  );
  if (!action) return;
  const now = nowIso();
  const ev = await sql.get<{ id: number }>(
    'SELECT id FROM instance_action_events WHERE action_id = ? AND event = ? AND finish_time IS NULL ORDER BY id DESC LIMIT 1',
    [action.id, e.event],
  );
  if (ev)
    await sql.run('UPDATE instance_action_events SET finish_time = ?, result = ?, details = ?, traceback = ? WHERE id = ?', [
      now,
      e.result,
      e.details ?? null,
      e.result === 'Error' ? (e.traceback ?? e.details ?? null) : null,
      ev.id,
    ]);
  else
    await sql.run(
      'INSERT INTO instance_action_events (action_id, event, start_time, finish_time, result, details, traceback) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [action.id, e.event, now, now, e.result, e.details ?? null, e.result === 'Error' ? (e.traceback ?? e.details ?? null) : null],
    );
  await sql.run(
    `UPDATE instance_actions SET updated_at = ?, finish_time = ?${e.result === 'Error' ? ", message = 'Error'" : ''} WHERE id = ?`,
    [now, now, action.id],
  );
}

/**
 * Soft-deletes an instance (vm_state deleted, deleted = id) and, in the same transaction, frees
 * its allocations and those of its unfinished migrations (which are marked error), and revokes
 * its console tokens. With onlyUnscheduled, only while no host has it. Answers the compute nodes whose resources were
 * freed, or null when nothing was deleted (already deleted, or a host claimed it meanwhile).
 */
export async function softDeleteInstance(sql: Sql, uuid: string, opts: { onlyUnscheduled?: boolean } = {}): Promise<string[] | null> {
  return sql.tx(async (tx) => {
    const now = nowIso();
    const r = await tx.run(
      `UPDATE instances SET deleted = id, deleted_at = ?, terminated_at = ?, updated_at = ?, vm_state = 'deleted', task_state = NULL,
         power_state = 0 WHERE uuid = ? AND deleted = 0${opts.onlyUnscheduled ? ' AND host IS NULL' : ''}`,
      [now, now, now, uuid],
    );
    if (r.changes === 0) return null;
    // Console tokens never outlive their instance (the console proxy also checks it exists).
    await tx.run('DELETE FROM console_auth_tokens WHERE instance_uuid = ?', [uuid]);
    const migrations = (
      await tx.all<{ uuid: string }>(
        "SELECT uuid FROM migrations WHERE instance_uuid = ? AND status NOT IN ('confirmed', 'reverted', 'error', 'failed')",
        [uuid],
      )
    ).map((m) => m.uuid);
    for (const m of migrations) await tx.run("UPDATE migrations SET status = 'error', updated_at = ? WHERE uuid = ?", [now, m]);
    const consumers = [uuid, ...migrations];
    const nodes = await tx.all<{ node_uuid: string }>(`SELECT DISTINCT node_uuid FROM allocations WHERE consumer_uuid IN ${inList(consumers.length)}`, consumers);
    await tx.run(`DELETE FROM allocations WHERE consumer_uuid IN ${inList(consumers.length)}`, consumers);
    return nodes.map((n) => n.node_uuid);
  });
}
