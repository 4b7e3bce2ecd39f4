/**
 * Images for tests of the qemu driver: the real tiny-linux guest (built once into a cache
 * shared by test runs) and deliberately bad ones (a corrupt qcow2, a disk with no boot sector,
 * a disk larger than m1.tiny's), served by an in-memory image fetcher. The whole-disk images
 * (tiny-linux on a BIOS-bootable disk, no kernel_id) are built on their first fetch, so only
 * tests that boot them need whole-disk.ts's packages.
 */
import { mkdir, open, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageMeta } from '../driver.js';
import { run } from './exec.js';
import { ensureGuestImage } from './guest-image/index.js';
import { ensureWholeDiskImages } from './whole-disk.js';

export interface TestImages {
  kernel: ImageMeta;
  ramdisk: ImageMeta;
  disk: ImageMeta;
  corrupt: ImageMeta;
  unbootable: ImageMeta;
  big: ImageMeta;
  iso: ImageMeta;
  /** tiny-linux booted by SeaBIOS from its disk's MBR (syslinux), as disk_format raw. */
  wholeRaw: ImageMeta;
  /** The same disk as disk_format qcow2. */
  wholeQcow2: ImageMeta;
  fetch(id: string): Promise<{ meta: ImageMeta; path: string }>;
}

const meta = (id: string, disk_format: string, properties: Record<string, unknown> = {}): ImageMeta => ({
  id,
  name: id,
  disk_format,
  container_format: disk_format === 'aki' || disk_format === 'ari' ? disk_format : 'bare',
  size: null,
  min_disk: 0,
  min_ram: 0,
  properties,
});

/** Where tests keep the built tiny-linux (shared by every test file and run on this machine). */
export const TEST_GUEST_IMAGE_DIR = join(tmpdir(), 'nova-ts-guest-image-cache');

/** The tiny-linux guest files, built once into the shared test cache. */
function guestFiles() {
  return ensureGuestImage({ cacheDir: TEST_GUEST_IMAGE_DIR });
}

export async function testGuestImage(): Promise<TestImages> {
  const g = await guestFiles();
  const dir = join(tmpdir(), 'nova-ts-bad-images');
  await mkdir(dir, { recursive: true });
  const corrupt = join(dir, 'corrupt.qcow2');
  if (!existsSync(corrupt)) {
    // A qcow2 magic and version followed by garbage: looks like qcow2, is not one.
    const buf = Buffer.alloc(65536, 0xa5);
    Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]).copy(buf, 0);
    await writeFile(corrupt, buf);
  }
  const unbootable = join(dir, 'zeros.raw');
  if (!existsSync(unbootable)) await writeFile(unbootable, Buffer.alloc(1048576));
  const big = join(dir, 'big.raw');
  if (!existsSync(big)) {
    const fh = await open(big, 'w');
    await fh.truncate(2 * 1073741824);
    await fh.close();
  }
  await run('qemu-img', ['info', g.disk]);
  const kernel = meta('test-kernel', 'aki');
  const ramdisk = meta('test-ramdisk', 'ari');
  const ami = { kernel_id: kernel.id, ramdisk_id: ramdisk.id };
  const images: [ImageMeta, string][] = [
    [kernel, g.kernel],
    [ramdisk, g.ramdisk],
    [meta('test-disk', 'qcow2', ami), g.disk],
    [meta('test-corrupt', 'qcow2'), corrupt],
    [meta('test-unbootable', 'raw'), unbootable],
    [meta('test-big', 'raw', ami), big],
    [meta('test-iso', 'iso'), unbootable],
  ];
  const byId = new Map(images.map(([m, p]) => [m.id, { meta: m, path: p }]));
  const wholeRaw = meta('test-whole-raw', 'raw');
  const wholeQcow2 = meta('test-whole-qcow2', 'qcow2');
  const whole = new Map<string, { meta: ImageMeta; format: 'raw' | 'qcow2' }>([
    [wholeRaw.id, { meta: wholeRaw, format: 'raw' }],
    [wholeQcow2.id, { meta: wholeQcow2, format: 'qcow2' }],
  ]);
  return {
    kernel,
    ramdisk,
    disk: images[2][0],
    corrupt: images[3][0],
    unbootable: images[4][0],
    big: images[5][0],
    iso: images[6][0],
    wholeRaw,
    wholeQcow2,
    async fetch(id) {
      const w = whole.get(id);
      if (w) return { meta: w.meta, path: (await ensureWholeDiskImages(g, join(TEST_GUEST_IMAGE_DIR, 'whole-disk')))[w.format] };
      const e = byId.get(id);
      if (!e) throw new Error(`test image ${id} not found`);
      return e;
    },
  };
}
