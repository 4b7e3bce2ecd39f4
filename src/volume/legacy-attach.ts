/**
 * Cinder's older attach actions on POST /volumes/{id}/action, which record an attachment in
 * the volume service only (no guest is touched; Nova itself uses the v3 attachments API):
 *
 *   os-reserve        available (multiattach: also in-use) -> attaching
 *   os-unreserve      attaching -> in-use when live attachments remain, else available
 *   os-attach         available or attaching (multiattach: also in-use) -> in-use, with an
 *                     attachment (attached) for instance_uuid or host_name at mountpoint
 *   os-detach         removes the attachment (attachment_id, or the only one) -> available
 *                     (in-use while others remain); with none, an attach-related status
 *                     becomes available and the call succeeds (as Cinder)
 *   os-begin_detaching / os-roll_detaching  in-use <-> detaching
 *   os-force_detach   (admin) removes an attachment whatever the volume's status; the volume
 *                     then says what remains (available / in-use)
 *
 * Errors are Invalid ("Invalid volume: ...", Cinder's 400) when the status does not allow it.
 */
import type { Sql } from '../db/sql.js';
import { invalid } from '../errors.js';
import { uuid } from '../util/ids.js';
import { nowIso } from '../util/time.js';
import { deleteAttachment } from './attachments.js';
import { getVolume } from './repo.js';
import type { AttachmentRow } from './types.js';

export async function reserveVolume(sql: Sql, volumeId: string): Promise<void> {
  const v = await getVolume(sql, volumeId);
  const expected = v.multiattach ? ['available', 'in-use'] : ['available'];
  const r = await sql.run(
    `UPDATE volumes SET status = 'attaching', updated_at = ? WHERE id = ? AND deleted = 0 AND status IN (${expected.map(() => '?').join(', ')})`,
    [nowIso(), v.id, ...expected],
  );
  if (r.changes !== 1) throw invalid(`Invalid volume: Volume status must be ${expected.join(' or ')} to reserve, but the status is ${v.status}.`);
}

export async function unreserveVolume(sql: Sql, volumeId: string): Promise<void> {
  await sql.tx(async (tx) => {
    const v = await getVolume(tx, volumeId);
    if (v.status !== 'attaching') return;
    const live = await tx.get<{ n: number }>("SELECT COUNT(*) AS n FROM volume_attachments WHERE volume_id = ? AND deleted = 0 AND status = 'attached'", [v.id]);
    await tx.run("UPDATE volumes SET status = ?, updated_at = ? WHERE id = ? AND status = 'attaching'", [Number(live?.n ?? 0) > 0 ? 'in-use' : 'available', nowIso(), v.id]);
  });
}

export interface LegacyAttach {
  instance_uuid?: string | null;
  host_name?: string | null;
  mountpoint: string;
  mode?: 'rw' | 'ro';
}

/** Records an attached attachment and puts the volume in-use; answers the attachment. */
export async function attachVolume(sql: Sql, volumeId: string, a: LegacyAttach): Promise<AttachmentRow> {
  if (!a.instance_uuid === !a.host_name) throw invalid('Invalid request to attach volume: give exactly one of instance_uuid and host_name.');
  const id = uuid();
  await sql.tx(async (tx) => {
    const v = await getVolume(tx, volumeId);
    const readonly = /^true$/i.test((JSON.parse(v.metadata || '{}') as Record<string, string>).readonly ?? '');
    if (readonly && a.mode === 'rw') throw invalid(`Invalid volume: Volume ${v.id} is read-only; attach it with mode ro.`);
    const expected = v.multiattach ? ['available', 'attaching', 'in-use'] : ['available', 'attaching'];
    const now = nowIso();
    const r = await tx.run(
      `UPDATE volumes SET status = 'in-use', attach_status = 'attached', updated_at = ? WHERE id = ? AND deleted = 0 AND status IN (${expected.map(() => '?').join(', ')})`,
      [now, v.id, ...expected],
    );
    if (r.changes !== 1) throw invalid(`Invalid volume: Volume ${v.id} status must be ${expected.join(' or ')} to attach, but current status is: ${v.status}.`);
    await tx.run(
      `INSERT INTO volume_attachments (id, volume_id, instance_uuid, attached_host, mountpoint, attach_mode, status, attach_time, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'attached', ?, ?, ?)`,
      [id, v.id, a.instance_uuid ?? null, a.host_name ?? null, a.mountpoint, readonly ? 'ro' : (a.mode ?? 'rw'), now, now, now],
    );
  });
  return (await sql.get<AttachmentRow>('SELECT * FROM volume_attachments WHERE id = ?', [id]))!;
}

/** Removes attachmentId (or the volume's only live attachment). */
export async function detachVolume(sql: Sql, volumeId: string, attachmentId?: string | null): Promise<void> {
  const v = await getVolume(sql, volumeId);
  const live = await sql.all<AttachmentRow>('SELECT * FROM volume_attachments WHERE volume_id = ? AND deleted = 0', [v.id]);
  let att: AttachmentRow | undefined;
  if (attachmentId) {
    att = live.find((x) => x.id === attachmentId);
    if (!att) throw invalid(`Invalid volume: Volume ${v.id} has no attachment ${attachmentId}.`);
  } else {
    if (live.length === 0) {
      // Cinder degrades gracefully: a detach of a volume with no attachment leaves it available.
      await sql.run(
        `UPDATE volumes SET status = 'available', attach_status = 'detached', updated_at = ?
         WHERE id = ? AND deleted = 0 AND status IN ('reserved', 'attaching', 'in-use', 'detaching', 'error_attaching', 'error_detaching')`,
        [nowIso(), v.id],
      );
      return;
    }
    if (live.length > 1) throw invalid(`Invalid volume: Volume ${v.id} has ${live.length} attachments; say which one with attachment_id.`);
    att = live[0];
  }
  await deleteAttachment(sql, att.id);
}

/** Admin: ends the attachment whatever the volume's status (Cinder's os-force_detach). */
export async function forceDetach(sql: Sql, volumeId: string, attachmentId?: string | null): Promise<void> {
  const v = await getVolume(sql, volumeId);
  const live = await sql.all<AttachmentRow>('SELECT * FROM volume_attachments WHERE volume_id = ? AND deleted = 0', [v.id]);
  const gone = attachmentId ? live.filter((x) => x.id === attachmentId) : live.length === 1 ? live : [];
  if (attachmentId && !gone.length) throw invalid(`Invalid volume: Volume ${v.id} has no attachment ${attachmentId}.`);
  if (!attachmentId && live.length > 1) throw invalid(`Invalid volume: Volume ${v.id} has ${live.length} attachments; say which one with attachment_id.`);
  await sql.tx(async (tx) => {
    const now = nowIso();
    for (const a of gone) await tx.run("UPDATE volume_attachments SET status = 'detached', detach_time = ?, updated_at = ?, deleted = 1 WHERE id = ?", [now, now, a.id]);
    const attached = live.some((x) => x.status === 'attached' && !gone.includes(x));
    await tx.run("UPDATE volumes SET status = ?, attach_status = ?, updated_at = ? WHERE id = ? AND deleted = 0 AND status NOT IN ('deleting', 'deleted')", [
      attached ? 'in-use' : 'available', attached ? 'attached' : 'detached', now, v.id,
    ]);
  });
}
