/**
 * SQL access for images, their tags, extra properties and members. Reads skip deleted images.
 * Callers own transactions: functions taking a `tx` expect to run inside `sql.tx`.
 */
import { bool, inList, json, type Sql, type SqlValue } from '../db/sql.js';
import type { ImageRecord, ImageStatus, MemberRecord, MemberStatus, Visibility } from './model.js';

export interface ImageRow {
  id: string;
  name: string | null;
  owner: string | null;
  status: string;
  visibility: string;
  protected: number;
  os_hidden: number;
  disk_format: string | null;
  container_format: string | null;
  size: number | null;
  virtual_size: number | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  min_disk: number;
  min_ram: number;
  properties: string;
  file_path: string | null;
  created_at: string;
  updated_at: string;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Turns rows into records, loading every row's tags in one query. */
export async function toRecords(sql: Sql, rows: ImageRow[]): Promise<ImageRecord[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const tagRows = await sql.all<{ image_id: string; tag: string }>(
    `SELECT image_id, tag FROM image_tags WHERE image_id IN ${inList(ids.length)} ORDER BY tag`,
    ids,
  );
  const tags = new Map<string, string[]>();
  for (const t of tagRows) tags.set(t.image_id, [...(tags.get(t.image_id) ?? []), t.tag]);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    owner: r.owner,
    status: r.status as ImageStatus,
    visibility: r.visibility as Visibility,
    protected: Boolean(Number(r.protected)),
    os_hidden: Boolean(Number(r.os_hidden)),
    disk_format: r.disk_format,
    container_format: r.container_format,
    size: num(r.size),
    virtual_size: num(r.virtual_size),
    checksum: r.checksum,
    os_hash_algo: r.os_hash_algo,
    os_hash_value: r.os_hash_value,
    min_disk: Number(r.min_disk),
    min_ram: Number(r.min_ram),
    properties: json<Record<string, string>>(r.properties, {}),
    tags: tags.get(r.id) ?? [],
    file_path: r.file_path,
    created_at: r.created_at,
    updated_at: r.updated_at,
  }));
}

/** The live (not deleted) image with this id, or undefined. */
export async function findImage(sql: Sql, id: string): Promise<ImageRecord | undefined> {
  const row = await sql.get<ImageRow>('SELECT * FROM images WHERE id = ? AND deleted = 0', [id]);
  return row ? (await toRecords(sql, [row]))[0] : undefined;
}

/** True when an image row with this id exists at all, deleted or not (ids are never reused). */
export async function idTaken(sql: Sql, id: string): Promise<boolean> {
  return (await sql.get('SELECT 1 AS x FROM images WHERE id = ?', [id])) !== undefined;
}

export async function insertImage(tx: Sql, r: ImageRecord): Promise<void> {
  await tx.run(
    `INSERT INTO images (id, name, owner, status, visibility, protected, os_hidden, disk_format, container_format,
       size, virtual_size, checksum, os_hash_algo, os_hash_value, min_disk, min_ram, properties, file_path,
       created_at, updated_at, deleted)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
    [
      r.id,
      r.name,
      r.owner,
      r.status,
      r.visibility,
      bool(r.protected),
      bool(r.os_hidden),
      r.disk_format,
      r.container_format,
      r.size,
      r.virtual_size,
      r.checksum,
      r.os_hash_algo,
      r.os_hash_value,
      r.min_disk,
      r.min_ram,
      '{}',
      r.file_path,
      r.created_at,
      r.updated_at,
    ],
  );
  await saveProperties(tx, r.id, r.properties);
  await saveTags(tx, r.id, r.tags);
}

type Column =
  | 'name'
  | 'owner'
  | 'status'
  | 'visibility'
  | 'protected'
  | 'os_hidden'
  | 'disk_format'
  | 'container_format'
  | 'size'
  | 'virtual_size'
  | 'checksum'
  | 'os_hash_algo'
  | 'os_hash_value'
  | 'min_disk'
  | 'min_ram'
  | 'file_path'
  | 'updated_at';

/**
 * Updates columns of a live image, optionally only while its status is `whenStatus`.
 * Returns whether a row changed (false: gone, or not in that status).
 */
export async function updateImage(
  sql: Sql,
  id: string,
  set: Partial<Record<Column, SqlValue | boolean>>,
  whenStatus?: ImageStatus,
): Promise<boolean> {
  const cols = Object.keys(set) as Column[];
  const values = cols.map((c) => {
    const v = set[c];
    return typeof v === 'boolean' ? bool(v) : (v ?? null);
  });
  let where = 'id = ? AND deleted = 0';
  const params: SqlValue[] = [...values, id];
  if (whenStatus) {
    where += ' AND status = ?';
    params.push(whenStatus);
  }
  const r = await sql.run(`UPDATE images SET ${cols.map((c) => `${c} = ?`).join(', ')} WHERE ${where}`, params);
  return r.changes > 0;
}

/** Replaces the image's extra properties (JSON column and the indexed rows) as one set. */
export async function saveProperties(tx: Sql, id: string, props: Record<string, string>): Promise<void> {
  await tx.run('UPDATE images SET properties = ? WHERE id = ?', [JSON.stringify(props), id]);
  await tx.run('DELETE FROM image_properties WHERE image_id = ?', [id]);
  for (const [name, value] of Object.entries(props))
    await tx.run('INSERT INTO image_properties (image_id, name, value) VALUES (?, ?, ?)', [id, name, value]);
}

/** Replaces the image's tags as one set. */
export async function saveTags(tx: Sql, id: string, tags: string[]): Promise<void> {
  await tx.run('DELETE FROM image_tags WHERE image_id = ?', [id]);
  for (const tag of new Set(tags)) await tx.run('INSERT INTO image_tags (image_id, tag) VALUES (?, ?)', [id, tag]);
}

/** Adds one tag; false when the image already has it. */
export async function addTagRow(tx: Sql, id: string, tag: string): Promise<boolean> {
  if (await tx.get('SELECT 1 AS x FROM image_tags WHERE image_id = ? AND tag = ?', [id, tag])) return false;
  await tx.run('INSERT INTO image_tags (image_id, tag) VALUES (?, ?)', [id, tag]);
  return true;
}

/** Removes one tag; false when the image does not have it. */
export async function removeTagRow(tx: Sql, id: string, tag: string): Promise<boolean> {
  return (await tx.run('DELETE FROM image_tags WHERE image_id = ? AND tag = ?', [id, tag])).changes > 0;
}

export async function countTags(tx: Sql, id: string): Promise<number> {
  const r = await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM image_tags WHERE image_id = ?', [id]);
  return Number(r?.n ?? 0);
}

/** Marks an image deleted (kept as a row so its id is never reused). False when already gone. */
export async function markDeleted(sql: Sql, id: string, now: string): Promise<boolean> {
  const r = await sql.run(
    "UPDATE images SET status = 'deleted', deleted = 1, deleted_at = ?, updated_at = ?, file_path = NULL WHERE id = ? AND deleted = 0",
    [now, now, id],
  );
  return r.changes > 0;
}

export async function findMember(sql: Sql, imageId: string, memberId: string): Promise<MemberRecord | undefined> {
  return sql.get<MemberRecord>('SELECT * FROM image_members WHERE image_id = ? AND member_id = ?', [imageId, memberId]);
}

export async function listMembers(sql: Sql, imageId: string): Promise<MemberRecord[]> {
  return sql.all<MemberRecord>('SELECT * FROM image_members WHERE image_id = ? ORDER BY created_at, member_id', [imageId]);
}

export async function countMembers(sql: Sql, imageId: string): Promise<number> {
  const r = await sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM image_members WHERE image_id = ?', [imageId]);
  return Number(r?.n ?? 0);
}

export async function insertMember(sql: Sql, m: MemberRecord): Promise<void> {
  await sql.run('INSERT INTO image_members (image_id, member_id, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?)', [
    m.image_id,
    m.member_id,
    m.status,
    m.created_at,
    m.updated_at,
  ]);
}

export async function setMemberStatus(sql: Sql, imageId: string, memberId: string, status: MemberStatus, now: string): Promise<void> {
  await sql.run('UPDATE image_members SET status = ?, updated_at = ? WHERE image_id = ? AND member_id = ?', [
    status,
    now,
    imageId,
    memberId,
  ]);
}

export async function deleteMember(sql: Sql, imageId: string, memberId: string): Promise<boolean> {
  return (await sql.run('DELETE FROM image_members WHERE image_id = ? AND member_id = ?', [imageId, memberId])).changes > 0;
}
