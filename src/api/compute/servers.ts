/**
 * The servers resource: create (servers-create.ts), list and detail (servers-list.ts), show,
 * update and delete. Views come from server-view.ts.
 */
import { ctxOf, type ApiRequest, type ApiResponse } from '../../http/types.js';
import { validate } from '../../http/validate.js';
import { softDeleteInstance, startAction, updateInstance, type InstanceRow } from '../../db/instances.js';
import { json } from '../../db/sql.js';
import { ComputeRpcApi } from '../../compute/rpcapi.js';
import { TaskState, VmState } from '../../compute/vm-states.js';
import { nowIso } from '../../util/time.js';
import { requireProject, requireWriter } from '../policy.js';
import { API_PREFIX, links, nextLinks, type MountFn } from './common.js';
import type { ComputeApiDeps } from './deps.js';
import { createServer } from './servers-create.js';
import { listInstances } from './servers-list.js';
import { renderServer, renderServers, updateViewMode } from './server-view.js';
import { patchOfServerFields, updateSchema } from './server-schemas.js';
import { checkNotLocked, loadServer, payloadOf } from './server-access.js';
import { isServiceUp, listServiceRows, serviceDownTime } from './service-state.js';
import { logger } from '../../util/log.js';
import { releaseServerVolumes } from './server-delete-volumes.js';

const log = logger('compute-api');

export const mountServers: MountFn = (router, deps) => {
  const P = `${API_PREFIX}/servers`;
  router.post(P, (req) => createServer(deps, req));
  router.get(P, (req) => list(deps, req, false));
  router.get(`${P}/detail`, (req) => list(deps, req, true));
  router.get(`${P}/:id`, (req) => show(deps, req));
  router.put(`${P}/:id`, (req) => update(deps, req));
  router.delete(`${P}/:id`, (req) => remove(deps, req));
};

async function list(deps: ComputeApiDeps, req: ApiRequest, detail: boolean): Promise<ApiResponse> {
  requireProject(ctxOf(req));
  const { rows, limit } = await listInstances(deps.sql, req);
  const servers = detail
    ? await renderServers(deps.sql, req, rows, 'detail', serviceDownTime(deps.config))
    : rows.map((r) => ({ id: r.uuid, name: r.display_name, links: links(req, 'servers', r.uuid) }));
  const body: Record<string, unknown> = { servers };
  const next = nextLinks(req, detail ? 'servers/detail' : 'servers', rows.map((r) => ({ id: r.uuid })), limit);
  if (next) body.servers_links = next;
  return { status: 200, body };
}

async function show(deps: ComputeApiDeps, req: ApiRequest): Promise<ApiResponse> {
  const row = await loadServer(deps.sql, ctxOf(req), req.params.id);
  return { status: 200, body: { server: await renderServer(deps.sql, req, row, 'show', serviceDownTime(deps.config)) } };
}

async function update(deps: ComputeApiDeps, req: ApiRequest): Promise<ApiResponse> {
  const ctx = ctxOf(req);
  requireWriter(ctx, 'os_compute_api:servers:update');
  const row = await loadServer(deps.sql, ctx, req.params.id);
  const s = validate<{ server: Record<string, any> }>(updateSchema(req.mv), req.body).server;
  const updated = await updateInstance(deps.sql, row.uuid, patchOfServerFields(s));
  return { status: 200, body: { server: await renderServer(deps.sql, req, updated, updateViewMode(req), serviceDownTime(deps.config)) } };
}

/**
 * DELETE /servers/{id}: a server not yet on a host is deleted in the DB at once; otherwise it
 * goes to task_state deleting and its host is asked to terminate it (which soft-deletes the
 * row through the conductor). When that host's compute service is down the server is deleted
 * in the DB at once too (Nova's local delete; the host reaps the guest when it comes back), so
 * a dead host never leaves servers stuck in `deleting`: deleting one again finishes it.
 * Deleting a server already being deleted is accepted.
 */
async function remove(deps: ComputeApiDeps, req: ApiRequest): Promise<ApiResponse> {
  const ctx = ctxOf(req);
  requireWriter(ctx, 'os_compute_api:servers:delete');
  const row = await loadServer(deps.sql, ctx, req.params.id);
  checkNotLocked(ctx, row);
  await deleteServer(deps, req, row);
  return { status: 204 };
}

/** Deletes a server the caller may delete (checks done); idempotent while already deleting. */
export async function deleteServer(deps: ComputeApiDeps, req: ApiRequest, row: InstanceRow): Promise<void> {
  const ctx = ctxOf(req);
  if (!row.host && (await deleteInDb(deps, req, row, { onlyUnscheduled: true }))) return;
  const cur = await loadServer(deps.sql, ctx, row.uuid);
  if (cur.host && (await computeHostDown(deps, cur.host))) {
    await deleteInDb(deps, req, cur, { onlyUnscheduled: false });
    return;
  }
  if (cur.task_state === TaskState.DELETING) return;
  const updated = await deps.sql.tx(async (tx) => {
    const u = await updateInstance(tx, cur.uuid, { task_state: TaskState.DELETING, progress: 0 });
    await startAction(tx, { uuid: cur.uuid, action: 'delete', requestId: req.requestId, userId: ctx.userId, projectId: cur.project_id });
    return u;
  });
  await new ComputeRpcApi(deps.bus).terminateInstance(updated.host!, { instance: await payloadOf(deps.sql, updated), request_id: req.requestId });
}

/** True when host's nova-compute service is forced down or has not reported in service_down_time. */
async function computeHostDown(deps: ComputeApiDeps, host: string): Promise<boolean> {
  const [svc] = await listServiceRows(deps.sql, { host, binary: 'nova-compute' });
  return !svc || !isServiceUp(svc, serviceDownTime(deps.config));
}

/**
 * Soft-deletes a server in the DB and frees its resources, without its host. With
 * onlyUnscheduled, only while no host has it (false when a host claimed it meanwhile).
 */
async function deleteInDb(deps: ComputeApiDeps, req: ApiRequest, row: InstanceRow, o: { onlyUnscheduled: boolean }): Promise<boolean> {
  const ctx = ctxOf(req);
  const deleted = await deps.sql.tx(async (tx) => {
    if ((await softDeleteInstance(tx, row.uuid, { onlyUnscheduled: o.onlyUnscheduled })) === null) return false;
    const now = nowIso();
    await startAction(tx, { uuid: row.uuid, action: 'delete', requestId: req.requestId, userId: ctx.userId, projectId: row.project_id });
    await tx.run('UPDATE instance_actions SET finish_time = ? WHERE instance_uuid = ? AND request_id = ?', [now, row.uuid, req.requestId]);
    return true;
  });
  // Its volumes are released (or deleted, delete_on_termination) and its mappings go.
  if (deleted) await releaseServerVolumes(deps.sql, deps.volumes, row.uuid).catch((e) => log.warn(`releasing the volumes of ${row.uuid} failed`, e));
  // A shelved-offloaded server's snapshot (`<name>-shelved`) goes with it, as in Nova.
  const shelvedImage = deleted && row.vm_state === VmState.SHELVED_OFFLOADED ? json<Record<string, string>>(row.system_metadata, {}).shelved_image_id : undefined;
  if (shelvedImage) await deps.images.delete(ctx, shelvedImage).catch((e) => log.warn(`deleting the shelved image ${shelvedImage} of ${row.uuid} failed`, e));
  // Its ports go too (the host's agent drops their taps and rules when it next syncs).
  if (deleted) await deps.network?.client.deallocateForInstance({ instance_uuid: row.uuid }).catch((e) => log.warn(`releasing the ports of ${row.uuid} failed`, e));
  return deleted;
}
