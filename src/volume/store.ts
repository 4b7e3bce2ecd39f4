/**
 * The file store of one storage host: volume and snapshot files under
 * `<dataDir>/volumes/<host>/` (`volume-<id>.qcow2` or `.raw`, `snapshot-<id>.qcow2`), made
 * and changed with qemu-img. Every operation that makes a file writes `<file>.part` first and
 * renames it, so a crash never leaves a half-made file under a volume's name; a failed
 * operation removes what it wrote. Sources are read with `-U` (force share) so a volume
 * attached to a running guest can still be copied (snapshot with force).
 *
 * Security: a source image is read in the format its Glance record declares (never probed, so
 * a raw image holding a qcow2 header is not interpreted), and a qcow2 source with a backing
 * file is refused (it could point at any file of the host).
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid } from '../errors.js';
import { run } from '../virt/qemu/exec.js';

export type VolumeFormat = 'qcow2' | 'raw';

export const GiB = 1024 ** 3;

/** Glance disk_format -> qemu-img format name (formats qemu-img reads). */
const QEMU_FORMAT: Record<string, string> = {
  raw: 'raw', qcow2: 'qcow2', vmdk: 'vmdk', vdi: 'vdi', vhd: 'vpc', vhdx: 'vhdx',
};

export interface ImageInfo {
  /** qemu-img's name of the format it read. */
  format: string;
  virtualSize: number;
  actualSize: number;
  backingFile: string | null;
}

/** Runs qemu-img; a missing binary or a failure rejects with its stderr in words. */
function qemuImg(args: string[]) {
  return run('qemu-img', args, { timeoutMs: 3_600_000 });
}

export class VolumeStore {
  readonly dir: string;

  constructor(dataDir: string, host: string) {
    this.dir = join(dataDir, 'volumes', host);
  }

  volumePath(id: string, format: VolumeFormat): string {
    return join(this.dir, `volume-${id}.${format}`);
  }

  /** Snapshots are always qcow2 (compact full copies). */
  snapshotPath(id: string): string {
    return join(this.dir, `snapshot-${id}.qcow2`);
  }

  /** qemu-img info of a file read as `format` (or probed when none: our own files only). */
  async info(path: string, format?: string): Promise<ImageInfo> {
    const args = ['info', '-U', '--output=json', ...(format ? ['-f', format] : []), path];
    const j = JSON.parse((await qemuImg(args)).stdout) as Record<string, unknown>;
    return {
      format: String(j.format),
      virtualSize: Number(j['virtual-size']),
      actualSize: Number(j['actual-size'] ?? 0),
      backingFile: (j['backing-filename'] as string | undefined) ?? null,
    };
  }

  /** A new empty volume file of sizeGiB. Replaces a leftover file of the same volume. */
  async createEmpty(id: string, sizeGiB: number, format: VolumeFormat): Promise<string> {
    const path = this.volumePath(id, format);
    return this.produce(path, async (part) => {
      await qemuImg(['create', '-q', '-f', format, part, `${sizeGiB}G`]);
    });
  }

  /**
   * A volume of sizeGiB holding the image at srcPath (read as its Glance disk_format).
   * Invalid when the image's virtual size exceeds the volume, when its format is not one
   * qemu-img reads, or when it has a backing file.
   */
  async createFromImage(id: string, sizeGiB: number, format: VolumeFormat, image: { id: string; path: string; disk_format: string | null }): Promise<string> {
    const srcFormat = image.disk_format ? QEMU_FORMAT[image.disk_format] : undefined;
    if (image.disk_format && !srcFormat)
      throw invalid(`Image ${image.id} has disk_format ${image.disk_format}, which cannot be written to a volume (supported: ${Object.keys(QEMU_FORMAT).join(', ')}).`);
    const info = await this.info(image.path, srcFormat ?? 'raw');
    if (info.backingFile) throw invalid(`Image ${image.id} has a backing file; it cannot be written to a volume.`);
    if (info.virtualSize > sizeGiB * GiB)
      throw invalid(`Image ${image.id} is ${Math.ceil(info.virtualSize / GiB)} GiB, larger than the volume (${sizeGiB} GiB)`);
    return this.copyInto(this.volumePath(id, format), image.path, srcFormat ?? 'raw', format, info.virtualSize, sizeGiB);
  }

  /** A volume of sizeGiB holding a copy of another volume's or a snapshot's file. */
  async createFromFile(id: string, sizeGiB: number, format: VolumeFormat, src: { path: string; format: VolumeFormat }): Promise<string> {
    const info = await this.info(src.path, src.format);
    if (info.virtualSize > sizeGiB * GiB)
      throw invalid(`The source is ${Math.ceil(info.virtualSize / GiB)} GiB, larger than the volume (${sizeGiB} GiB)`);
    return this.copyInto(this.volumePath(id, format), src.path, src.format, format, info.virtualSize, sizeGiB);
  }

  /** A snapshot file: a full qcow2 copy of the volume's file. */
  async createSnapshot(snapshotId: string, volume: { path: string; format: VolumeFormat }): Promise<string> {
    const info = await this.info(volume.path, volume.format);
    return this.copyInto(this.snapshotPath(snapshotId), volume.path, volume.format, 'qcow2', info.virtualSize, null);
  }

  /** Grows a volume file to newSizeGiB (never shrinks: Invalid). */
  async extend(path: string, format: VolumeFormat, newSizeGiB: number): Promise<void> {
    const info = await this.info(path, format);
    if (info.virtualSize > newSizeGiB * GiB) throw invalid(`The volume file is already larger than ${newSizeGiB} GiB.`);
    if (info.virtualSize < newSizeGiB * GiB) await qemuImg(['resize', '-q', '-f', format, path, `${newSizeGiB}G`]);
  }

  /** Virtual size of a volume file in bytes, or null when the file is missing. */
  async virtualSize(path: string, format: VolumeFormat): Promise<number | null> {
    if (!(await exists(path))) return null;
    return (await this.info(path, format)).virtualSize;
  }

  /** Removes a file and any leftover `.part` of it. Idempotent: a missing file is fine. */
  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
    await rm(`${path}.part`, { force: true });
  }

  private async copyInto(path: string, src: string, srcFormat: string, format: VolumeFormat, srcVirtual: number, sizeGiB: number | null): Promise<string> {
    return this.produce(path, async (part) => {
      // -W: out-of-order writes (faster, the target is private until the rename).
      await qemuImg(['convert', '-U', '-q', '-W', '-f', srcFormat, '-O', format, src, part]);
      if (sizeGiB !== null && srcVirtual < sizeGiB * GiB) await qemuImg(['resize', '-q', '-f', format, part, `${sizeGiB}G`]);
    });
  }

  /** Runs make(part) then renames part to path; removes the part on failure. */
  private async produce(path: string, make: (part: string) => Promise<void>): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const part = `${path}.part`;
    await rm(part, { force: true });
    try {
      await make(part);
      await rename(part, path);
      return path;
    } catch (e) {
      await rm(part, { force: true });
      throw e;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
