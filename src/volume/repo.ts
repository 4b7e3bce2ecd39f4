/**
 * Row access of the block storage service: volumes, snapshots, types and attachments, with
 * Cinder's not-found messages. Visibility (owner project or admin) is applied by the callers
 * that act for a user (src/volume/api); the VolumeClient acts at service level.
 */
import type { Sql } from '../db/sql.js';
import { notFound } from '../errors.js';
import type { AttachmentRow, VolumeRow } from './types.js';

export interface SnapshotRow {
  id: string;
  volume_id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  metadata: string;
  path: string | null;
  error: string | null;
  created_at: string;
  updated_at: string | null;
  deleted: number;
}

export interface VolumeTypeRow {
  id: string;
  name: string;
  description: string | null;
  is_public: number;
  extra_specs: string;
  created_at: string;
  updated_at: string | null;
  deleted: number;
}

export const DEFAULT_TYPE_NAME = '__DEFAULT__';

export const volumeNotFound = (id: string) => notFound(`Volume ${id} could not be found.`);
export const snapshotNotFound = (id: string) => notFound(`Snapshot ${id} could not be found.`);
export const attachmentNotFound = (id: string) => notFound(`Volume attachment could not be found with filter: attachment_id = ${id}.`);

/** The live volume id (NotFound otherwise). */
export async function getVolume(sql: Sql, id: string): Promise<VolumeRow> {
  const row = await sql.get<VolumeRow>('SELECT * FROM volumes WHERE id = ? AND deleted = 0', [id]);
  if (!row) throw volumeNotFound(id);
  return row;
}

export async function getSnapshot(sql: Sql, id: string): Promise<SnapshotRow> {
  const row = await sql.get<SnapshotRow>('SELECT * FROM volume_snapshots WHERE id = ? AND deleted = 0', [id]);
  if (!row) throw snapshotNotFound(id);
  return row;
}

export async function getAttachment(sql: Sql, id: string): Promise<AttachmentRow> {
  const row = await sql.get<AttachmentRow>('SELECT * FROM volume_attachments WHERE id = ? AND deleted = 0', [id]);
  if (!row) throw attachmentNotFound(id);
  return row;
}

/** Live (not deleted) attachments of the volumes, oldest first. */
export async function attachmentsOfVolumes(sql: Sql, volumeIds: string[]): Promise<AttachmentRow[]> {
  if (!volumeIds.length) return [];
  const out: AttachmentRow[] = [];
  for (let i = 0; i < volumeIds.length; i += 500) {
    const ids = volumeIds.slice(i, i + 500);
    out.push(
      ...(await sql.all<AttachmentRow>(
        `SELECT * FROM volume_attachments WHERE deleted = 0 AND volume_id IN (${ids.map(() => '?').join(', ')}) ORDER BY created_at, id`,
        ids,
      )),
    );
  }
  return out;
}

/** Type by id or by name (Cinder accepts either); NotFound names what was asked. */
export async function findVolumeType(sql: Sql, idOrName: string): Promise<VolumeTypeRow> {
  const row =
    (await sql.get<VolumeTypeRow>('SELECT * FROM volume_types WHERE id = ? AND deleted = 0', [idOrName])) ??
    (await sql.get<VolumeTypeRow>('SELECT * FROM volume_types WHERE name = ? AND deleted = 0', [idOrName]));
  if (!row) throw notFound(`Volume type with name or id ${idOrName} could not be found.`);
  return row;
}

/** The default type (`__DEFAULT__`, seeded), or null before the seed ran. */
export async function defaultVolumeType(sql: Sql): Promise<VolumeTypeRow | null> {
  return (await sql.get<VolumeTypeRow>('SELECT * FROM volume_types WHERE name = ? AND deleted = 0', [DEFAULT_TYPE_NAME])) ?? null;
}

/** Names of types by id (for views). */
export async function typeNames(sql: Sql): Promise<Map<string, string>> {
  const rows = await sql.all<{ id: string; name: string }>('SELECT id, name FROM volume_types');
  return new Map(rows.map((r) => [r.id, r.name]));
}
