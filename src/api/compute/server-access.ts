/**
 * Shared guards of the server APIs: loading a server as the caller may see it, Nova's
 * lock and state checks, and the way casts to a compute host get the instance payload.
 */
import { conflict, invalidState, notFound } from '../../errors.js';
import { getInstance, type InstanceRow } from '../../db/instances.js';
import type { Sql } from '../../db/sql.js';
import type { RequestContext } from '../../http/types.js';
import { ownsOrAdmin } from '../policy.js';
import { isUuidLike } from '../../util/ids.js';
import type { InstancePayload } from '../../virt/driver.js';

/**
 * The server if ctx may see it; NotFound in Nova's words otherwise (other projects' servers
 * are 404, never 403). readDeleted also finds soft-deleted rows (instance actions).
 */
export async function loadServer(sql: Sql, ctx: RequestContext, id: string, opts: { readDeleted?: boolean } = {}): Promise<InstanceRow> {
  if (!isUuidLike(id)) throw notFound(`Instance ${id} could not be found.`);
  const row = await getInstance(sql, id, opts).catch(() => undefined);
  if (!row || !ownsOrAdmin(ctx, row.project_id)) throw notFound(`Instance ${id} could not be found.`);
  return row;
}

/** Nova's check_instance_lock: 409 for a locked server unless the caller is an admin. */
export function checkNotLocked(ctx: RequestContext, row: InstanceRow): void {
  if (row.locked && !ctx.isAdmin) throw conflict(`Instance ${row.uuid} is locked`);
}

/**
 * Nova's check_instance_state: vmStates (undefined: any) and taskStates (undefined: any;
 * the default of most actions is [null]). 409 naming the state that blocked the action.
 */
export function checkState(
  row: InstanceRow,
  action: string,
  vmStates: string[] | undefined,
  taskStates: (string | null)[] | undefined = [null],
): void {
  if (vmStates && !vmStates.includes(row.vm_state)) throw invalidState(action, row.uuid, 'vm_state', row.vm_state);
  if (taskStates && !taskStates.includes(row.task_state)) throw invalidState(action, row.uuid, 'task_state', String(row.task_state));
}

type PayloadFn = (sql: Sql, row: InstanceRow) => Promise<InstancePayload>;
let payloadFn: PayloadFn | undefined;

/**
 * The instance payload for ComputeRpcApi casts, built by the conductor's payload module
 * (owned by the back end). Loaded lazily so the API keeps serving while that module lands.
 */
export async function payloadOf(sql: Sql, row: InstanceRow): Promise<InstancePayload> {
  if (!payloadFn) {
    const modPath = '../../conductor/payload.js';
    const mod = (await import(modPath)) as { instancePayload: PayloadFn };
    payloadFn = mod.instancePayload;
  }
  return payloadFn(sql, row);
}
