/**
 * The image every fresh cloud offers: public `tiny-linux`. Its data is a PLACEHOLDER (a few
 * KiB of descriptive bytes, not a bootable disk) until the QEMU work builds the real test guest
 * image; the fake driver never reads it. Checksums and size describe these bytes honestly.
 */
import { Readable } from 'node:stream';
import type { Sql } from '../db/sql.js';
import { uuid } from '../util/ids.js';
import { nowIso } from '../util/time.js';
import type { ImageRecord } from './model.js';
import { insertImage } from './repo.js';
import type { ImageStore } from './store.js';
import { virtualSize } from './virtual-size.js';

export const SEED_IMAGE_NAME = 'tiny-linux';
const PLACEHOLDER_SIZE = 4096;

export function placeholderData(): Buffer {
  const text = Buffer.from('nova-ts placeholder for the tiny-linux test image: not a bootable disk.\n');
  const out = Buffer.alloc(PLACEHOLDER_SIZE);
  for (let i = 0; i < out.length; i += text.length) text.copy(out, i);
  return out;
}

/** Registers tiny-linux when no live image has that name. Idempotent. */
export async function seedImages(sql: Sql, store: ImageStore): Promise<void> {
  if (await sql.get("SELECT 1 AS x FROM images WHERE name = ? AND deleted = 0 AND status <> 'deleted'", [SEED_IMAGE_NAME])) return;
  const admin = await sql.get<{ id: string }>(
    "SELECT id FROM projects WHERE name = 'admin' ORDER BY CASE WHEN domain_id = 'default' THEN 0 ELSE 1 END LIMIT 1",
  );
  const id = uuid();
  // Data first, then the row, so a failure leaves no image stuck without data.
  const stored = await store.write(id, Readable.from([placeholderData()]));
  const now = nowIso();
  const r: ImageRecord = {
    id,
    name: SEED_IMAGE_NAME,
    owner: admin?.id ?? null,
    status: 'active',
    visibility: 'public',
    protected: false,
    os_hidden: false,
    disk_format: 'qcow2',
    container_format: 'bare',
    size: stored.size,
    virtual_size: virtualSize('qcow2', stored.head, stored.size),
    checksum: stored.checksum,
    os_hash_algo: 'sha512',
    os_hash_value: stored.hash,
    min_disk: 0,
    min_ram: 0,
    properties: { description: 'Placeholder test image: not bootable yet' },
    tags: [],
    file_path: stored.path,
    created_at: now,
    updated_at: now,
  };
  try {
    await sql.tx((tx) => insertImage(tx, r));
  } catch (e) {
    await store.remove(stored.path);
    throw e;
  }
}
