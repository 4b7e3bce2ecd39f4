/**
 * The common flow of a state-changing server action: policy, lock, Nova's state table, and a
 * compare-and-set of task_state together with the action record in one transaction. The
 * caller casts afterwards.
 */
import { conflict, isNovaError } from '../../errors.js';
import { startAction, updateInstance, type InstancePatch, type InstanceRow } from '../../db/instances.js';
import { ctxOf, type ApiRequest, type ApiResponse } from '../../http/types.js';
import { validate } from '../../http/validate.js';
import { requireWriter } from '../policy.js';
import type { ComputeApiDeps } from './deps.js';
import { checkNotLocked, checkState, loadServer } from './server-access.js';

/** An action handler: gets the action's own value (body[actionName]). */
export type ActionHandler = (deps: ComputeApiDeps, req: ApiRequest, value: unknown) => Promise<ApiResponse>;

/** Validates an action's value against schema (wrapped in its action name for the message). */
export function actionBody<T>(name: string, schema: object, value: unknown): T {
  return validate<Record<string, T>>(
    { type: 'object', properties: { [name]: schema }, required: [name], additionalProperties: false },
    { [name]: value },
  )[name];
}

export interface StateChange {
  /** Name in Nova's messages and in the instance action record. */
  action: string;
  policy: string;
  vmStates?: string[];
  taskStates?: (string | null)[];
  patch: InstancePatch;
  /** Skip the lock check (lock/unlock, admin reset). */
  ignoreLock?: boolean;
}

/**
 * Runs the common checks and the guarded update, recording the action; returns the updated
 * row for the caller to cast. Racing actions: only one passes the task_state compare-and-set,
 * the other gets 409.
 */
export async function changeState(deps: ComputeApiDeps, req: ApiRequest, c: StateChange, row?: InstanceRow): Promise<InstanceRow> {
  const ctx = ctxOf(req);
  requireWriter(ctx, c.policy);
  const cur = row ?? (await loadServer(deps.sql, ctx, req.params.id));
  if (!c.ignoreLock) checkNotLocked(ctx, cur);
  checkState(cur, c.action, c.vmStates, c.taskStates);
  return deps.sql.tx(async (tx) => {
    const updated = await updateInstance(tx, cur.uuid, c.patch, {
      ...(c.taskStates ? { expectTaskState: c.taskStates } : {}),
      ...(c.vmStates ? { expectVmState: c.vmStates } : {}),
    }).catch((e) => {
      throw isNovaError(e) && e.kind === 'Conflict' ? invalidStateNow(c.action, cur.uuid) : e;
    });
    await startAction(tx, { uuid: cur.uuid, action: c.action, requestId: req.requestId, userId: ctx.userId, projectId: cur.project_id });
    return updated;
  });
}

/** The 409 of the loser of a race on task_state. */
function invalidStateNow(action: string, uuid: string) {
  return conflict(`Cannot '${action}' instance ${uuid}: another operation changed its state first.`);
}
