/**
 * shelve, shelveOffload and unshelve (Nova's os-shelve). With Nova's default
 * shelved_offload_time = 0 a shelve ends in SHELVED_OFFLOADED: the host powers the guest off,
 * snapshots an image-backed server into a new image `<name>-shelved` (made here, queued, as
 * Nova's API does), then offloads it (guest destroyed, claim released, no host). A
 * volume-backed server gets no image. unshelve: SHELVED powers on in place; SHELVED_OFFLOADED
 * goes through the conductor, which schedules it like a build (zone: the instance's, or the
 * one given at 2.77+; a host at 2.91, admin only). See src/compute/shelve.ts and
 * src/conductor/unshelve.ts for the rest.
 */
import { conflict, invalid, policyForbidden } from '../../errors.js';
import type { InstancePatch, InstanceRow } from '../../db/instances.js';
import { json } from '../../db/sql.js';
import { ctxOf } from '../../http/types.js';
import { ComputeRpcApi } from '../../compute/rpcapi.js';
import { ConductorRpcApi } from '../../conductor/rpcapi.js';
import { volumeBdmsOf } from '../../conductor/bdms.js';
import { ZONE_FROM_HOST_KEY } from '../../conductor/build.js';
import { TaskState as T, VmState as V } from '../../compute/vm-states.js';
import { requireWriter } from '../policy.js';
import type { ComputeApiDeps } from './deps.js';
import { actionBody, changeState, type ActionHandler } from './server-action-flow.js';
import { checkNotLocked, checkState, loadServer, payloadOf } from './server-access.js';
import { availabilityZones } from './server-lookups.js';
import { snapshotImageBody } from './server-actions-image.js';

const SHELVE_FROM = [V.ACTIVE, V.STOPPED, V.PAUSED, V.SUSPENDED];

const emptyBody = (action: string, value: unknown) => {
  if (value !== null && (typeof value !== 'object' || Array.isArray(value) || Object.keys(value as object).length))
    actionBody(action, { type: ['object', 'null'], additionalProperties: false }, value);
};

async function isVolumeBacked(deps: ComputeApiDeps, row: InstanceRow): Promise<boolean> {
  const bdms = (await volumeBdmsOf(deps.sql, [row.uuid])).get(row.uuid) ?? [];
  return bdms.some((b) => b.boot_index === 0) || !row.image_ref;
}

const shelve: ActionHandler = async (deps, req, value) => {
  emptyBody('shelve', value);
  const ctx = ctxOf(req);
  requireWriter(ctx, 'os_compute_api:os-shelve:shelve');
  const cur = await loadServer(deps.sql, ctx, req.params.id);
  checkNotLocked(ctx, cur);
  checkState(cur, 'shelve', SHELVE_FROM, [null]);
  if (!cur.host) throw conflict(`Instance ${cur.uuid} is not ready`);
  let imageId: string | null = null;
  if (!(await isVolumeBacked(deps, cur))) {
    const image = await deps.images.create(ctx, snapshotImageBody(cur, ctx, `${cur.display_name}-shelved`));
    imageId = image.id;
  }
  let row: InstanceRow;
  try {
    row = await changeState(deps, req, { action: 'shelve', policy: 'os_compute_api:os-shelve:shelve', vmStates: SHELVE_FROM, taskStates: [null], patch: { task_state: T.SHELVING } }, cur);
  } catch (e) {
    if (imageId) await deps.images.delete(ctx, imageId).catch(() => undefined);
    throw e;
  }
  await new ComputeRpcApi(deps.bus).shelveInstance(row.host!, { instance: await payloadOf(deps.sql, row), request_id: req.requestId, image_id: imageId, offload: true });
  return { status: 202 };
};

const shelveOffload: ActionHandler = async (deps, req, value) => {
  emptyBody('shelveOffload', value);
  const row = await changeState(deps, req, {
    action: 'shelveOffload',
    policy: 'os_compute_api:os-shelve:shelve_offload',
    vmStates: [V.SHELVED],
    taskStates: [null],
    patch: { task_state: T.SHELVING_OFFLOADING },
  });
  if (row.host) await new ComputeRpcApi(deps.bus).shelveOffloadInstance(row.host, { instance: await payloadOf(deps.sql, row), request_id: req.requestId });
  return { status: 202 };
};

/** Nova's unshelve schemas: null before 2.77; {availability_zone} at 2.77; zone (or null) and/or host at 2.91. */
function unshelveBody(req: Parameters<ActionHandler>[1], value: unknown): { availability_zone?: string | null; host?: string } {
  if (!req.mv.atLeast('2.77') || value === null) return {};
  const az = { type: 'string', minLength: 1, maxLength: 255 };
  if (!req.mv.atLeast('2.91'))
    return actionBody('unshelve', { type: ['object', 'null'], properties: { availability_zone: az }, required: ['availability_zone'], additionalProperties: false }, value) ?? {};
  return (
    actionBody<{ availability_zone?: string | null; host?: string }>(
      'unshelve',
      {
        type: ['object', 'null'],
        properties: { availability_zone: { type: ['string', 'null'], minLength: 1, maxLength: 255 }, host: { type: 'string', minLength: 1, maxLength: 255 } },
        minProperties: 1,
        additionalProperties: false,
      },
      value,
    ) ?? {}
  );
}

const unshelve: ActionHandler = async (deps, req, value) => {
  const body = unshelveBody(req, value);
  const ctx = ctxOf(req);
  requireWriter(ctx, 'os_compute_api:os-shelve:unshelve');
  if (body.host !== undefined && !ctx.isAdmin) throw policyForbidden('os_compute_api:os-shelve:unshelve_to_host');
  const cur = await loadServer(deps.sql, ctx, req.params.id);
  checkNotLocked(ctx, cur);
  checkState(cur, 'unshelve', [V.SHELVED, V.SHELVED_OFFLOADED], [null]);
  const moving = body.availability_zone !== undefined || body.host !== undefined;
  if (moving && cur.vm_state !== V.SHELVED_OFFLOADED)
    throw conflict(
      `The unshelve action on a server with an availability_zone or a host is only supported for a SHELVED_OFFLOADED server; server ${cur.uuid} is SHELVED.`,
    );
  if (typeof body.availability_zone === 'string' && !(await availabilityZones(deps)).has(body.availability_zone))
    throw invalid('The requested availability zone is not available');
  if (body.host !== undefined) {
    const h = await deps.sql.get(`SELECT 1 AS ok FROM services WHERE host = ? AND "binary" = 'nova-compute' AND deleted = 0`, [body.host]);
    if (!h) throw invalid(`Compute host ${body.host} could not be found.`);
  }
  const patch: InstancePatch = { task_state: T.UNSHELVING };
  if (body.availability_zone !== undefined) {
    // The zone is now the user's choice (null at 2.91: any zone), no longer the last host's.
    const sys = json<Record<string, string>>(cur.system_metadata, {});
    if (body.availability_zone === null) sys[ZONE_FROM_HOST_KEY] = '1';
    else delete sys[ZONE_FROM_HOST_KEY];
    patch.system_metadata = JSON.stringify(sys);
    if (body.availability_zone !== null) patch.availability_zone = body.availability_zone;
  }
  const row = await changeState(deps, req, { action: 'unshelve', policy: 'os_compute_api:os-shelve:unshelve', vmStates: [V.SHELVED, V.SHELVED_OFFLOADED], taskStates: [null], patch }, cur);
  if (row.vm_state === V.SHELVED && row.host)
    await new ComputeRpcApi(deps.bus).unshelveInstance(row.host, { instance: await payloadOf(deps.sql, row), request_id: req.requestId });
  else await new ConductorRpcApi(deps.bus).unshelveInstance({ instance_uuid: row.uuid, request_id: req.requestId, host: body.host ?? null });
  return { status: 202 };
};

export const shelveActions: Record<string, ActionHandler> = { shelve, shelveOffload, unshelve };
