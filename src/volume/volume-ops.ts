/**
 * The volume operations shared by the REST API and the VolumeClient: create (empty, from an
 * image, a snapshot or another volume), delete (optionally with its snapshots), extend, and
 * snapshots. Each checks the status rule and quota and writes the row(s) in one transaction
 * before it casts to the volume host, so nothing is half-created; the volume manager then moves
 * the status on (creating -> available | error, ...).
 */
import type { Bus } from '../bus/bus.js';
import type { Sql } from '../db/sql.js';
import { json } from '../db/sql.js';
import { invalid, isNovaError, notFound } from '../errors.js';
import type { ImageClient } from '../image/client.js';
import { uuid } from '../util/ids.js';
import { nowIso } from '../util/time.js';
import type { CreateVolumeRequest } from './client.js';
import { checkVolumeQuota } from './quotas.js';
import { defaultVolumeType, findVolumeType, getSnapshot, getVolume, snapshotNotFound, volumeNotFound, type SnapshotRow } from './repo.js';
import { VolumeRpcApi } from './rpcapi.js';
import type { VolumeRow } from './types.js';
import { NO_VOLUME_HOST, pickVolumeHost } from './volume-host.js';

export interface VolumeOpsDeps {
  sql: Sql;
  bus: Bus;
  images: ImageClient;
  defaultAvailabilityZone: string;
}

const GiB = 1024 ** 3;
export const DELETABLE = ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'];

/** Cinder's message for a delete refused by the status rule, or (with reason) by what the volume holds. */
function cannotDelete(status: string, reason?: { id: string; why: string }): Error {
  if (reason) return invalid(`Invalid volume: Volume ${reason.id} ${reason.why}.`);
  return invalid(
    `Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots or be disassociated from snapshots after volume transfer, but current status is: ${status}.`,
  );
}

/** Properties an image gives a volume made from it (Cinder's volume_image_metadata). */
function imageMetadata(img: Awaited<ReturnType<ImageClient['get']>>): Record<string, string> {
  const out: Record<string, string> = { image_id: img.id };
  if (img.name !== null) out.image_name = img.name;
  if (img.disk_format) out.disk_format = img.disk_format;
  if (img.container_format) out.container_format = img.container_format;
  if (img.size !== null) out.size = String(img.size);
  out.min_disk = String(img.min_disk);
  out.min_ram = String(img.min_ram);
  for (const [k, v] of Object.entries(img.properties ?? {})) if (v !== null && v !== undefined) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

/** Casts work to the volume host, or moves the row to error in words when none is up. */
async function dispatch(deps: VolumeOpsDeps, volumeId: string, send: (rpc: VolumeRpcApi, host: string) => Promise<void>, host: string | null): Promise<void> {
  const now = nowIso();
  if (!host) {
    await deps.sql.run("UPDATE volumes SET status = 'error', error = ?, updated_at = ? WHERE id = ?", [NO_VOLUME_HOST, now, volumeId]);
    return;
  }
  try {
    await send(new VolumeRpcApi(deps.bus), host);
  } catch (e) {
    const why = isNovaError(e) ? e.message : String(e);
    await deps.sql.run("UPDATE volumes SET status = 'error', error = ?, updated_at = ? WHERE id = ?", [
      `The volume service on ${host} could not be reached: ${why}`, now, volumeId,
    ]);
  }
}

/**
 * Creates a volume row (status creating) and asks the volume host to fill it. The size defaults
 * to the source's (snapshot, volume, or the image rounded up to GiB) and may not be smaller.
 * Answers the row as written; when no volume host is up the row is already in error. Sources
 * of other projects are invisible unless `admin`.
 */
export async function createVolume(deps: VolumeOpsDeps, req: CreateVolumeRequest & { admin?: boolean }): Promise<VolumeRow> {
  const { sql } = deps;
  const sources = [req.image_id, req.source_volid, req.snapshot_id].filter((s) => s !== null && s !== undefined);
  if (sources.length > 1) throw invalid('Invalid input received: only one of imageRef, source_volid and snapshot_id may be given.');
  let size = req.size > 0 ? req.size : null;
  let bootable = 0;
  let imageMeta: Record<string, string> = {};
  let snapshot: SnapshotRow | undefined;
  let source: VolumeRow | undefined;
  if (req.snapshot_id) {
    // Cinder: a source snapshot or volume the caller cannot see is 404 (SnapshotNotFound / VolumeNotFound).
    snapshot = await getSnapshot(sql, req.snapshot_id);
    if (snapshot.project_id !== req.project_id && !req.admin) throw snapshotNotFound(req.snapshot_id);
    if (snapshot.status !== 'available')
      throw invalid(`Invalid snapshot: Originating snapshot status must be one of 'available' values, but it is ${snapshot.status}.`);
    if (size === null) size = snapshot.size;
    else if (size < snapshot.size)
      throw invalid(`Invalid input received: Volume size '${size}'GB cannot be smaller than the snapshot size ${snapshot.size}GB. They must be >= original snapshot size.`);
    source = await getVolume(sql, snapshot.volume_id).catch(() => undefined);
    bootable = source?.bootable ?? 0;
    imageMeta = json(source?.volume_image_metadata, {});
  }
  if (req.source_volid) {
    source = await getVolume(sql, req.source_volid);
    if (source.project_id !== req.project_id && !req.admin) throw volumeNotFound(req.source_volid);
    if (!['available', 'in-use'].includes(source.status))
      throw invalid(`Invalid volume: Source volume status must be available or in-use, but current status is: ${source.status}.`);
    if (size === null) size = source.size;
    else if (size < source.size)
      throw invalid(`Invalid input received: Volume size '${size}'GB cannot be smaller than original volume size ${source.size}GB. They must be >= original volume size.`);
    bootable = source.bootable;
    imageMeta = json(source.volume_image_metadata, {});
  }
  if (req.image_id) {
    const unusable = () => invalid(`Invalid image identifier or unable to access requested image: ${req.image_id}.`);
    if (!req.admin && !(await deps.images.visibleTo(req.image_id, req.project_id))) throw unusable();
    const img = await deps.images.get(req.image_id).catch(() => {
      throw unusable();
    });
    const imageGb = Math.max(Math.ceil((img.size ?? 0) / GiB), img.min_disk ?? 0, 1);
    if (size === null) size = imageGb;
    else if (img.size !== null && size * GiB < img.size)
      throw invalid(`Invalid input received: Size of specified image ${imageGb}GB is larger than volume size ${size}GB.`);
    else if (size < (img.min_disk ?? 0))
      throw invalid(`Invalid input received: Volume size ${size}GB cannot be smaller than the image minDisk size ${img.min_disk}GB.`);
    bootable = 1;
    imageMeta = imageMetadata(img);
  }
  if (size === null) throw invalid("Invalid input received: Volume size '0' must be an integer and greater than 0.");
  const az = req.availability_zone ?? deps.defaultAvailabilityZone;
  if (az !== deps.defaultAvailabilityZone) throw invalid(`Invalid input received: Availability zone '${az}' is invalid.`);
  const type = req.volume_type ? await findVolumeType(sql, req.volume_type) : await defaultVolumeType(sql);
  if (req.volume_type && type === null) throw invalid(`Volume type ${req.volume_type} could not be found.`);
  // A private type is for the projects given access; nova-ts keeps no access lists, so only admins use one.
  if (type && !type.is_public && !req.admin) throw notFound(`Volume type with name or id ${req.volume_type} could not be found.`);
  const typeMultiattach = /^<is>\s*true$/i.test(json<Record<string, string>>(type?.extra_specs, {}).multiattach ?? '');
  const now = nowIso();
  const row: VolumeRow = {
    id: uuid(), project_id: req.project_id, user_id: req.user_id, name: req.name ?? null, description: req.description ?? null, size,
    status: 'creating', attach_status: 'detached', volume_type_id: type?.id ?? null, availability_zone: az, bootable,
    multiattach: req.multiattach || typeMultiattach ? 1 : 0, source_volid: req.source_volid ?? null, snapshot_id: req.snapshot_id ?? null,
    image_id: req.image_id ?? null, volume_image_metadata: JSON.stringify(imageMeta), metadata: JSON.stringify(req.metadata ?? {}),
    host: null, path: null, format: 'qcow2', error: null, created_at: now, updated_at: now, deleted: 0,
  };
  row.host = await pickVolumeHost(sql);
  await sql.tx(async (tx) => {
    await checkVolumeQuota(tx, row.project_id, { volumes: 1, gigabytes: size });
    await tx.run(
      `INSERT INTO volumes (id, project_id, user_id, name, description, size, status, attach_status, volume_type_id, availability_zone,
        bootable, multiattach, source_volid, snapshot_id, image_id, volume_image_metadata, metadata, host, format, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [row.id, row.project_id, row.user_id, row.name, row.description, row.size, row.status, row.attach_status, row.volume_type_id,
        row.availability_zone, row.bootable, row.multiattach, row.source_volid, row.snapshot_id, row.image_id, row.volume_image_metadata,
        row.metadata, row.host, row.format, row.created_at, row.updated_at],
    );
  });
  await dispatch(deps, row.id, (rpc, host) => rpc.createVolume(host, { volume_id: row.id }), row.host);
  return getVolume(sql, row.id);
}

/**
 * Deletes a volume: only in a deletable status, never while attached, and only with its
 * snapshots when cascade (they are deleted first). The row goes to deleting; the manager
 * removes the file and the row. A volume that never reached a host is deleted at once.
 * force (Cinder's admin os-force_delete): any status and attached too (its attachments end).
 */
export async function deleteVolume(deps: VolumeOpsDeps, volumeId: string, opts: { cascade?: boolean; force?: boolean } = {}): Promise<void> {
  const { sql } = deps;
  const snapshotIds: string[] = [];
  const vol = await sql.tx(async (tx) => {
    const v = await getVolume(tx, volumeId);
    if (v.status === 'deleting' && opts.force) return v;
    if (!DELETABLE.includes(v.status) && !opts.force) throw cannotDelete(v.status);
    const live = await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM volume_attachments WHERE volume_id = ? AND deleted = 0', [volumeId]);
    if (opts.force)
      await tx.run("UPDATE volume_attachments SET status = 'detached', detach_time = ?, updated_at = ?, deleted = 1 WHERE volume_id = ? AND deleted = 0", [nowIso(), nowIso(), volumeId]);
    else if (Number(live?.n ?? 0) > 0 || v.attach_status === 'attached') throw cannotDelete(v.status, { id: v.id, why: 'is attached to a server; detach it first' });
    const snaps = await tx.all<{ id: string; status: string }>('SELECT id, status FROM volume_snapshots WHERE volume_id = ? AND deleted = 0', [volumeId]);
    if (snaps.length && !opts.cascade) throw cannotDelete(v.status, { id: v.id, why: `has ${snaps.length} snapshot(s); delete them first, or delete the volume with its snapshots (cascade, \`openstack volume delete --purge\`)` });
    const busy = snaps.find((s) => !['available', 'error', 'error_deleting'].includes(s.status));
    if (busy) throw invalid(`Invalid volume: Snapshot ${busy.id} of the volume is ${busy.status}; it can be deleted only when available or error.`);
    const now = nowIso();
    const r = await tx.run("UPDATE volumes SET status = 'deleting', updated_at = ? WHERE id = ? AND status = ? AND deleted = 0", [now, volumeId, v.status]);
    if (r.changes !== 1) throw cannotDelete(v.status);
    for (const s of snaps) {
      await tx.run("UPDATE volume_snapshots SET status = 'deleting', updated_at = ? WHERE id = ?", [now, s.id]);
      snapshotIds.push(s.id);
    }
    return v;
  });
  if (!vol.host) {
    // Nothing was ever made on a storage host: nothing to remove there.
    await sql.run("UPDATE volumes SET deleted = 1, deleted_at = ?, status = 'deleted' WHERE id = ?", [nowIso(), volumeId]);
    await sql.run('UPDATE volume_snapshots SET deleted = 1 WHERE volume_id = ?', [volumeId]);
    return;
  }
  const rpc = new VolumeRpcApi(deps.bus);
  try {
    for (const id of snapshotIds) await rpc.deleteSnapshot(vol.host, { snapshot_id: id });
    await rpc.deleteVolume(vol.host, { volume_id: volumeId });
  } catch (e) {
    const why = isNovaError(e) ? e.message : String(e);
    await sql.run("UPDATE volumes SET status = 'error_deleting', error = ?, updated_at = ? WHERE id = ?", [
      `The volume service on ${vol.host} could not be reached: ${why}`, nowIso(), volumeId,
    ]);
  }
}

/** Grows an available volume to newSize GiB (quota checked for the difference). */
export async function extendVolume(deps: VolumeOpsDeps, volumeId: string, newSize: number): Promise<void> {
  const vol = await deps.sql.tx(async (tx) => {
    const v = await getVolume(tx, volumeId);
    if (v.status !== 'available')
      throw invalid(`Invalid volume: Volume ${volumeId} status must be available to extend, but current status is: ${v.status}.`);
    if (newSize <= v.size)
      throw invalid(`Invalid input received: New size for extend must be greater than current size. (current: ${v.size}, extended: ${newSize}).`);
    await checkVolumeQuota(tx, v.project_id, { gigabytes: newSize - v.size });
    const r = await tx.run("UPDATE volumes SET status = 'extending', updated_at = ? WHERE id = ? AND status = 'available'", [nowIso(), volumeId]);
    if (r.changes !== 1) throw invalid(`Invalid volume: Volume ${volumeId} status must be available to extend.`);
    return v;
  });
  if (!vol.host) {
    await deps.sql.run("UPDATE volumes SET status = 'error_extending', error = ? WHERE id = ?", [NO_VOLUME_HOST, volumeId]);
    return;
  }
  try {
    await new VolumeRpcApi(deps.bus).extendVolume(vol.host, { volume_id: volumeId, new_size: newSize });
  } catch (e) {
    await deps.sql.run("UPDATE volumes SET status = 'error_extending', error = ? WHERE id = ?", [String(isNovaError(e) ? e.message : e), volumeId]);
  }
}

export interface CreateSnapshotRequest {
  volume_id: string;
  project_id: string;
  user_id: string;
  name?: string | null;
  description?: string | null;
  force?: boolean;
  metadata?: Record<string, string>;
}

/** Snapshots an available volume (in-use too with force); the row starts in creating. */
export async function createSnapshot(deps: VolumeOpsDeps, req: CreateSnapshotRequest): Promise<SnapshotRow> {
  const id = uuid();
  const vol = await deps.sql.tx(async (tx) => {
    const v = await getVolume(tx, req.volume_id);
    const ok = v.status === 'available' || (req.force && v.status === 'in-use');
    if (!ok)
      throw invalid(
        v.status === 'in-use'
          ? `Invalid volume: Volume ${v.id} is in-use; snapshot it with force (--force) or detach it first.`
          : `Invalid volume: Volume ${v.id} status must be available${req.force ? ' or in-use' : ''}, but current status is: ${v.status}.`,
      );
    await checkVolumeQuota(tx, v.project_id, { snapshots: 1, gigabytes: v.size });
    const now = nowIso();
    await tx.run(
      `INSERT INTO volume_snapshots (id, volume_id, project_id, user_id, name, description, size, status, metadata, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'creating', ?, ?, ?)`,
      [id, v.id, v.project_id, req.user_id, req.name ?? null, req.description ?? null, v.size, JSON.stringify(req.metadata ?? {}), now, now],
    );
    return v;
  });
  const fail = (why: string) => deps.sql.run("UPDATE volume_snapshots SET status = 'error', error = ? WHERE id = ?", [why, id]);
  if (!vol.host) await fail(NO_VOLUME_HOST);
  else
    await new VolumeRpcApi(deps.bus).createSnapshot(vol.host, { snapshot_id: id }).catch((e) => fail(String(isNovaError(e) ? e.message : e)));
  return getSnapshot(deps.sql, id);
}

/** Deletes an available or error snapshot (not while volumes made from it are creating). */
/** Deletes an available or error snapshot; force (admin os-force_delete): in any status. */
export async function deleteSnapshot(deps: VolumeOpsDeps, snapshotId: string, opts: { force?: boolean } = {}): Promise<void> {
  const { snap, host } = await deps.sql.tx(async (tx) => {
    const s = await getSnapshot(tx, snapshotId);
    if (!opts.force && !['available', 'error', 'error_deleting'].includes(s.status))
      throw invalid(`Invalid snapshot: Snapshot status must be available or error, but current status is: ${s.status}.`);
    await tx.run("UPDATE volume_snapshots SET status = 'deleting', updated_at = ? WHERE id = ?", [nowIso(), snapshotId]);
    const v = await tx.get<{ host: string | null }>('SELECT host FROM volumes WHERE id = ?', [s.volume_id]);
    return { snap: s, host: v?.host ?? null };
  });
  if (!host) {
    await deps.sql.run('UPDATE volume_snapshots SET deleted = 1, status = ? WHERE id = ?', ['deleted', snap.id]);
    return;
  }
  await new VolumeRpcApi(deps.bus).deleteSnapshot(host, { snapshot_id: snapshotId }).catch((e) =>
    deps.sql.run("UPDATE volume_snapshots SET status = 'error_deleting', error = ? WHERE id = ?", [String(isNovaError(e) ? e.message : e), snapshotId]),
  );
}
