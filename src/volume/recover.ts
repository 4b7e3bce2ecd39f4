/**
 * What the volume manager finishes or undoes on start, for the rows of its host a restart
 * interrupted (idempotent; runs before the manager serves its topic):
 * - volumes creating -> error "interrupted by a restart of the volume service" (a half-made
 *   file is removed); snapshots creating -> error likewise;
 * - volumes and snapshots deleting -> the delete is finished;
 * - volumes extending -> available, with the file's size when the file grew, else the old size.
 */
import type { Sql } from '../db/sql.js';
import { nowIso } from '../util/time.js';
import type { Logger } from '../util/log.js';
import type { VolumeRow } from './types.js';
import { GiB } from './store.js';
import { message, type SnapshotRow, type ManagerOps } from './manager-ops.js';

export const INTERRUPTED = 'interrupted by a restart of the volume service';

export interface RecoveryReport {
  failed: string[];
  deleted: string[];
  extended: string[];
}

export async function recoverVolumes(sql: Sql, host: string, ops: ManagerOps, log: Logger): Promise<RecoveryReport> {
  const out: RecoveryReport = { failed: [], deleted: [], extended: [] };
  const vols = await sql.all<VolumeRow>(
    `SELECT * FROM volumes WHERE host = ? AND deleted = 0 AND status IN ('creating', 'deleting', 'extending')`, [host]);
  for (const v of vols) {
    try {
      if (v.status === 'creating') {
        await ops.store.remove(ops.store.volumePath(v.id, 'qcow2'));
        await ops.store.remove(ops.store.volumePath(v.id, 'raw'));
        await sql.run(`UPDATE volumes SET status = 'error', error = ?, updated_at = ? WHERE id = ? AND status = 'creating'`, [INTERRUPTED, nowIso(), v.id]);
        out.failed.push(v.id);
      } else if (v.status === 'deleting') {
        await ops.deleteVolume(v.id);
        out.deleted.push(v.id);
      } else {
        const bytes = v.path ? await ops.store.virtualSize(v.path, v.format) : null;
        const size = bytes !== null && bytes > v.size * GiB ? Math.ceil(bytes / GiB) : v.size;
        await sql.run(`UPDATE volumes SET status = 'available', size = ?, updated_at = ? WHERE id = ? AND status = 'extending'`, [size, nowIso(), v.id]);
        out.extended.push(v.id);
      }
    } catch (e) {
      log.error(`volume ${v.id}: recovery from ${v.status} failed: ${message(e)}`);
    }
  }
  const snaps = await sql.all<SnapshotRow>(
    `SELECT s.* FROM volume_snapshots s JOIN volumes v ON v.id = s.volume_id
     WHERE v.host = ? AND s.deleted = 0 AND s.status IN ('creating', 'deleting')`, [host]);
  for (const s of snaps) {
    try {
      if (s.status === 'creating') {
        await ops.store.remove(ops.store.snapshotPath(s.id));
        await sql.run(`UPDATE volume_snapshots SET status = 'error', error = ?, updated_at = ? WHERE id = ? AND status = 'creating'`, [INTERRUPTED, nowIso(), s.id]);
        out.failed.push(s.id);
      } else {
        await ops.deleteSnapshot(s.id);
        out.deleted.push(s.id);
      }
    } catch (e) {
      log.error(`snapshot ${s.id}: recovery from ${s.status} failed: ${message(e)}`);
    }
  }
  if (vols.length + snaps.length > 0) log.info(`recovered after a restart: ${JSON.stringify(out)}`);
  return out;
}
