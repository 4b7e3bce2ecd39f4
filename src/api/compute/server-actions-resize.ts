/**
 * resize, confirmResize, revertResize. A resize records a migration row and checks the quota
 * for the growth in cores and RAM in the same transaction as the task_state compare-and-set,
 * then hands over to the conductor, which picks a host and drives the compute side.
 */
import { invalid } from '../../errors.js';
import { startAction, updateInstance, flavorOf, type InstanceRow } from '../../db/instances.js';
import { json } from '../../db/sql.js';
import { ctxOf, type ApiRequest } from '../../http/types.js';
import { ConductorRpcApi } from '../../conductor/rpcapi.js';
import { ComputeRpcApi } from '../../compute/rpcapi.js';
import { TaskState as T, VmState as V } from '../../compute/vm-states.js';
import { uuid as newUuid } from '../../util/ids.js';
import { nowIso } from '../../util/time.js';
import { requireWriter } from '../policy.js';
import type { ComputeApiDeps } from './deps.js';
import { actionBody, type ActionHandler } from './server-action-flow.js';
import { checkNotLocked, checkState, loadServer, payloadOf } from './server-access.js';
import { findFlavor, flavorIdOfRef } from './server-lookups.js';
import { checkQuota } from './quota.js';

const resize: ActionHandler = async (deps, req, value) => {
  const body = actionBody<{ flavorRef: string | number; 'OS-DCF:diskConfig'?: string }>('resize', {
    type: 'object',
    properties: {
      flavorRef: { type: ['string', 'integer'], minLength: 1 },
      'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
    },
    required: ['flavorRef'],
    additionalProperties: false,
  }, value);
  const ctx = ctxOf(req);
  requireWriter(ctx, 'os_compute_api:servers:resize');
  const cur = await loadServer(deps.sql, ctx, req.params.id);
  checkNotLocked(ctx, cur);
  checkState(cur, 'resize', [V.ACTIVE, V.STOPPED], [null]);
  const found = await findFlavor(deps.sql, ctx, flavorIdOfRef(body.flavorRef));
  if (!found || found.disabled) throw invalid('Unable to locate requested flavor.');
  const next = found.snapshot;
  const old = flavorOf(cur);
  if (next.id === old.id) throw invalid('When resizing, instances must change flavor!');
  const sys = json<Record<string, string>>(cur.system_metadata, {});
  if (Number(sys.image_min_ram ?? 0) > next.memory_mb) throw invalid("Flavor's memory is too small for requested image.");
  if (next.root_gb > 0 && Number(sys.image_min_disk ?? 0) > next.root_gb) throw invalid("Flavor's disk is too small for requested image.");
  if (old.root_gb > 0 && next.root_gb === 0) throw invalid('Resize to zero disk flavor is not allowed.');

  const migrationUuid = newUuid();
  await deps.sql.tx(async (tx) => {
    await checkQuota(tx, cur.project_id, { cores: next.vcpus - old.vcpus, ram: next.memory_mb - old.memory_mb });
    await updateInstance(tx, cur.uuid, {
      task_state: T.RESIZE_PREP,
      progress: 0,
      ...(body['OS-DCF:diskConfig'] ? { auto_disk_config: body['OS-DCF:diskConfig'] === 'AUTO' ? 1 : 0 } : {}),
    }, { expectTaskState: [null], expectVmState: [V.ACTIVE, V.STOPPED] });
    const now = nowIso();
    await tx.run(
      `INSERT INTO migrations (uuid, instance_uuid, migration_type, source_compute, source_node, old_flavor_id, new_flavor_id, status,
        project_id, user_id, created_at, updated_at) VALUES (?, ?, 'resize', ?, ?, ?, ?, 'pre-migrating', ?, ?, ?, ?)`,
      [migrationUuid, cur.uuid, cur.host, cur.node, old.id, next.id, cur.project_id, ctx.userId, now, now],
    );
    await startAction(tx, { uuid: cur.uuid, action: 'resize', requestId: req.requestId, userId: ctx.userId, projectId: cur.project_id });
  });
  await new ConductorRpcApi(deps.bus).resizeInstance({ instance_uuid: cur.uuid, new_flavor_id: next.id, migration_uuid: migrationUuid, request_id: req.requestId });
  return { status: 202 };
};

/** The resize migration awaiting confirmation; 400 as Nova when there is none. */
async function finishedMigration(deps: ComputeApiDeps, row: InstanceRow) {
  const m = await deps.sql.get<{ uuid: string; source_compute: string | null; dest_compute: string | null }>(
    "SELECT uuid, source_compute, dest_compute FROM migrations WHERE instance_uuid = ? AND status = 'finished' ORDER BY id DESC LIMIT 1",
    [row.uuid],
  );
  if (!m) throw invalid('Instance has not been resized.');
  return m;
}

function resizeOutcome(kind: 'confirm' | 'revert'): ActionHandler {
  const action = kind === 'confirm' ? 'confirmResize' : 'revertResize';
  return async (deps, req: ApiRequest, value) => {
    actionBody(action, { type: ['object', 'null'] }, value);
    const ctx = ctxOf(req);
    requireWriter(ctx, `os_compute_api:servers:${kind}_resize`);
    const cur = await loadServer(deps.sql, ctx, req.params.id);
    checkNotLocked(ctx, cur);
    checkState(cur, action, [V.RESIZED], kind === 'revert' ? [null] : undefined);
    const m = await finishedMigration(deps, cur);
    const updated = await deps.sql.tx(async (tx) => {
      const r = await tx.run("UPDATE migrations SET status = ?, updated_at = ? WHERE uuid = ? AND status = 'finished'", [
        kind === 'confirm' ? 'confirming' : 'reverting', nowIso(), m.uuid,
      ]);
      if (r.changes === 0) throw invalid('Instance has not been resized.');
      const u = kind === 'revert'
        ? await updateInstance(tx, cur.uuid, { task_state: T.RESIZE_REVERTING }, { expectTaskState: [null], expectVmState: [V.RESIZED] })
        : cur;
      await startAction(tx, { uuid: cur.uuid, action, requestId: req.requestId, userId: ctx.userId, projectId: cur.project_id });
      return u;
    });
    const api = new ComputeRpcApi(deps.bus);
    const args = { instance: await payloadOf(deps.sql, updated), request_id: req.requestId, migration_uuid: m.uuid };
    // The conductor's contract: both go to the instance's current host (the resize target).
    if (kind === 'confirm') await api.confirmResize(updated.host ?? m.dest_compute ?? m.source_compute!, args);
    else await api.revertResize(updated.host ?? m.dest_compute ?? m.source_compute!, args);
    return { status: kind === 'confirm' ? 204 : 202 };
  };
}

export const resizeActions: Record<string, ActionHandler> = {
  resize,
  confirmResize: resizeOutcome('confirm'),
  revertResize: resizeOutcome('revert'),
};
