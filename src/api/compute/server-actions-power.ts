/**
 * Power and administrative actions: reboot, os-stop, os-start, pause, unpause, suspend,
 * resume, lock, unlock, os-resetState, os-getConsoleOutput, forceDelete. Allowed states are
 * Nova's (compute/api.py check_instance_state), e.g. os-stop only while active or error.
 */
import { conflict, invalid, invalidState, policyForbidden } from '../../errors.js';
import { startAction, updateInstance } from '../../db/instances.js';
import { ctxOf, type ApiRequest, type ApiResponse } from '../../http/types.js';
import { ComputeRpcApi, type ActionArgs } from '../../compute/rpcapi.js';
import { TaskState as T, VmState as V } from '../../compute/vm-states.js';
import { requireAdmin, requireWriter } from '../policy.js';
import type { ComputeApiDeps } from './deps.js';
import { actionBody, changeState, type ActionHandler } from './server-action-flow.js';
import { loadServer, payloadOf } from './server-access.js';
import { deleteServer } from './servers.js';
import type { InstanceRow } from '../../db/instances.js';

const ALLOW_SOFT_REBOOT = [V.ACTIVE];
const ALLOW_HARD_REBOOT = [V.ACTIVE, V.STOPPED, V.PAUSED, V.SUSPENDED, V.ERROR];
const ALLOW_REBOOT_TASKS = [null, T.REBOOTING, T.REBOOT_PENDING, T.REBOOT_STARTED, T.REBOOTING_HARD, T.RESUMING, T.UNPAUSING, T.PAUSING, T.SUSPENDING];

type Cast = (api: ComputeRpcApi, host: string, args: ActionArgs) => Promise<void>;

async function castTo(deps: ComputeApiDeps, req: ApiRequest, row: InstanceRow, fn: Cast): Promise<ApiResponse> {
  if (row.host) await fn(new ComputeRpcApi(deps.bus), row.host, { instance: await payloadOf(deps.sql, row), request_id: req.requestId });
  return { status: 202 };
}

/** A plain state transition: Nova's allowed vm_states with task_state None, then a cast. */
function simple(action: string, policy: string, vmStates: string[], task: string, fn: Cast): ActionHandler {
  return async (deps, req, value) => {
    if (value !== null && (typeof value !== 'object' || Array.isArray(value) || Object.keys(value as object).length))
      actionBody(action, { type: ['object', 'null'], additionalProperties: false }, value);
    const row = await changeState(deps, req, { action, policy, vmStates, taskStates: [null], patch: { task_state: task } });
    return castTo(deps, req, row, fn);
  };
}

const reboot: ActionHandler = async (deps, req, value) => {
  const body = actionBody<{ type: string }>('reboot', {
    type: 'object',
    properties: { type: { type: 'string', enum: ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft'] } },
    required: ['type'],
    additionalProperties: false,
  }, value);
  const hard = body.type.toUpperCase() === 'HARD';
  const ctx = ctxOf(req);
  requireWriter(ctx, 'os_compute_api:servers:reboot');
  const cur = await loadServer(deps.sql, ctx, req.params.id);
  const row = await changeState(deps, req, {
    action: 'reboot',
    policy: 'os_compute_api:servers:reboot',
    vmStates: hard ? ALLOW_HARD_REBOOT : ALLOW_SOFT_REBOOT,
    taskStates: hard ? ALLOW_REBOOT_TASKS : [null],
    patch: { task_state: hard ? T.REBOOTING_HARD : T.REBOOTING },
  }, cur);
  return castTo(deps, req, row, (api, host, args) => api.rebootInstance(host, { ...args, reboot_type: hard ? 'HARD' : 'SOFT' }));
};

const lock: ActionHandler = async (deps, req, value) => {
  const schema = req.mv.atLeast('2.73')
    ? { type: ['object', 'null'], properties: { locked_reason: { type: 'string', minLength: 1, maxLength: 255 } }, additionalProperties: false }
    : { type: ['object', 'null'] };
  const body = actionBody<{ locked_reason?: string } | null>('lock', schema, value);
  const ctx = ctxOf(req);
  const cur = await loadServer(deps.sql, ctx, req.params.id);
  await changeState(deps, req, {
    action: 'lock',
    policy: 'os_compute_api:os-lock-server:lock',
    ignoreLock: true,
    taskStates: undefined,
    patch: { locked: 1, locked_by: ctx.projectId === cur.project_id ? 'owner' : 'admin', locked_reason: body?.locked_reason ?? null },
  }, cur);
  return { status: 202 };
};

const unlock: ActionHandler = async (deps, req, value) => {
  actionBody('unlock', { type: ['object', 'null'] }, value);
  const ctx = ctxOf(req);
  const cur = await loadServer(deps.sql, ctx, req.params.id);
  const expected = ctx.projectId === cur.project_id ? 'owner' : 'admin';
  if (cur.locked && cur.locked_by !== expected && !ctx.isAdmin) throw policyForbidden('os_compute_api:os-lock-server:unlock:unlock_override');
  await changeState(deps, req, {
    action: 'unlock',
    policy: 'os_compute_api:os-lock-server:unlock',
    ignoreLock: true,
    taskStates: undefined,
    patch: { locked: 0, locked_by: null, locked_reason: null },
  }, cur);
  return { status: 202 };
};

const resetState: ActionHandler = async (deps, req, value) => {
  const ctx = ctxOf(req);
  requireAdmin(ctx, 'os_compute_api:os-admin-actions:reset_state');
  const body = actionBody<{ state: string }>('os-resetState', {
    type: 'object',
    properties: { state: { type: 'string', enum: ['active', 'error'] } },
    required: ['state'],
    additionalProperties: false,
  }, value);
  const cur = await loadServer(deps.sql, ctx, req.params.id);
  await deps.sql.tx(async (tx) => {
    await updateInstance(tx, cur.uuid, { vm_state: body.state, task_state: null });
    await startAction(tx, { uuid: cur.uuid, action: 'resetState', requestId: req.requestId, userId: ctx.userId, projectId: cur.project_id });
  });
  return { status: 202 };
};

const consoleOutput: ActionHandler = async (deps, req, value) => {
  const body = actionBody<{ length?: number | string | null } | null>('os-getConsoleOutput', {
    type: ['object', 'null'],
    properties: { length: { type: ['integer', 'string', 'null'], pattern: '^-?[0-9]+$' } },
    additionalProperties: false,
  }, value);
  const ctx = ctxOf(req);
  // Nova's default rule is member-or-admin: a reader may not read the console.
  requireWriter(ctx, 'os_compute_api:os-console-output');
  const cur = await loadServer(deps.sql, ctx, req.params.id);
  let length: number | undefined;
  if (body?.length !== undefined && body.length !== null) {
    length = Number(body.length);
    if (length < -1) throw invalid(`Invalid input for field/attribute length. Value: ${body.length}. ${body.length} is less than the minimum of -1`);
    if (length === -1) length = undefined;
  }
  if (!cur.host || cur.vm_state === V.BUILDING) throw conflict(`Instance ${cur.uuid} is not ready`);
  const output = await new ComputeRpcApi(deps.bus).getConsoleOutput(cur.host, { instance: await payloadOf(deps.sql, cur), ...(length !== undefined ? { length } : {}) });
  return { status: 200, body: { output: length !== undefined ? tailLog(output, length) : output } };
};

/**
 * Nova's _tail_log: the last `length` pieces of the log split on newlines, so a log ending in
 * a newline counts its empty last piece (length 3 of "a\nb\nc\n" is "b\nc\n"); 0 keeps it all,
 * as Python's lines[-0:]. Idempotent over a host that already tailed by lines.
 */
export function tailLog(log: string, length: number): string {
  if (length <= 0) return log;
  return log.split('\n').slice(-length).join('\n');
}

const forceDelete: ActionHandler = async (deps, req, value) => {
  actionBody('forceDelete', { type: ['object', 'null'] }, value);
  const ctx = ctxOf(req);
  requireWriter(ctx, 'os_compute_api:os-deferred-delete:force');
  const cur = await loadServer(deps.sql, ctx, req.params.id);
  if (cur.locked && !ctx.isAdmin) throw conflict(`Instance ${cur.uuid} is locked`);
  if (cur.vm_state !== V.SOFT_DELETED) throw invalidState('forceDelete', cur.uuid, 'vm_state', cur.vm_state);
  await deleteServer(deps, req, cur);
  return { status: 202 };
};

/**
 * restore (deferred delete): nova-ts deletes servers at once (Nova's reclaim_instance_interval
 * = 0), so no server is ever SOFT_DELETED and restore answers Nova's 409 for the state the
 * server is in (404 for one the caller cannot see, 409 when locked).
 */
const restore: ActionHandler = async (deps, req, value) => {
  actionBody('restore', { type: ['object', 'null'] }, value);
  const ctx = ctxOf(req);
  requireWriter(ctx, 'os_compute_api:os-deferred-delete:restore');
  const cur = await loadServer(deps.sql, ctx, req.params.id);
  if (cur.locked && !ctx.isAdmin) throw conflict(`Instance ${cur.uuid} is locked`);
  throw invalidState('restore', cur.uuid, 'vm_state', cur.vm_state);
};

export const powerActions: Record<string, ActionHandler> = {
  reboot,
  'os-stop': simple('stop', 'os_compute_api:servers:stop', [V.ACTIVE, V.ERROR], T.POWERING_OFF, (a, h, x) => a.stopInstance(h, x)),
  'os-start': simple('start', 'os_compute_api:servers:start', [V.STOPPED], T.POWERING_ON, (a, h, x) => a.startInstance(h, x)),
  pause: simple('pause', 'os_compute_api:os-pause-server:pause', [V.ACTIVE], T.PAUSING, (a, h, x) => a.pauseInstance(h, x)),
  unpause: simple('unpause', 'os_compute_api:os-pause-server:unpause', [V.PAUSED], T.UNPAUSING, (a, h, x) => a.unpauseInstance(h, x)),
  suspend: simple('suspend', 'os_compute_api:os-suspend-server:suspend', [V.ACTIVE], T.SUSPENDING, (a, h, x) => a.suspendInstance(h, x)),
  resume: simple('resume', 'os_compute_api:os-suspend-server:resume', [V.SUSPENDED], T.RESUMING, (a, h, x) => a.resumeInstance(h, x)),
  lock,
  unlock,
  'os-resetState': resetState,
  'os-getConsoleOutput': consoleOutput,
  forceDelete,
  restore,
};
