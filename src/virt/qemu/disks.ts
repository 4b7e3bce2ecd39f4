/**
 * Disks of QEMU guests. Images are fetched once per host into a base cache (`_base/`, as Nova's
 * image cache): disks converted to raw, kernels and ramdisks copied. Each guest's root disk is a
 * qcow2 overlay on its base, grown to the flavor's root_gb. Every image is checked before a guest
 * uses it, so a bad image fails the build with a message that says what is wrong with it.
 */
import { copyFile, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ImageMeta } from '../driver.js';
import { run } from './exec.js';

/** Where the driver gets image data: metadata plus a readable local file. */
export type ImageFetcher = (id: string) => Promise<{ meta: ImageMeta; path: string }>;

/** qemu-img format names of the disk formats the driver boots. */
const QEMU_FORMAT: Record<string, string> = { qcow2: 'qcow2', raw: 'raw', ami: 'raw', vmdk: 'vmdk', vdi: 'vdi', vhd: 'vpc', vhdx: 'vhdx' };
const GiB = 1073741824;

export interface BaseDisk {
  path: string;
  virtualSize: number;
}

const imageLabel = (m: ImageMeta) => `Image ${m.id}${m.name ? ` (${m.name})` : ''}`;

async function readHead(path: string, bytes: number, at = 0): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, at);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export class ImageCache {
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(
    readonly dir: string,
    private readonly fetch: ImageFetcher,
  ) {}

  /** Runs make once per key at a time (five guests booting one image convert it once). */
  private once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let p = this.inflight.get(key) as Promise<T> | undefined;
    if (!p) {
      p = make().finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /** Writes via a temp name and renames, so a crash never leaves a half-written base. */
  private async build(final: string, write: (tmp: string) => Promise<void>): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${final}.part-${randomUUID().slice(0, 8)}`;
    try {
      await write(tmp);
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  /**
   * The raw base disk of an image, checked: a supported format whose data really is in that
   * format (qemu-img check for qcow2), and, unless the image boots by direct kernel boot,
   * a boot sector.
   */
  disk(image: ImageMeta, directKernelBoot: boolean): Promise<BaseDisk> {
    return this.once(`disk:${image.id}`, async () => {
      const final = join(this.dir, image.id);
      if (!(await exists(final))) {
        const { meta, path } = await this.fetch(image.id);
        const declared = meta.disk_format ?? 'raw';
        const fmt = QEMU_FORMAT[declared];
        if (!fmt)
          throw new Error(
            `${imageLabel(meta)} has disk_format '${declared}', which the qemu driver cannot boot as a root disk; use one of ${Object.keys(QEMU_FORMAT).join(', ')}.`,
          );
        await qemuImgCheck(meta, path, fmt);
        await this.build(final, (tmp) => run('qemu-img', ['convert', '-f', fmt, '-O', 'raw', path, tmp]).then(() => undefined));
      }
      if (!directKernelBoot) {
        const head = await readHead(final, 512);
        if (head.length < 512 || head[510] !== 0x55 || head[511] !== 0xaa) {
          throw new Error(
            `${imageLabel(image)} cannot boot: its disk has no boot sector (no MBR signature 55AA). ` +
              `Upload a bootable disk image, or an AMI-style image with kernel_id and ramdisk_id properties.`,
          );
        }
      }
      return { path: final, virtualSize: (await stat(final)).size };
    });
  }

  /** A kernel (checked for the Linux boot header) or ramdisk image's data, cached as a file. */
  file(id: string, kind: 'kernel' | 'ramdisk'): Promise<string> {
    return this.once(`${kind}:${id}`, async () => {
      const final = join(this.dir, `${id}.${kind}`);
      if (await exists(final)) return final;
      const { meta, path } = await this.fetch(id);
      const size = (await stat(path)).size;
      if (size === 0) throw new Error(`${imageLabel(meta)}, the ${kind} of this server's image, has no data.`);
      if (kind === 'kernel') {
        const magic = (await readHead(path, 4, 0x202)).toString('latin1');
        if (magic !== 'HdrS')
          throw new Error(`${imageLabel(meta)}, given as kernel_id of this server's image, is not a bootable Linux kernel (bzImage).`);
      }
      await this.build(final, (tmp) => copyFile(path, tmp));
      return final;
    });
  }
}

async function qemuImgCheck(meta: ImageMeta, path: string, fmt: string): Promise<void> {
  let info: { format?: string; 'virtual-size'?: number };
  try {
    info = JSON.parse((await run('qemu-img', ['info', '--output=json', '-f', fmt, path])).stdout);
  } catch (e) {
    throw new Error(`${imageLabel(meta)} is not a valid ${meta.disk_format} image: ${(e as Error).message}`, { cause: e });
  }
  if (fmt === 'qcow2') {
    try {
      await run('qemu-img', ['check', '-q', '-f', 'qcow2', path]);
    } catch (e) {
      throw new Error(`${imageLabel(meta)} is a corrupt qcow2 image: ${(e as Error).message}`, { cause: e });
    }
  }
  if (!info['virtual-size']) throw new Error(`${imageLabel(meta)} has an empty disk (virtual size 0).`);
}

/**
 * Creates the guest's root disk: a qcow2 overlay of base, of the flavor's size (rootGb; 0 keeps
 * the image's size). An image larger than the flavor's disk is refused, as Nova does.
 */
export async function createOverlay(path: string, base: BaseDisk, rootGb: number, image: ImageMeta): Promise<void> {
  if (rootGb > 0 && base.virtualSize > rootGb * GiB)
    throw new Error(
      `${imageLabel(image)} needs a ${Math.ceil(base.virtualSize / GiB)} GB disk (virtual size ${base.virtualSize} bytes) but the flavor's root disk is ${rootGb} GB.`,
    );
  const size = rootGb > 0 ? rootGb * GiB : base.virtualSize;
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', base.path, path, String(size)]);
}

/** Grows a root disk to rootGb; shrinking is refused (data would be lost). */
export async function growDisk(path: string, rootGb: number): Promise<void> {
  const info = JSON.parse((await run('qemu-img', ['info', '--output=json', '-U', path])).stdout) as { 'virtual-size': number };
  const want = rootGb * GiB;
  if (rootGb === 0 || want === info['virtual-size']) return;
  if (want < info['virtual-size']) throw new Error(`The root disk cannot shrink from ${info['virtual-size'] / GiB} GB to ${rootGb} GB.`);
  await run('qemu-img', ['resize', '-q', '-f', 'qcow2', path, String(want)]);
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
