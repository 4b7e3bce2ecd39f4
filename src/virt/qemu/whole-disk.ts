/**
 * A whole-disk test image: tiny-linux's kernel and initramfs on a BIOS-bootable disk, for
 * tests of images that boot without kernel_id (SeaBIOS reads the disk's MBR, as on real hardware).
 *
 * Layout (64 MiB raw): syslinux's mbr.bin in the first 440 bytes and an MBR partition table
 * with one active FAT16 (LBA) partition from sector 2048 to the end; on it SYSLINUX
 * (ldlinux.sys, ldlinux.c32), vmlinuz, initrd.img and a syslinux.cfg that boots them at once
 * with `console=ttyS0` (SYSLINUX itself also talks on the first serial port).
 *
 * Built without root and without mounting: mkfs.vfat --offset, mtools' `-i disk@@offset`
 * and `syslinux --offset` (the mtools installer) all write into the file directly.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './exec.js';

/** The Debian packages the build needs (syslinux is the mtools-based installer). */
export const WHOLE_DISK_PACKAGES = ['syslinux', 'syslinux-common', 'mtools', 'dosfstools'] as const;

/** Programs of those packages that the build runs. */
const TOOLS = ['mkfs.vfat', 'mcopy', 'syslinux'];
/** syslinux-common's MBR boot code, where Debian has put it over the years. */
const MBR_BIN = ['/usr/lib/syslinux/mbr/mbr.bin', '/usr/lib/SYSLINUX/mbr.bin'];

const SECTOR = 512;
const DISK_SECTORS = (64 * 1048576) / SECTOR;
/** First sector of the partition (1 MiB, the usual alignment). */
const PART_START = 2048;

/** The bootloader's configuration: no menu, no wait, kernel output on the serial console. */
export const SYSLINUX_CFG = [
  'SERIAL 0 115200',
  'DEFAULT linux',
  'PROMPT 0',
  'TIMEOUT 0',
  'LABEL linux',
  '  KERNEL vmlinuz',
  '  INITRD initrd.img',
  '  APPEND console=ttyS0',
  '',
].join('\n');

/**
 * The 66 bytes at offset 446 of the MBR: one active partition of type 0x0E (FAT16, LBA) from
 * startSector for sectors sectors (CHS fields saturated: addressed by LBA only), then 55AA.
 */
export function partitionTable(startSector: number, sectors: number): Buffer {
  const t = Buffer.alloc(66);
  t[0] = 0x80; // active (bootable)
  t.writeUIntLE(0xfffffe, 1, 3); // CHS start: beyond CHS range
  t[4] = 0x0e;
  t.writeUIntLE(0xfffffe, 5, 3); // CHS end
  t.writeUInt32LE(startSector, 8);
  t.writeUInt32LE(sectors, 12);
  t[64] = 0x55;
  t[65] = 0xaa;
  return t;
}

/** Why the build cannot run on this machine (the missing programs and packages), or null. */
export function missingWholeDiskTools(): string | null {
  const path = (process.env.PATH ?? '/usr/bin:/bin').split(':').concat('/usr/sbin', '/sbin');
  const missing = TOOLS.filter((t) => !path.some((d) => existsSync(join(d, t))));
  if (!MBR_BIN.some((p) => existsSync(p))) missing.push('mbr.bin');
  return missing.length
    ? `${missing.join(', ')} not found; install the Debian packages ${WHOLE_DISK_PACKAGES.join(' ')}`
    : null;
}

/**
 * Writes a BIOS-bootable raw disk booting kernel+ramdisk to outRaw. The disk is built under a
 * temporary name and renamed into place, so outRaw is either absent or complete; on failure
 * nothing is left behind and the Error names the step's program and its message.
 */
export async function buildWholeDiskImage(g: { kernel: string; ramdisk: string }, outRaw: string): Promise<void> {
  const missing = missingWholeDiskTools();
  if (missing) throw new Error(`cannot build a whole-disk image: ${missing}.`);
  const tmp = `${outRaw}.part-${randomUUID().slice(0, 8)}`;
  const staging = await mkdtemp(join(tmpdir(), 'whole-disk-'));
  const offset = PART_START * SECTOR;
  const fs = `${tmp}@@${offset}`;
  try {
    const fh = await open(tmp, 'w');
    await fh.truncate(DISK_SECTORS * SECTOR);
    await fh.close();
    const partSectors = DISK_SECTORS - PART_START;
    // -h: hidden sectors (the partition's start) as a partition's BPB should say; size in KiB.
    await run('mkfs.vfat', ['-F', '16', '-n', 'TINYLINUX', '-h', String(PART_START), '--offset', String(PART_START), tmp, String(partSectors / 2)]);
    const cfg = join(staging, 'syslinux.cfg');
    await writeFile(cfg, SYSLINUX_CFG);
    await run('mcopy', ['-i', fs, g.kernel, '::vmlinuz']);
    await run('mcopy', ['-i', fs, g.ramdisk, '::initrd.img']);
    await run('mcopy', ['-i', fs, cfg, '::syslinux.cfg']);
    await run('syslinux', ['--offset', String(offset), '--install', tmp]);
    const mbr = await readFile(MBR_BIN.find((p) => existsSync(p)) as string);
    const out = await open(tmp, 'r+');
    try {
      await out.write(mbr, 0, Math.min(440, mbr.length), 0);
      await out.write(partitionTable(PART_START, partSectors), 0, 66, 446);
    } finally {
      await out.close();
    }
    await rename(tmp, outRaw);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * The whole-disk image of a tiny-linux build as raw and as qcow2, cached in dir by the build's
 * version (built on first use, then reused). Safe to call concurrently: each caller may build,
 * renames into place are whole.
 */
export async function ensureWholeDiskImages(
  g: { kernel: string; ramdisk: string; version: string },
  dir: string,
): Promise<{ raw: string; qcow2: string }> {
  await mkdir(dir, { recursive: true });
  const raw = join(dir, `${g.version}.raw`);
  const qcow2 = join(dir, `${g.version}.qcow2`);
  if (!existsSync(raw)) await buildWholeDiskImage(g, raw);
  if (!existsSync(qcow2)) {
    const tmp = `${qcow2}.part-${randomUUID().slice(0, 8)}`;
    try {
      await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, tmp]);
      await rename(tmp, qcow2);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }
  return { raw, qcow2 };
}
