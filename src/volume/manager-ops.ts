/**
 * What the volume manager does for each cast: runs the store operation and moves the row's
 * status. Every operation acts only from the status the API left the row in (creating,
 * deleting, extending; snapshot creating, deleting) and ignores a row in any other status, so
 * a repeated or late cast is harmless. Failures end in the error status of the operation with
 * `error` in words (and the log); they never throw back to the bus.
 */
import type { Sql } from '../db/sql.js';
import type { ImageClient } from '../image/client.js';
import { nowIso } from '../util/time.js';
import type { Logger } from '../util/log.js';
import type { VolumeRow } from './types.js';
import { VolumeStore, type VolumeFormat } from './store.js';

export interface SnapshotRow {
  id: string;
  volume_id: string;
  size: number;
  status: string;
  path: string | null;
  deleted: number;
}

export const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The image fields Cinder copies into volume_image_metadata besides the image's properties. */
const IMAGE_FIELDS = ['disk_format', 'container_format', 'min_ram', 'min_disk', 'size', 'checksum'] as const;

export class ManagerOps {
  constructor(
    private readonly sql: Sql,
    readonly store: VolumeStore,
    private readonly host: string,
    private readonly images: ImageClient,
    private readonly format: VolumeFormat,
    private readonly log: Logger,
  ) {}

  volume(id: string): Promise<VolumeRow | undefined> {
    return this.sql.get<VolumeRow>('SELECT * FROM volumes WHERE id = ? AND deleted = 0', [id]);
  }

  snapshot(id: string): Promise<SnapshotRow | undefined> {
    return this.sql.get<SnapshotRow>('SELECT * FROM volume_snapshots WHERE id = ? AND deleted = 0', [id]);
  }

  /** creating -> available (file made, path/format/host set) | error. */
  async createVolume(volumeId: string): Promise<void> {
    const v = await this.volume(volumeId);
    if (!v || v.status !== 'creating') return this.skip('create_volume', volumeId, v?.status);
    const format = this.format;
    try {
      let path: string;
      let extra: { bootable: number; volume_image_metadata: string } = { bootable: v.bootable, volume_image_metadata: v.volume_image_metadata };
      if (v.image_id) {
        const image = await this.images.get(v.image_id);
        const src = await this.images.dataPath(v.image_id);
        path = await this.store.createFromImage(v.id, v.size, format, { id: image.id, path: src, disk_format: image.disk_format });
        extra = { bootable: 1, volume_image_metadata: JSON.stringify(await this.imageMetadata(v.image_id)) };
      } else if (v.snapshot_id) {
        const s = await this.snapshot(v.snapshot_id);
        if (!s || s.status !== 'available' || !s.path) throw new Error(`Snapshot ${v.snapshot_id} is not available.`);
        path = await this.store.createFromFile(v.id, v.size, format, { path: s.path, format: 'qcow2' });
        const origin = await this.sql.get<VolumeRow>('SELECT * FROM volumes WHERE id = ?', [s.volume_id]);
        if (origin) extra = { bootable: origin.bootable, volume_image_metadata: origin.volume_image_metadata };
      } else if (v.source_volid) {
        const src = await this.volume(v.source_volid);
        if (!src || !src.path) throw new Error(`Source volume ${v.source_volid} has no data to copy.`);
        path = await this.store.createFromFile(v.id, v.size, format, { path: src.path, format: src.format });
        extra = { bootable: src.bootable, volume_image_metadata: src.volume_image_metadata };
      } else {
        path = await this.store.createEmpty(v.id, v.size, format);
      }
      const r = await this.sql.run(
        `UPDATE volumes SET status = 'available', path = ?, format = ?, host = ?, bootable = ?, volume_image_metadata = ?, error = NULL, updated_at = ?
         WHERE id = ? AND status = 'creating' AND deleted = 0`,
        [path, format, this.host, extra.bootable, extra.volume_image_metadata, nowIso(), v.id],
      );
      if (r.changes === 0) await this.store.remove(path); // deleted or reset meanwhile
    } catch (e) {
      this.log.warn(`volume ${v.id}: create failed: ${message(e)}`);
      await this.store.remove(this.store.volumePath(v.id, format)).catch(() => {});
      await this.sql.run(`UPDATE volumes SET status = 'error', error = ?, updated_at = ? WHERE id = ? AND status = 'creating'`, [message(e), nowIso(), v.id]);
    }
  }

  /** deleting -> deleted (file gone, row soft-deleted) | error_deleting. */
  async deleteVolume(volumeId: string): Promise<void> {
    const v = await this.volume(volumeId);
    if (!v || v.status !== 'deleting') return this.skip('delete_volume', volumeId, v?.status);
    try {
      if (v.path) await this.store.remove(v.path);
      for (const f of ['qcow2', 'raw'] as const) await this.store.remove(this.store.volumePath(v.id, f));
      const now = nowIso();
      await this.sql.run(
        `UPDATE volumes SET status = 'deleted', deleted = 1, deleted_at = ?, updated_at = ? WHERE id = ? AND status = 'deleting' AND deleted = 0`,
        [now, now, v.id],
      );
    } catch (e) {
      this.log.warn(`volume ${v.id}: delete failed: ${message(e)}`);
      await this.sql.run(`UPDATE volumes SET status = 'error_deleting', error = ?, updated_at = ? WHERE id = ? AND status = 'deleting'`, [message(e), nowIso(), v.id]);
    }
  }

  /** extending -> available with size new_size | error_extending (size unchanged). */
  async extendVolume(volumeId: string, newSize: number): Promise<void> {
    const v = await this.volume(volumeId);
    if (!v || v.status !== 'extending') return this.skip('extend_volume', volumeId, v?.status);
    try {
      if (!Number.isInteger(newSize) || newSize <= v.size) throw new Error(`New size ${newSize} GiB must be larger than the current size (${v.size} GiB).`);
      if (!v.path) throw new Error(`Volume ${v.id} has no file.`);
      await this.store.extend(v.path, v.format, newSize);
      await this.sql.run(`UPDATE volumes SET status = 'available', size = ?, error = NULL, updated_at = ? WHERE id = ? AND status = 'extending'`, [newSize, nowIso(), v.id]);
    } catch (e) {
      this.log.warn(`volume ${v.id}: extend failed: ${message(e)}`);
      await this.sql.run(`UPDATE volumes SET status = 'error_extending', error = ?, updated_at = ? WHERE id = ? AND status = 'extending'`, [message(e), nowIso(), v.id]);
    }
  }

  /** snapshot creating -> available (full copy made) | error. */
  async createSnapshot(snapshotId: string): Promise<void> {
    const s = await this.snapshot(snapshotId);
    if (!s || s.status !== 'creating') return this.skip('create_snapshot', snapshotId, s?.status);
    try {
      const v = await this.volume(s.volume_id);
      if (!v || !v.path) throw new Error(`Volume ${s.volume_id} has no data to snapshot.`);
      const path = await this.store.createSnapshot(s.id, { path: v.path, format: v.format });
      const r = await this.sql.run(`UPDATE volume_snapshots SET status = 'available', path = ?, error = NULL, updated_at = ? WHERE id = ? AND status = 'creating' AND deleted = 0`, [path, nowIso(), s.id]);
      if (r.changes === 0) await this.store.remove(path);
    } catch (e) {
      this.log.warn(`snapshot ${s.id}: create failed: ${message(e)}`);
      await this.store.remove(this.store.snapshotPath(s.id)).catch(() => {});
      await this.sql.run(`UPDATE volume_snapshots SET status = 'error', error = ?, updated_at = ? WHERE id = ? AND status = 'creating'`, [message(e), nowIso(), s.id]);
    }
  }

  /** snapshot deleting -> deleted (file gone) | error_deleting. */
  async deleteSnapshot(snapshotId: string): Promise<void> {
    const s = await this.snapshot(snapshotId);
    if (!s || s.status !== 'deleting') return this.skip('delete_snapshot', snapshotId, s?.status);
    try {
      await this.store.remove(s.path ?? this.store.snapshotPath(s.id));
      await this.sql.run(`UPDATE volume_snapshots SET status = 'deleted', deleted = 1, updated_at = ? WHERE id = ? AND status = 'deleting' AND deleted = 0`, [nowIso(), s.id]);
    } catch (e) {
      this.log.warn(`snapshot ${s.id}: delete failed: ${message(e)}`);
      await this.sql.run(`UPDATE volume_snapshots SET status = 'error_deleting', error = ?, updated_at = ? WHERE id = ? AND status = 'deleting'`, [message(e), nowIso(), s.id]);
    }
  }

  /** Cinder's volume_image_metadata: the image's properties plus its main fields. */
  private async imageMetadata(imageId: string): Promise<Record<string, string>> {
    const image = await this.images.get(imageId);
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(image.properties ?? {})) if (val !== null && val !== undefined) out[k] = typeof val === 'string' ? val : JSON.stringify(val);
    out.image_id = image.id;
    if (image.name !== null) out.image_name = image.name;
    const fields = image as unknown as Record<string, unknown>;
    for (const f of IMAGE_FIELDS) if (fields[f] !== null && fields[f] !== undefined) out[f] = String(fields[f]);
    return out;
  }

  private skip(op: string, id: string, status: string | undefined): void {
    this.log.info(`${op} ${id}: nothing to do (${status ? `status ${status}` : 'not found'})`);
  }
}
