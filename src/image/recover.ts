/**
 * Startup reconciliation of the data store: an image left `saving` by a process that died
 * mid-upload goes back to `queued` (so it can be uploaded again), and the temporary files of
 * such uploads are removed, as are data files of deleted or unknown images (a delete that died
 * between the DB and the file). A file written to within `staleMs` may belong to a write still
 * in progress (another API process sharing the store) and is left alone. Idempotent.
 */
import type { Sql } from '../db/sql.js';
import { logger } from '../util/log.js';
import { nowIso } from '../util/time.js';
import { updateImage } from './repo.js';
import type { ImageStore } from './store.js';

const log = logger('image');

export async function recoverUploads(sql: Sql, store: ImageStore, staleMs = 10 * 60_000): Promise<void> {
  const now = Date.now();
  const temps = await store.temps();
  const live = new Set(temps.filter((t) => now - t.mtimeMs < staleMs).map((t) => t.imageId));
  for (const t of temps) if (!live.has(t.imageId)) await store.remove(t.path);
  for (const { imageId: id, mtimeMs } of await store.stored()) {
    if (now - mtimeMs < staleMs) continue; // may be a write whose row is about to be recorded
    const row = await sql.get<{ deleted: number }>('SELECT deleted FROM images WHERE id = ?', [id]);
    if (!row || Number(row.deleted) !== 0) {
      await store.remove(store.pathOf(id));
      log.warn(`removed the data file of deleted or unknown image ${id}`);
    }
  }
  const saving = await sql.all<{ id: string }>("SELECT id FROM images WHERE status = 'saving' AND deleted = 0");
  for (const { id } of saving) {
    if (live.has(id)) continue;
    if (await updateImage(sql, id, { status: 'queued', updated_at: nowIso() }, 'saving'))
      log.warn(`image ${id} was left saving by an interrupted upload; it is queued again`);
  }
}
