/**
 * os-volume_attachments (Nova's volumes.py VolumeAttachmentController): the volumes of a
 * server, from its block device mappings.
 *
 * Attach: the volume is reserved (a Cinder attachment) and its mapping recorded with a device
 * name before the server's compute host is called (ComputeRpcApi 1.3 attach_volume), which
 * connects, hot-plugs and completes the attachment, and answers when done; if it fails, the
 * mapping goes again (the host already deleted the attachment) and the host's error is the
 * answer. Detach: the volume goes to detaching and the host is told to unplug it (Nova's cast:
 * 202 at once; the host deletes the attachment and the mapping, or rolls the volume back to
 * in-use). Both only on a server with a host, not locked (unless admin), ACTIVE, SHUTOFF,
 * PAUSED or SUSPENDED with no task. Microversions: tag on attach 2.49, tag in views 2.70,
 * delete_on_termination 2.79, PUT of delete_on_termination 2.85, attachment_id and bdm_uuid
 * (and no `id`) in list and show 2.89.
 */
import { conflict, invalid, invalidState, isNovaError, notFound } from '../../errors.js';
import { startAction, type InstanceRow } from '../../db/instances.js';
import { ctxOf, type ApiRequest, type ApiResponse, type RequestContext } from '../../http/types.js';
import { S, validate } from '../../http/validate.js';
import { ComputeRpcApi } from '../../compute/rpcapi.js';
import { VmState as V } from '../../compute/vm-states.js';
import type { VolumeClient } from '../../volume/client.js';
import type { VolumeRow } from '../../volume/types.js';
import { logger } from '../../util/log.js';
import { isUuidLike } from '../../util/ids.js';
import { requireAdmin, requireWriter } from '../policy.js';
import { API_PREFIX, type MountFn } from './common.js';
import type { ComputeApiDeps } from './deps.js';
import { bdmsOf, deleteBdm, guestDeviceName, insertBdm, nextDeviceName, type BdmRow } from './bdm-store.js';
import { checkNotLocked, checkState, loadServer, payloadOf } from './server-access.js';
import { BOOLEAN, parseBool, TAG } from './server-schemas.js';

const log = logger('compute-api');
const ALLOWED_STATES = [V.ACTIVE, V.STOPPED, V.PAUSED, V.SUSPENDED, V.SHELVED, V.SHELVED_OFFLOADED];
export const VOLUMES_UNAVAILABLE = 'Volumes are not available: this cloud runs no block storage service.';

/** The block storage client; 400 when the cloud has none. */
export function volumeClient(deps: ComputeApiDeps): VolumeClient {
  if (!deps.volumes) throw invalid(VOLUMES_UNAVAILABLE);
  return deps.volumes;
}

/** The volume if ctx may use it (its project's, or any for admins); Nova's 404 otherwise. */
export async function visibleVolume(vols: VolumeClient, ctx: RequestContext, id: string): Promise<VolumeRow> {
  if (!isUuidLike(id)) throw notFound(`Volume ${id} could not be found.`);
  const v = await vols.get(id).catch((e) => {
    if (isNovaError(e) && e.kind === 'NotFound') return undefined;
    throw e;
  });
  if (!v || (!ctx.isAdmin && v.project_id !== ctx.projectId)) throw notFound(`Volume ${id} could not be found.`);
  return v;
}

/** A volume service Conflict/Invalid as Nova's 400 InvalidVolume ("Invalid volume: ..."). */
export function asInvalidVolume(e: unknown): unknown {
  if (!isNovaError(e) || (e.kind !== 'Conflict' && e.kind !== 'Invalid')) return e;
  return invalid(e.message.startsWith('Invalid volume') ? e.message : `Invalid volume: ${e.message}`);
}

const DEVICE = { type: ['string', 'null'], pattern: '(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$' };
const schemas = new Map<string, object>();
function schema(kind: 'create' | 'update', req: ApiRequest): object {
  const tag = kind === 'create' ? req.mv.atLeast('2.49') : req.mv.atLeast('2.85');
  const dot = req.mv.atLeast(kind === 'create' ? '2.79' : '2.85');
  const key = `${kind}:${tag}:${dot}`;
  let s = schemas.get(key);
  if (s) return s;
  const props: Record<string, unknown> = { volumeId: S.uuid };
  if (kind === 'create' || dot) props.device = DEVICE;
  if (tag) props.tag = TAG;
  if (dot) props.delete_on_termination = BOOLEAN;
  if (kind === 'update' && dot) Object.assign(props, { id: S.uuid, serverId: S.uuid });
  s = {
    type: 'object',
    properties: { volumeAttachment: { type: 'object', properties: props, required: ['volumeId'], additionalProperties: false } },
    required: ['volumeAttachment'],
    additionalProperties: false,
  };
  schemas.set(key, s);
  return s;
}

/** Nova's _translate_attachment_detail_view (list and show). */
function view(req: ApiRequest, b: BdmRow): Record<string, unknown> {
  const v: Record<string, unknown> = {};
  if (!req.mv.atLeast('2.89')) v.id = b.volume_id;
  v.volumeId = b.volume_id;
  v.serverId = b.instance_uuid;
  if (b.device_name) v.device = b.device_name;
  if (req.mv.atLeast('2.70')) v.tag = b.tag;
  if (req.mv.atLeast('2.79')) v.delete_on_termination = !!b.delete_on_termination;
  if (req.mv.atLeast('2.89')) {
    v.attachment_id = b.attachment_id;
    v.bdm_uuid = b.uuid;
  }
  return v;
}

async function attachedBdm(deps: ComputeApiDeps, row: InstanceRow, volumeId: string): Promise<BdmRow> {
  const b = (await bdmsOf(deps.sql, row.uuid)).find((x) => x.volume_id === volumeId);
  if (!b) throw notFound(`Instance ${row.uuid} is not attached to volume ${volumeId}`);
  return b;
}

/**
 * The compute host to act on, or null for a shelved-offloaded server: as in Nova, its volumes
 * are only attached (without a connector) or released in the volume service; unshelve connects
 * them on the host it lands on. Any other server without a host cannot take a volume.
 */
function checkHost(row: InstanceRow, action: string): string | null {
  if (row.vm_state === V.SHELVED_OFFLOADED) return null;
  if (!row.host) throw invalidState(action, row.uuid, 'vm_state', `${row.vm_state} (it has no compute host)`);
  return row.host;
}

async function list(deps: ComputeApiDeps, req: ApiRequest): Promise<ApiResponse> {
  const row = await loadServer(deps.sql, ctxOf(req), req.params.id);
  const all = (await bdmsOf(deps.sql, row.uuid)).filter((b) => b.volume_id);
  const num = (name: string, dflt: number) => {
    const raw = req.query.get(name);
    if (raw === null) return dflt;
    if (!/^\d+$/.test(raw)) throw invalid(`${name} param must be an integer`);
    return Number(raw);
  };
  const offset = num('offset', 0);
  const limit = Math.min(num('limit', 1000), 1000);
  return { status: 200, body: { volumeAttachments: all.slice(offset, offset + limit).map((b) => view(req, b)) } };
}

async function show(deps: ComputeApiDeps, req: ApiRequest): Promise<ApiResponse> {
  const row = await loadServer(deps.sql, ctxOf(req), req.params.id);
  return { status: 200, body: { volumeAttachment: view(req, await attachedBdm(deps, row, req.params.volume_id)) } };
}

type AttachBody = { volumeAttachment: { volumeId: string; device?: string | null; tag?: string; delete_on_termination?: unknown } };

/** The device the volume gets: the requested one when free, else the first free after the others. */
function deviceFor(bdms: BdmRow[], requested: string | null | undefined): string {
  const used = bdms.map((b) => b.device_name);
  if (requested === undefined || requested === null) return nextDeviceName(used);
  const name = guestDeviceName(requested);
  if (!name) throw invalid(`The supplied device path (${requested}) is invalid.`);
  if (used.includes(name) || name === '/dev/vda') throw conflict(`The supplied device path (${requested}) is in use.`);
  return name;
}

async function attach(deps: ComputeApiDeps, req: ApiRequest): Promise<ApiResponse> {
  const ctx = ctxOf(req);
  requireWriter(ctx, 'os_compute_api:os-volumes-attachments:create');
  const row = await loadServer(deps.sql, ctx, req.params.id);
  const a = validate<AttachBody>(schema('create', req), req.body).volumeAttachment;
  const vols = volumeClient(deps);
  checkNotLocked(ctx, row);
  checkState(row, 'attach_volume', ALLOWED_STATES, [null]);
  const host = checkHost(row, 'attach_volume');
  const volume = await visibleVolume(vols, ctx, a.volumeId);
  const bdms = await bdmsOf(deps.sql, row.uuid);
  if (bdms.some((b) => b.volume_id === volume.id)) throw invalid(`Invalid volume: volume ${volume.id} already attached`);
  const device = deviceFor(bdms, a.device);
  const deleteOnTermination = a.delete_on_termination !== undefined && parseBool(a.delete_on_termination);

  const attachment = await vols.createAttachment({ volume_id: volume.id, instance_uuid: row.uuid }).catch((e) => {
    throw asInvalidVolume(e);
  });
  let bdm: BdmRow;
  try {
    bdm = await deps.sql.tx(async (tx) => {
      // Two attaches racing for the same device name: only the first one keeps it.
      const taken = await tx.get('SELECT 1 AS x FROM block_device_mappings WHERE instance_uuid = ? AND device_name = ? AND deleted = 0', [row.uuid, device]);
      if (taken) throw conflict(`The supplied device path (${device}) is in use.`);
      const b = await insertBdm(tx, {
        instance_uuid: row.uuid, source_type: 'volume', destination_type: 'volume', device_name: device, volume_id: volume.id,
        attachment_id: attachment.id, tag: a.tag ?? null, delete_on_termination: deleteOnTermination,
      });
      await startAction(tx, { uuid: row.uuid, action: 'attach_volume', requestId: req.requestId, userId: ctx.userId, projectId: row.project_id });
      return b;
    });
  } catch (e) {
    await vols.deleteAttachment(attachment.id).catch((err) => log.warn(`releasing attachment ${attachment.id} failed`, err));
    throw e;
  }
  // A shelved-offloaded server's volume is in-use but unconnected (Nova completes the
  // attachment without a connector); unshelve connects it on the host the server lands on.
  if (!host) await vols.completeAttachment(attachment.id);
  else {
    try {
      await new ComputeRpcApi(deps.bus).attachVolume(host, {
        instance: await payloadOf(deps.sql, row), request_id: req.requestId, bdm_uuid: bdm.uuid, volume_id: volume.id,
        attachment_id: attachment.id, device_name: device,
      });
    } catch (e) {
      await deleteBdm(deps.sql, bdm.uuid);
      throw e;
    }
  }
  const v: Record<string, unknown> = { id: volume.id, serverId: row.uuid, volumeId: volume.id, device };
  if (req.mv.atLeast('2.70')) v.tag = a.tag ?? null;
  if (req.mv.atLeast('2.79')) v.delete_on_termination = deleteOnTermination;
  return { status: 200, body: { volumeAttachment: v } };
}

/**
 * PUT: swapping to another volume (admin) is not served yet; from 2.85 the same volume's
 * delete_on_termination may change (the other fields, if given, must be what they are).
 */
async function update(deps: ComputeApiDeps, req: ApiRequest): Promise<ApiResponse> {
  const ctx = ctxOf(req);
  const a = validate<{ volumeAttachment: Record<string, any> }>(schema('update', req), req.body).volumeAttachment;
  const volumeId = req.params.volume_id;
  const swap = a.volumeId !== volumeId || !req.mv.atLeast('2.85');
  if (swap) {
    requireAdmin(ctx, 'os_compute_api:os-volumes-attachments:swap');
    // Nova's lookups come first: the server, the attached volume (404), the new one (400), the
    // mapping (404); only then would the swap itself start.
    const row = await loadServer(deps.sql, ctx, req.params.id);
    const vols = volumeClient(deps);
    await visibleVolume(vols, ctx, volumeId);
    await visibleVolume(vols, ctx, a.volumeId).catch((e) => {
      throw isNovaError(e) && e.kind === 'NotFound' ? invalid(e.message) : e;
    });
    await attachedBdm(deps, row, volumeId);
    throw invalid('Swapping the volume of an attachment is not available in nova-ts yet.');
  }
  requireWriter(ctx, 'os_compute_api:os-volumes-attachments:update');
  const row = await loadServer(deps.sql, ctx, req.params.id);
  checkNotLocked(ctx, row);
  const b = await attachedBdm(deps, row, volumeId);
  if (a.id !== undefined && a.id !== volumeId) throw invalid('The id property is not mutable');
  if (a.serverId !== undefined && a.serverId !== row.uuid) throw invalid('The serverId property is not mutable');
  if (a.device !== undefined && a.device !== b.device_name) throw invalid('The device property is not mutable');
  if (a.tag !== undefined && a.tag !== b.tag) throw invalid('The tag property is not mutable');
  if (a.delete_on_termination !== undefined)
    await deps.sql.run('UPDATE block_device_mappings SET delete_on_termination = ?, updated_at = ? WHERE uuid = ?', [
      parseBool(a.delete_on_termination) ? 1 : 0, new Date().toISOString(), b.uuid,
    ]);
  return { status: 202 };
}

async function detach(deps: ComputeApiDeps, req: ApiRequest): Promise<ApiResponse> {
  const ctx = ctxOf(req);
  requireWriter(ctx, 'os_compute_api:os-volumes-attachments:delete');
  const row = await loadServer(deps.sql, ctx, req.params.id);
  const vols = volumeClient(deps);
  const volume = await visibleVolume(vols, ctx, req.params.volume_id);
  const b = await attachedBdm(deps, row, volume.id);
  if (b.boot_index === 0) throw invalid('Cannot detach a root device volume');
  checkNotLocked(ctx, row);
  checkState(row, 'detach_volume', ALLOWED_STATES, [null]);
  const host = checkHost(row, 'detach_volume');
  if (!host) {
    // Shelved offloaded: nothing is plugged anywhere; the reservation and the mapping go.
    await startAction(deps.sql, { uuid: row.uuid, action: 'detach_volume', requestId: req.requestId, userId: ctx.userId, projectId: row.project_id });
    if (b.attachment_id) await vols.deleteAttachment(b.attachment_id);
    await deleteBdm(deps.sql, b.uuid);
    return { status: 202 };
  }
  if (!b.attachment_id) throw conflict(`Volume ${volume.id} is still being attached to instance ${row.uuid}; try again when it is in-use.`);
  await vols.beginDetaching(volume.id).catch((e) => {
    throw asInvalidVolume(e);
  });
  await startAction(deps.sql, { uuid: row.uuid, action: 'detach_volume', requestId: req.requestId, userId: ctx.userId, projectId: row.project_id });
  const args = {
    instance: await payloadOf(deps.sql, row), request_id: req.requestId, bdm_uuid: b.uuid, volume_id: volume.id, attachment_id: b.attachment_id,
  };
  // Nova casts the detach: the answer does not wait for the guest to release the disk. The
  // host rolls the volume back to in-use (and records the action's error) when it fails.
  void new ComputeRpcApi(deps.bus).detachVolume(host, args).catch((e) => log.warn(`detaching volume ${volume.id} from ${row.uuid} failed`, e));
  return { status: 202 };
}

export const mountServerVolumeAttachments: MountFn = (router, deps) => {
  const P = `${API_PREFIX}/servers/:id/os-volume_attachments`;
  router.get(P, (req) => list(deps, req));
  router.post(P, (req) => attach(deps, req));
  router.get(`${P}/:volume_id`, (req) => show(deps, req));
  router.put(`${P}/:volume_id`, (req) => update(deps, req));
  router.delete(`${P}/:volume_id`, (req) => detach(deps, req));
};
