/**
 * The attachment state machine (Cinder's v3 attachments, as Nova drives them), shared by the
 * REST attachments API and the VolumeClient:
 *
 *   create    volume available -> reserved (compare-and-set; a multiattach volume may also be
 *             reserved, attaching or in-use), attachment reserved
 *   update    attachment -> attaching with the host's connector; volume reserved -> attaching;
 *             answers connection_info from the volume row
 *   complete  attachment -> attached; volume -> in-use, attach_status attached
 *   delete    attachment -> detached (soft-deleted); volume -> available when no live
 *             attachment remains (else in-use / reserved by what remains)
 *   beginDetaching / rollDetaching: in-use <-> detaching around the driver's unplug.
 *
 * Errors: Conflict when the volume cannot take the attachment (message says why), NotFound.
 * update, complete, delete and the detaching steps are idempotent so a restart can redo them.
 */
import type { Sql } from '../db/sql.js';
import { json } from '../db/sql.js';
import { conflict, invalid } from '../errors.js';
import { uuid } from '../util/ids.js';
import { nowIso } from '../util/time.js';
import { attachmentNotFound, getVolume } from './repo.js';
import type { AttachmentRow, ConnectionInfo, Connector, VolumeRow } from './types.js';

const RESERVABLE_MULTI = ['available', 'reserved', 'attaching', 'in-use'];

function readonly(v: VolumeRow): boolean {
  return /^true$/i.test(json<Record<string, string>>(v.metadata, {}).readonly ?? '');
}

/** Reserves the volume for the instance: a new attachment in status reserved. */
export async function createAttachment(
  sql: Sql,
  a: { volume_id: string; instance_uuid: string; mode?: 'rw' | 'ro'; connector?: Connector | null },
): Promise<AttachmentRow> {
  const id = uuid();
  await sql.tx(async (tx) => {
    const v = await getVolume(tx, a.volume_id);
    const now = nowIso();
    const r = v.multiattach
      ? await tx.run(
          `UPDATE volumes SET status = CASE WHEN status = 'available' THEN 'reserved' ELSE status END, updated_at = ?
           WHERE id = ? AND deleted = 0 AND status IN ('available', 'reserved', 'attaching', 'in-use')`,
          [now, v.id],
        )
      : await tx.run("UPDATE volumes SET status = 'reserved', updated_at = ? WHERE id = ? AND deleted = 0 AND status = 'available'", [now, v.id]);
    if (r.changes !== 1) {
      if (v.status === 'in-use' || v.status === 'reserved' || v.status === 'attaching') {
        const other = await tx.get<{ instance_uuid: string }>(
          'SELECT instance_uuid FROM volume_attachments WHERE volume_id = ? AND deleted = 0 ORDER BY created_at LIMIT 1',
          [v.id],
        );
        throw conflict(`Volume ${v.id} is ${v.status}${other ? ` (attached to server ${other.instance_uuid})` : ''}; it is not multiattach.`);
      }
      throw conflict(
        `Volume ${v.id} status must be ${v.multiattach ? RESERVABLE_MULTI.join(' or ') : 'available'} to attach, but current status is: ${v.status}.`,
      );
    }
    const mode = readonly(v) ? 'ro' : (a.mode ?? 'rw');
    await tx.run(
      `INSERT INTO volume_attachments (id, volume_id, instance_uuid, attach_mode, status, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'reserved', ?, ?)`,
      [id, v.id, a.instance_uuid, mode, now, now],
    );
  });
  if (a.connector) await updateAttachment(sql, { attachment_id: id, connector: a.connector });
  return liveAttachment(sql, id);
}

async function liveAttachment(sql: Sql, id: string): Promise<AttachmentRow> {
  const row = await sql.get<AttachmentRow>('SELECT * FROM volume_attachments WHERE id = ? AND deleted = 0', [id]);
  if (!row) throw attachmentNotFound(id);
  return row;
}

/** How a host reaches the volume: its file on the storage host. */
export function connectionInfo(v: VolumeRow, mode: 'rw' | 'ro'): ConnectionInfo {
  if (!v.path) throw invalid(`Volume ${v.id} has no data file yet (status ${v.status}); it cannot be attached.`);
  return {
    driver_volume_type: 'file',
    data: { volume_id: v.id, path: v.path, format: v.format, access_mode: mode, shareable: !!v.multiattach },
  };
}

/** Records the host's connector and answers connection_info (attachment -> attaching). Idempotent. */
export async function updateAttachment(sql: Sql, a: { attachment_id: string; connector: Connector; mountpoint?: string | null }): Promise<ConnectionInfo> {
  return sql.tx(async (tx) => {
    const att = await liveAttachment(tx, a.attachment_id);
    const v = await getVolume(tx, att.volume_id);
    const info = connectionInfo(v, att.attach_mode);
    const now = nowIso();
    const status = att.status === 'attached' ? 'attached' : 'attaching';
    await tx.run(
      `UPDATE volume_attachments SET status = ?, connector = ?, connection_info = ?, attached_host = ?, mountpoint = COALESCE(?, mountpoint), updated_at = ?
       WHERE id = ?`,
      [status, JSON.stringify(a.connector), JSON.stringify(info), a.connector.host ?? null, a.mountpoint ?? null, now, att.id],
    );
    if (v.status === 'reserved') await tx.run("UPDATE volumes SET status = 'attaching', updated_at = ? WHERE id = ?", [now, v.id]);
    return info;
  });
}

/**
 * Marks the attachment attached and the volume in-use. Idempotent. As in Cinder, an attachment
 * without a connector may be completed too: Nova does so for a shelved-offloaded server, whose
 * volume is in-use but connected only when the server is unshelved on a host.
 */
export async function completeAttachment(sql: Sql, attachmentId: string): Promise<void> {
  await sql.tx(async (tx) => {
    const att = await liveAttachment(tx, attachmentId);
    const now = nowIso();
    if (att.status !== 'attached')
      await tx.run("UPDATE volume_attachments SET status = 'attached', attach_time = ?, updated_at = ? WHERE id = ?", [now, now, att.id]);
    await tx.run("UPDATE volumes SET status = 'in-use', attach_status = 'attached', updated_at = ? WHERE id = ? AND deleted = 0", [now, att.volume_id]);
  });
}

/** The volume's status after its live attachments are `remaining` (Cinder's rules). */
function statusAfter(remaining: AttachmentRow[]): { status: string; attach_status: string } {
  if (remaining.some((r) => r.status === 'attached')) return { status: 'in-use', attach_status: 'attached' };
  if (remaining.length) return { status: 'reserved', attach_status: 'detached' };
  return { status: 'available', attach_status: 'detached' };
}

/** Removes the attachment; the volume becomes available when none remains. Idempotent for a removed attachment. */
export async function deleteAttachment(sql: Sql, attachmentId: string): Promise<AttachmentRow[]> {
  return sql.tx(async (tx) => {
    const att = await tx.get<AttachmentRow>('SELECT * FROM volume_attachments WHERE id = ?', [attachmentId]);
    if (!att) throw attachmentNotFound(attachmentId);
    const now = nowIso();
    if (!att.deleted)
      await tx.run("UPDATE volume_attachments SET status = 'detached', detach_time = ?, updated_at = ?, deleted = 1 WHERE id = ?", [now, now, att.id]);
    const remaining = await tx.all<AttachmentRow>('SELECT * FROM volume_attachments WHERE volume_id = ? AND deleted = 0 ORDER BY created_at', [att.volume_id]);
    const next = statusAfter(remaining);
    await tx.run(
      `UPDATE volumes SET status = ?, attach_status = ?, updated_at = ?
       WHERE id = ? AND deleted = 0 AND status IN ('reserved', 'attaching', 'in-use', 'detaching', 'error_attaching', 'error_detaching')`,
      [next.status, next.attach_status, now, att.volume_id],
    );
    return remaining;
  });
}

/** in-use -> detaching before the driver unplugs. Idempotent while detaching. */
export async function beginDetaching(sql: Sql, volumeId: string): Promise<void> {
  const v = await getVolume(sql, volumeId);
  if (v.status === 'detaching') return;
  const r = await sql.run("UPDATE volumes SET status = 'detaching', updated_at = ? WHERE id = ? AND status = 'in-use' AND deleted = 0", [nowIso(), volumeId]);
  if (r.changes !== 1) throw conflict(`Volume ${volumeId} status must be in-use to detach, but current status is: ${v.status}.`);
}

/** detaching -> in-use after a failed unplug. Idempotent. */
export async function rollDetaching(sql: Sql, volumeId: string): Promise<void> {
  await getVolume(sql, volumeId);
  await sql.run("UPDATE volumes SET status = 'in-use', updated_at = ? WHERE id = ? AND status = 'detaching' AND deleted = 0", [nowIso(), volumeId]);
}

export async function attachmentsOfInstance(sql: Sql, instanceUuid: string): Promise<AttachmentRow[]> {
  return sql.all<AttachmentRow>('SELECT * FROM volume_attachments WHERE instance_uuid = ? AND deleted = 0 ORDER BY created_at, id', [instanceUuid]);
}
