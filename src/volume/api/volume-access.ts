/** Which volumes and snapshots a caller sees (own project, or any for admins; others' are 404) and the views of many. */
import type { Sql } from '../../db/sql.js';
import { attachmentsOfVolumes, getSnapshot, getVolume, snapshotNotFound, typeNames, volumeNotFound, type SnapshotRow } from '../repo.js';
import type { VolumeRow } from '../types.js';
import { volumeView } from '../views.js';
import type { Call } from './context.js';

export async function visibleVolume(sql: Sql, c: Call, id: string): Promise<VolumeRow> {
  const v = await getVolume(sql, id);
  if (v.project_id !== c.projectId && !c.isAdmin) throw volumeNotFound(id);
  return v;
}

export async function visibleSnapshot(sql: Sql, c: Call, id: string): Promise<SnapshotRow> {
  const s = await getSnapshot(sql, id);
  if (s.project_id !== c.projectId && !c.isAdmin) throw snapshotNotFound(id);
  return s;
}

/** Detail views of rows, in order (attachments and type names read once); `extended` as volumeView. */
export async function volumeViews(sql: Sql, c: Call, rows: VolumeRow[], extended = true) {
  const atts = await attachmentsOfVolumes(sql, rows.map((r) => r.id));
  const names = await typeNames(sql);
  return rows.map((r) =>
    volumeView(
      c,
      r,
      atts.filter((a) => a.volume_id === r.id),
      r.volume_type_id ? (names.get(r.volume_type_id) ?? null) : null,
      r.volume_type_id,
      extended,
    ),
  );
}
