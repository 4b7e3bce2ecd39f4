/** Test fixtures: small disk images made with qemu-img (tests of the volume store and manager). */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const qemuImg = (...args: string[]): string => execFileSync('qemu-img', args, { encoding: 'utf8' });

/** An image of virtualMiB (qcow2 or raw) with a recognisable pattern of 64 KiB written at 1 MiB. */
export function makeImage(dir: string, name: string, virtualMiB: number, format: 'qcow2' | 'raw' = 'qcow2'): string {
  const raw = join(dir, `${name}.raw`);
  qemuImg('create', '-q', '-f', 'raw', raw, `${virtualMiB}M`);
  const fd = openSync(raw, 'r+');
  writeSync(fd, Buffer.alloc(65536, 'nova-ts volume data '), 0, 65536, 1048576);
  closeSync(fd);
  if (format === 'raw') return raw;
  const out = join(dir, `${name}.qcow2`);
  qemuImg('convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, out);
  rmSync(raw);
  return out;
}

export const imageInfo = (path: string) => JSON.parse(qemuImg('info', '-U', '--output=json', path)) as { format: string; 'virtual-size': number };

/** qemu-img compare: same guest-visible content (a larger image must be zeros beyond the smaller). */
export function sameData(a: string, fa: string, b: string, fb: string): boolean {
  try {
    qemuImg('compare', '-q', '-U', '-f', fa, '-F', fb, a, b);
    return true;
  } catch {
    return false;
  }
}
