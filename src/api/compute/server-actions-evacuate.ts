/**
 * evacuate: rebuild a server of a failed host on another host (Nova's os-evacuate action).
 *
 * As Nova: admin only (os_compute_api:os-evacuate); the body per microversion (onSharedStorage
 * required below 2.14 and gone from it; force from 2.29 to 2.67; adminPass generated when
 * absent); a named host must run a nova-compute service (404 "Compute host X not found.") and
 * differ from the server's (400); the server must be ACTIVE, STOPPED or ERROR with no task
 * (409); the server's own compute service must be down or forced down (400 "Compute service of
 * X is still in use."). Then, in one transaction: task_state rebuilding, a migration of type
 * 'evacuation' in status 'accepted', the 'evacuate' instance action; the conductor schedules
 * and drives the rest (src/conductor/evacuate.ts). Answers 200 with {adminPass} below 2.14,
 * 200 without a body from 2.14.
 */
import { conflict, invalid, notFound } from '../../errors.js';
import { startAction, updateInstance } from '../../db/instances.js';
import { ctxOf } from '../../http/types.js';
import { ConductorRpcApi } from '../../conductor/rpcapi.js';
import { TaskState as T, VmState as V } from '../../compute/vm-states.js';
import { uuid as newUuid } from '../../util/ids.js';
import { nowIso } from '../../util/time.js';
import { requireAdmin } from '../policy.js';
import type { Microversion } from '../../http/microversion.js';
import { actionBody, type ActionHandler } from './server-action-flow.js';
import { checkState, loadServer } from './server-access.js';
import { booleanLike, toBool } from './flavor-schemas.js';
import { newAdminPass } from './server-hostname.js';
import { isServiceUp, listServiceRows, serviceDownTime } from './service-state.js';

export const EVACUATE_POLICY = 'os_compute_api:os-evacuate';

/** Nova's parameter_types.fqdn-ish host name (what `host` accepts). */
const hostName = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9_.:-]+$' };
const adminPass = { type: 'string' };

/** The evacuate body schema at microversion mv (Nova's evacuate, _v214, _v2_29, _v2_68). */
export function evacuateSchema(mv: Microversion): object {
  const properties: Record<string, object> = { host: hostName, adminPass };
  const required: string[] = [];
  if (!mv.atLeast('2.14')) {
    properties.onSharedStorage = booleanLike;
    required.push('onSharedStorage');
  } else if (mv.atLeast('2.29') && !mv.atLeast('2.68')) properties.force = booleanLike;
  return { type: 'object', properties, required, additionalProperties: false };
}

interface EvacuateBody {
  host?: string;
  adminPass?: string;
  onSharedStorage?: boolean | string;
  force?: boolean | string;
}

const evacuate: ActionHandler = async (deps, req, value) => {
  const ctx = ctxOf(req);
  const body = actionBody<EvacuateBody>('evacuate', evacuateSchema(req.mv), value);
  const cur = await loadServer(deps.sql, ctx, req.params.id);
  requireAdmin(ctx, EVACUATE_POLICY);

  const host = body.host ?? null;
  const force = req.mv.atLeast('2.29') && !req.mv.atLeast('2.68') && body.force !== undefined ? toBool(body.force) : false;
  if (force && !host) throw invalid("Can't force to a non-provided destination");
  let password: string;
  if (!req.mv.atLeast('2.14')) {
    const shared = toBool(body.onSharedStorage);
    if (body.adminPass !== undefined && shared) throw invalid("admin password can't be changed on existing disk");
    // On shared storage Nova keeps the old password and answers none; nova-ts has no shared
    // storage, so a password is always made.
    password = body.adminPass ?? newAdminPass();
  } else password = body.adminPass ?? newAdminPass();

  if (host !== null) {
    const [svc] = await listServiceRows(deps.sql, { host, binary: 'nova-compute' });
    if (!svc) throw notFound(`Compute host ${host} not found.`);
  }
  if (!cur.host) throw conflict(`Cannot 'evacuate' instance ${cur.uuid}: it is on no host (it was never scheduled).`);
  if (cur.host === host) throw invalid("The target host can't be the same one.");
  checkState(cur, 'evacuate', [V.ACTIVE, V.STOPPED, V.ERROR], [null]);
  const [source] = await listServiceRows(deps.sql, { host: cur.host, binary: 'nova-compute' });
  if (source && isServiceUp(source, serviceDownTime(deps.config))) throw invalid(`Compute service of ${cur.host} is still in use.`);

  const migrationUuid = newUuid();
  await deps.sql.tx(async (tx) => {
    await updateInstance(tx, cur.uuid, { task_state: T.REBUILDING }, { expectTaskState: [null], expectVmState: [V.ACTIVE, V.STOPPED, V.ERROR] }).catch(() => {
      throw conflict(`Cannot 'evacuate' instance ${cur.uuid}: another operation changed its state first.`);
    });
    const now = nowIso();
    await tx.run(
      `INSERT INTO migrations (uuid, instance_uuid, migration_type, source_compute, source_node, dest_compute, old_flavor_id, new_flavor_id, status,
        project_id, user_id, created_at, updated_at) VALUES (?, ?, 'evacuation', ?, ?, ?, ?, ?, 'accepted', ?, ?, ?, ?)`,
      [migrationUuid, cur.uuid, cur.host, cur.node, host, cur.flavor_id, cur.flavor_id, cur.project_id, ctx.userId, now, now],
    );
    await startAction(tx, { uuid: cur.uuid, action: 'evacuate', requestId: req.requestId, userId: ctx.userId, projectId: cur.project_id });
  });
  await new ConductorRpcApi(deps.bus).evacuateInstance({
    instance_uuid: cur.uuid,
    migration_uuid: migrationUuid,
    request_id: req.requestId,
    host,
    force,
    admin_password: password,
  });
  return req.mv.atLeast('2.14') ? { status: 200 } : { status: 200, body: { adminPass: password } };
};

export const evacuateActions: Record<string, ActionHandler> = { evacuate };
