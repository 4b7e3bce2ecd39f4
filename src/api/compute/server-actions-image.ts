/**
 * rebuild (a new image, same identity) and createImage (a snapshot into a new queued image
 * that the compute host uploads).
 */
import { serviceDownTime } from './service-state.js';
import { conflict, invalid } from '../../errors.js';
import { flavorOf, startAction, updateInstance, type InstancePatch, type InstanceRow } from '../../db/instances.js';
import { json } from '../../db/sql.js';
import { ctxOf, type ApiRequest, type ApiResponse, type RequestContext } from '../../http/types.js';
import { S } from '../../http/validate.js';
import { ComputeRpcApi } from '../../compute/rpcapi.js';
import { TaskState as T, VmState as V } from '../../compute/vm-states.js';
import { requireWriter } from '../policy.js';
import type { ComputeApiDeps } from './deps.js';
import { actionBody, type ActionHandler } from './server-action-flow.js';
import { checkNotLocked, checkState, imageMetaOfView, loadServer, payloadOf } from './server-access.js';
import { IMAGE_META_KEY } from '../../conductor/payload.js';
import { checkFlavorFitsImage, imageForBoot, keyPairData } from './server-lookups.js';
import { patchOfServerFields, decodeUserData, MAX_USER_DATA_BYTES, rebuildSchema } from './server-schemas.js';
import { checkMetadataQuota, imageSystemMetadata } from './servers-create.js';
import { newAdminPass } from './server-hostname.js';
import { renderServer, updateViewMode } from './server-view.js';

const rebuild: ActionHandler = async (deps: ComputeApiDeps, req: ApiRequest, value: unknown): Promise<ApiResponse> => {
  const r = actionBody<Record<string, any>>('rebuild', (rebuildSchema(req.mv) as any).properties.rebuild, value);
  const ctx = ctxOf(req);
  requireWriter(ctx, 'os_compute_api:servers:rebuild');
  const cur = await loadServer(deps.sql, ctx, req.params.id);
  checkNotLocked(ctx, cur);
  checkState(cur, 'rebuild', [V.ACTIVE, V.STOPPED, V.ERROR], [null]);
  if (!cur.host) throw conflict(`Instance ${cur.uuid} is not ready`);
  const image = await imageForBoot(deps, ctx, r.imageRef);
  checkFlavorFitsImage(flavorOf(cur), image);
  const imageMeta = imageMetaOfView(image);
  const patch: InstancePatch = {
    task_state: T.REBUILDING,
    progress: 0,
    image_ref: r.imageRef,
    kernel_id: (image.kernel_id as string | undefined) ?? null,
    ramdisk_id: (image.ramdisk_id as string | undefined) ?? null,
    system_metadata: JSON.stringify({
      ...json<Record<string, string>>(cur.system_metadata, {}),
      ...imageSystemMetadata(image, r.imageRef),
      [IMAGE_META_KEY]: JSON.stringify(imageMeta),
    }),
    ...patchOfServerFields(r),
  };
  if (r.key_name !== undefined) {
    patch.key_name = r.key_name;
    patch.key_data = r.key_name === null ? null : await keyPairData(deps.sql, cur.user_id, r.key_name);
  }
  if (r.user_data !== undefined) {
    if (r.user_data !== null) {
      const data = decodeUserData(r.user_data);
      if (!data) throw invalid(`Invalid input for field/attribute user_data. Value: ${r.user_data}. '${r.user_data}' is not a 'base64'`);
      if (data.length > MAX_USER_DATA_BYTES) throw invalid(`User data too large. User data must be no larger than ${MAX_USER_DATA_BYTES} bytes once base64 encoded.`);
    }
    patch.user_data = r.user_data;
  }
  if (r.trusted_image_certificates !== undefined)
    patch.trusted_image_certificates = r.trusted_image_certificates === null ? null : JSON.stringify(r.trusted_image_certificates);
  const metadata = r.metadata as Record<string, string> | undefined;
  if (metadata) await checkMetadataQuota(deps.sql, cur.project_id, Object.keys(metadata).length);

  const updated = await deps.sql.tx(async (tx) => {
    const u = await updateInstance(tx, cur.uuid, patch, { expectTaskState: [null], expectVmState: [V.ACTIVE, V.STOPPED, V.ERROR] });
    if (metadata) {
      await tx.run('DELETE FROM instance_metadata WHERE instance_uuid = ?', [cur.uuid]);
      for (const [k, v] of Object.entries(metadata))
        await tx.run('INSERT INTO instance_metadata (instance_uuid, key, value) VALUES (?, ?, ?)', [cur.uuid, k, v]);
    }
    await startAction(tx, { uuid: cur.uuid, action: 'rebuild', requestId: req.requestId, userId: ctx.userId, projectId: cur.project_id });
    return u;
  });
  await new ComputeRpcApi(deps.bus).rebuildInstance(updated.host!, { instance: await payloadOf(deps.sql, updated, { image: imageMeta }), request_id: req.requestId });
  const server = await renderServer(deps.sql, req, updated, updateViewMode(req), serviceDownTime(deps.config));
  // The rebuild body adds what rebuild can change: key_name (2.54, already in the full view)
  // and user_data (2.57), which replaces the admin-only OS-EXT-SRV-ATTR:user_data (Nova's
  // show_user_data=False for rebuild).
  if (req.mv.atLeast('2.54')) server.key_name = updated.key_name;
  if (req.mv.atLeast('2.57')) server.user_data = updated.user_data;
  delete server['OS-EXT-SRV-ATTR:user_data'];
  server.adminPass = typeof r.adminPass === 'string' ? r.adminPass : newAdminPass();
  return { status: 202, body: { server } };
};

/**
 * System metadata keys a snapshot does not take over as image properties: the boot image's
 * identity and format, and the image meta record kept for the compute host.
 */
export const NOT_INHERITED = new Set([
  'image_base_image_ref', 'image_name', 'image_disk_format', 'image_container_format', 'image_min_ram', 'image_min_disk',
  // Marks the images nova-ts seeds itself (src/image/seed.ts); a user's snapshot is not one of them.
  'image_nova_ts_image_version',
  IMAGE_META_KEY,
]);

/**
 * The body of the image a snapshot of server `cur` is uploaded into (createImage, shelve), in
 * Nova's order: the boot image's properties kept in system_metadata (image_*, less the
 * non-inheritable ones), the snapshot's own, then `extra`; name and minimums last (min_disk at
 * least the flavor's root disk).
 */
export function snapshotImageBody(cur: InstanceRow, ctx: RequestContext, name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const sys = json<Record<string, string>>(cur.system_metadata, {});
  const inherited: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(sys))
    if (k.startsWith('image_') && !NOT_INHERITED.has(k)) inherited[k.slice('image_'.length)] = v;
  return {
    ...inherited,
    instance_uuid: cur.uuid,
    base_image_ref: cur.image_ref ?? '',
    image_type: 'snapshot',
    user_id: ctx.userId,
    ...extra,
    name,
    min_ram: Number(sys.image_min_ram ?? 0),
    min_disk: Math.max(Number(sys.image_min_disk ?? 0), flavorOf(cur).root_gb),
  };
}

const createImage: ActionHandler = async (deps, req, value) => {
  const body = actionBody<{ name: string; metadata?: Record<string, string> }>('createImage', {
    type: 'object',
    properties: { name: S.name, metadata: S.metadata },
    required: ['name'],
    additionalProperties: false,
  }, value);
  const ctx = ctxOf(req);
  requireWriter(ctx, 'os_compute_api:servers:create_image');
  const cur = await loadServer(deps.sql, ctx, req.params.id);
  checkState(cur, 'createImage', [V.ACTIVE, V.STOPPED, V.PAUSED, V.SUSPENDED], [null]);
  if (!cur.host) throw conflict(`Instance ${cur.uuid} is not ready`);
  const metadata = body.metadata ?? {};
  await checkMetadataQuota(deps.sql, cur.project_id, Object.keys(metadata).length);
  // The request's metadata wins over the snapshot's own properties (a caller may set image_type).
  const image = await deps.images.create(
    ctx,
    snapshotImageBody(cur, ctx, body.name, { owner_project_name: ctx.projectName ?? undefined, owner_user_name: ctx.userName, ...metadata }),
  );
  let updated;
  try {
    updated = await deps.sql.tx(async (tx) => {
      const u = await updateInstance(tx, cur.uuid, { task_state: T.IMAGE_SNAPSHOT_PENDING }, { expectTaskState: [null] });
      await startAction(tx, { uuid: cur.uuid, action: 'createImage', requestId: req.requestId, userId: ctx.userId, projectId: cur.project_id });
      return u;
    });
  } catch (e) {
    await deps.images.delete(ctx, image.id).catch(() => undefined);
    throw e;
  }
  await new ComputeRpcApi(deps.bus).snapshotInstance(updated.host!, { instance: await payloadOf(deps.sql, updated), request_id: req.requestId, image_id: image.id });
  const location = `${req.baseUrl.replace(/\/compute$/, '/image')}/v2/images/${image.id}`;
  return { status: 202, headers: { location }, ...(req.mv.atLeast('2.45') ? { body: { image_id: image.id } } : {}) };
};

export const imageActions: Record<string, ActionHandler> = { rebuild, createImage };
