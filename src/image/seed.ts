/**
 * The image every fresh cloud offers: public `tiny-linux`.
 * - With the fake driver (seedImages): a PLACEHOLDER: a valid but empty qcow2 disk of 1 GiB
 *   (256 KiB stored, nothing bootable on it). The fake driver never reads it; volumes made
 *   from it (boot from volume) convert it like any real image.
 * - With the qemu driver (seedGuestImage): the real test guest, AMI-style: `tiny-linux-kernel`
 *   (aki), `tiny-linux-ramdisk` (ari), both hidden, and `tiny-linux` (qcow2) naming them in
 *   kernel_id/ramdisk_id, built by src/virt/qemu/guest-image.
 * Checksums and sizes always describe the stored bytes honestly.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Sql } from '../db/sql.js';
import { uuid } from '../util/ids.js';
import { nowIso } from '../util/time.js';
import type { ImageRecord } from './model.js';
import { insertImage, markDeleted } from './repo.js';
import type { ImageStore, StoredData } from './store.js';
import { virtualSize } from './virtual-size.js';
import { emptyQcow2 } from './empty-qcow2.js';
import type { GuestImageFiles } from '../virt/qemu/guest-image/index.js';

export type { GuestImageFiles };

export const SEED_IMAGE_NAME = 'tiny-linux';
export const SEED_KERNEL_NAME = 'tiny-linux-kernel';
export const SEED_RAMDISK_NAME = 'tiny-linux-ramdisk';
/** The property naming the guest-image build a seeded image came from. */
export const IMAGE_VERSION_PROPERTY = 'nova_ts_image_version';
const PLACEHOLDER_VIRTUAL_SIZE = 2 ** 30;
/** The text placeholder of earlier versions (4 KiB of repeated words), still recognised and replaced. */
const OLD_PLACEHOLDER_DESCRIPTION = 'Placeholder test image: not bootable yet';
const OLD_PLACEHOLDER_MD5 = oldPlaceholderMd5();

function oldPlaceholderMd5(): string {
  const text = Buffer.from('nova-ts placeholder for the tiny-linux test image: not a bootable disk.\n');
  const out = Buffer.alloc(4096);
  for (let i = 0; i < out.length; i += text.length) text.copy(out, i);
  return createHash('md5').update(out).digest('hex');
}
const PLACEHOLDER_DESCRIPTION = 'Placeholder test image for the fake driver: an empty qcow2 disk, not bootable';

export function placeholderData(): Buffer {
  return emptyQcow2(PLACEHOLDER_VIRTUAL_SIZE);
}

async function adminProject(sql: Sql): Promise<string | null> {
  const row = await sql.get<{ id: string }>(
    "SELECT id FROM projects WHERE name = 'admin' ORDER BY CASE WHEN domain_id = 'default' THEN 0 ELSE 1 END LIMIT 1",
  );
  return row?.id ?? null;
}

/** Registers tiny-linux when no live image has that name. Idempotent. */
export async function seedImages(sql: Sql, store: ImageStore): Promise<void> {
  if (await sql.get("SELECT 1 AS x FROM images WHERE name = ? AND deleted = 0 AND status <> 'deleted'", [SEED_IMAGE_NAME])) return;
  const admin = await adminProject(sql);
  const id = uuid();
  // Data first, then the row, so a failure leaves no image stuck without data.
  const stored = await store.write(id, Readable.from([placeholderData()]));
  const now = nowIso();
  const r: ImageRecord = {
    id,
    name: SEED_IMAGE_NAME,
    owner: admin,
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
    properties: { description: PLACEHOLDER_DESCRIPTION },
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

interface SeededRow {
  id: string;
  name: string;
  file_path: string | null;
  checksum: string | null;
  properties: string;
}

/**
 * Registers the built tiny-linux (kernel, ramdisk, disk) unless the live tiny-linux already
 * comes from this build (property nova_ts_image_version), so it is idempotent. Images that an
 * earlier seed made (the placeholder, or another version's three images) are marked deleted
 * in the same transaction as the new ones are inserted, and their data removed afterwards;
 * images of the same names that users uploaded are left alone. The data files are copied into
 * the store first: on any failure they are removed and no image row is left behind.
 */
export async function seedGuestImage(sql: Sql, store: ImageStore, files: GuestImageFiles): Promise<void> {
  const live = await liveSeeded(sql);
  const current = live.find((r) => r.name === SEED_IMAGE_NAME && isVersion(r, files.version));
  if (current) {
    const props = JSON.parse(current.properties) as Record<string, string>;
    const parts = live.filter((r) => r.id === props.kernel_id || r.id === props.ramdisk_id);
    if (parts.length === 2) return;
  }
  const owner = await adminProject(sql);
  const stored: StoredData[] = [];
  try {
    const put = async (path: string) => {
      const id = uuid();
      // Opened first, so a missing file rejects here instead of erroring a stream nobody reads yet.
      const fh = await open(path, 'r');
      const data = await store.write(id, fh.createReadStream()).finally(() => fh.close().catch(() => undefined));
      stored.push(data);
      return { id, data };
    };
    const kernel = await put(files.kernel);
    const ramdisk = await put(files.ramdisk);
    const disk = await put(files.disk);
    const now = nowIso();
    const record = (id: string, data: StoredData, name: string, format: 'aki' | 'ari' | 'qcow2', props: Record<string, string>): ImageRecord => ({
      id,
      name,
      owner,
      status: 'active',
      visibility: 'public',
      protected: false,
      os_hidden: format !== 'qcow2',
      disk_format: format,
      container_format: format === 'qcow2' ? 'bare' : format,
      size: data.size,
      virtual_size: virtualSize(format, data.head, data.size),
      checksum: data.checksum,
      os_hash_algo: 'sha512',
      os_hash_value: data.hash,
      min_disk: 0,
      min_ram: 0,
      properties: { ...props, [IMAGE_VERSION_PROPERTY]: files.version },
      tags: [],
      file_path: data.path,
      created_at: now,
      updated_at: now,
    });
    const old = await sql.tx(async (tx) => {
      // Re-read inside the transaction: another process may have seeded meanwhile.
      const before = await liveSeeded(tx);
      for (const r of before) await markDeleted(tx, r.id, now);
      await insertImage(tx, record(kernel.id, kernel.data, SEED_KERNEL_NAME, 'aki', { description: `Kernel of tiny-linux ${files.version}` }));
      await insertImage(tx, record(ramdisk.id, ramdisk.data, SEED_RAMDISK_NAME, 'ari', { description: `Initramfs of tiny-linux ${files.version}` }));
      await insertImage(
        tx,
        record(disk.id, disk.data, SEED_IMAGE_NAME, 'qcow2', {
          kernel_id: kernel.id,
          ramdisk_id: ramdisk.id,
          description: `tiny-linux ${files.version}: the nova-ts test guest (busybox, dropbear, config drive, user data)`,
          hw_qemu_guest_agent: 'no',
        }),
      );
      return before;
    });
    for (const r of old) await store.remove(r.file_path);
  } catch (e) {
    for (const d of stored) await store.remove(d.path);
    throw e;
  }
}

function isVersion(r: SeededRow, version: string): boolean {
  const props = JSON.parse(r.properties) as Record<string, string>;
  return props[IMAGE_VERSION_PROPERTY] === version;
}

/** Live images an earlier seed made: any version of the three, or the placeholder. */
async function liveSeeded(sql: Sql): Promise<SeededRow[]> {
  const rows = await sql.all<SeededRow>(
    "SELECT id, name, file_path, checksum, properties FROM images WHERE name IN (?, ?, ?) AND deleted = 0 AND status <> 'deleted'",
    [SEED_IMAGE_NAME, SEED_KERNEL_NAME, SEED_RAMDISK_NAME],
  );
  const placeholder = createHash('md5').update(placeholderData()).digest('hex');
  return rows.filter((r) => {
    const props = JSON.parse(r.properties || '{}') as Record<string, string>;
    if (props[IMAGE_VERSION_PROPERTY]) return true;
    if (r.name !== SEED_IMAGE_NAME) return false;
    // Data dirs seeded before the placeholder became a real qcow2 carry the older text one.
    if (r.checksum === OLD_PLACEHOLDER_MD5 && props.description === OLD_PLACEHOLDER_DESCRIPTION) return true;
    return r.checksum === placeholder && props.description === PLACEHOLDER_DESCRIPTION;
  });
}
