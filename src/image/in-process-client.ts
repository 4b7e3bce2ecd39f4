/** ImageClient for services in the same process: direct DB and store access, no user context. */
import type { Sql } from '../db/sql.js';
import { conflict } from '../errors.js';
import type { ImageMeta } from '../virt/driver.js';
import { imageNotFound } from './access.js';
import type { ImageClient } from './client.js';
import type { Images } from './images.js';
import type { ImageRecord } from './model.js';
import { findImage, findMember, markDeleted } from './repo.js';
import { nowIso } from '../util/time.js';

export function imageMeta(r: ImageRecord): ImageMeta {
  return {
    id: r.id,
    name: r.name,
    disk_format: r.disk_format,
    container_format: r.container_format,
    size: r.size,
    min_disk: r.min_disk,
    min_ram: r.min_ram,
    checksum: r.checksum,
    properties: { ...r.properties },
  };
}

export function inProcessClient(sql: Sql, images: Images): ImageClient {
  const live = async (id: string): Promise<ImageRecord> => {
    const r = await findImage(sql, id);
    if (!r) throw imageNotFound(id);
    return r;
  };
  return {
    async get(id) {
      return imageMeta(await live(id));
    },
    async visibleTo(id, projectId) {
      const r = await findImage(sql, id);
      if (!r) return false;
      if (r.visibility === 'public' || r.visibility === 'community' || r.owner === projectId) return true;
      return r.visibility === 'shared' && (await findMember(sql, id, projectId)) !== undefined;
    },
    async dataPath(id) {
      const r = await live(id);
      if (r.status !== 'active' || !r.file_path) throw conflict(`Image ${id} is not active (status ${r.status}): it has no data to read.`);
      return r.file_path;
    },
    async uploadFile(id, path, format) {
      const r = await live(id);
      await images.receive(r, (store) => store.adopt(id, path), format);
    },
    // Only an image that never became active is abandoned; active ones (and gone ones) are left as they are.
    async abandon(id) {
      const r = await findImage(sql, id);
      if (!r || r.status === 'active' || r.status === 'deactivated') return;
      await markDeleted(sql, id, nowIso());
      await images.store.remove(r.file_path);
    },
    async remove(id) {
      const r = await findImage(sql, id);
      if (!r) return;
      await markDeleted(sql, id, nowIso());
      if (r.file_path) await images.store.remove(r.file_path);
    },
  };
}
