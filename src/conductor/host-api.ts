/**
 * The DB access compute hosts get through the conductor (they never touch the DB). Each
 * function validates what it receives and is safe to retry.
 */
import { addInstanceFault, finishActionEvent, softDeleteInstance, startActionEvent, updateInstance, type InstancePatch, type InstanceRow } from '../db/instances.js';
import { inList, type Sql } from '../db/sql.js';
import { invalid } from '../errors.js';
import type { InstancePayload } from '../virt/driver.js';
import type { ConductorContext } from './context.js';
import { instancePayload, instancePayloads } from './payload.js';
import { softDeleteBdms } from './bdms.js';

/** Columns a compute host may write, with their kind. JSON columns accept objects (stringified here). */
const WRITABLE: Record<string, 'string' | 'number' | 'json'> = {
  vm_state: 'string',
  task_state: 'string',
  power_state: 'number',
  host: 'string',
  node: 'string',
  launched_on: 'string',
  launched_at: 'string',
  terminated_at: 'string',
  progress: 'number',
  image_ref: 'string',
  root_device_name: 'string',
  access_ip_v4: 'string',
  access_ip_v6: 'string',
  network_info: 'json',
  block_devices: 'json',
  flavor: 'json',
  old_flavor: 'json',
  new_flavor: 'json',
  flavor_id: 'number',
  vcpus: 'number',
  memory_mb: 'number',
  root_gb: 'number',
  ephemeral_gb: 'number',
};

export function checkPatch(updates: unknown): InstancePatch {
  if (!updates || typeof updates !== 'object' || Array.isArray(updates)) throw invalid('instance_update: updates must be an object.');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(updates)) {
    const kind = WRITABLE[k];
    if (!kind) throw invalid(`instance_update: column '${k}' cannot be written by a compute host.`);
    if (v === null) out[k] = null;
    else if (kind === 'json') out[k] = typeof v === 'string' ? v : JSON.stringify(v);
    else if (typeof v !== kind) throw invalid(`instance_update: ${k} must be a ${kind} or null.`);
    else out[k] = v;
  }
  return out as InstancePatch;
}

export async function instanceUpdate(sql: Sql, a: { uuid: string; updates: unknown; expect_task_state?: (string | null)[]; expect_host?: string }): Promise<InstancePayload> {
  const row = await updateInstance(sql, a.uuid, checkPatch(a.updates), {
    ...(a.expect_task_state ? { expectTaskState: a.expect_task_state } : {}),
    ...(a.expect_host !== undefined ? { expectHost: a.expect_host } : {}),
  });
  return instancePayload(sql, row);
}

export async function actionEventStart(sql: Sql, a: { uuid: string; request_id: string; event: string; host: string }): Promise<void> {
  await startActionEvent(sql, { uuid: a.uuid, requestId: a.request_id, event: a.event, host: a.host });
}

export async function actionEventFinish(sql: Sql, a: { uuid: string; request_id: string; event: string; result: 'Success' | 'Error'; details?: string }): Promise<void> {
  if (a.result !== 'Success' && a.result !== 'Error') throw invalid("action_event_finish: result must be 'Success' or 'Error'.");
  await finishActionEvent(sql, { uuid: a.uuid, requestId: a.request_id, event: a.event, result: a.result, details: a.details ?? null });
}

export async function instanceFaultCreate(sql: Sql, a: { uuid: string; code: number; message: string; details?: string; host: string }): Promise<void> {
  await addInstanceFault(sql, a.uuid, { code: Number(a.code) || 500, message: String(a.message), details: a.details, host: a.host });
}

/**
 * The guest is gone from its host: soft-delete the instance (deleted = id, vm_state deleted,
 * deleted_at/terminated_at now), free its allocations and those of any unfinished migration,
 * soft-delete its block device mappings (the host released their volumes before).
 * Idempotent: an already deleted instance is left as it is.
 */
export async function instanceDestroyed(ctx: ConductorContext, a: { uuid: string }): Promise<void> {
  const freed = await softDeleteInstance(ctx.sql, a.uuid);
  await softDeleteBdms(ctx.sql, a.uuid);
  if (freed) ctx.hostStateChanged(freed);
}

/** Of uuids, those with no live instance row but a deleted one. */
export async function deletedInstances(sql: Sql, uuids: string[]): Promise<string[]> {
  if (uuids.length === 0) return [];
  const rows = await sql.all<{ uuid: string }>(
    `SELECT uuid FROM instances WHERE uuid IN ${inList(uuids.length)} AND deleted <> 0
       AND uuid NOT IN (SELECT uuid FROM instances WHERE uuid IN ${inList(uuids.length)} AND deleted = 0)`,
    [...uuids, ...uuids],
  );
  return [...new Set(rows.map((r) => r.uuid))];
}

export async function instancesOnHost(sql: Sql, host: string): Promise<InstancePayload[]> {
  const rows = await sql.all<InstanceRow>('SELECT * FROM instances WHERE host = ? AND deleted = 0', [host]);
  return instancePayloads(sql, rows);
}
