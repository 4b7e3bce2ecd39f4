/**
 * The config drive: an ISO 9660 image labelled `config-2` holding the metadata files
 * (virt/metadata-content.ts), built with genisoimage the way Nova's libvirt driver builds it
 * (Rock Ridge and Joliet names, lowercase and dotted names kept). The guest finds it by label.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { InstancePayload } from '../driver.js';
import { metadataFiles, type MetadataOptions } from '../metadata-content.js';

/** The volume label the guest looks for. */
export const CONFIG_DRIVE_LABEL = 'config-2';

const GENISOIMAGE_TIMEOUT_MS = 60_000;

/**
 * Writes the instance's config drive to isoPath, replacing any file there.
 * The staging directory is always removed. On failure the Error says why (a missing genisoimage
 * says to install it) and nothing is left at isoPath.
 */
export async function buildConfigDrive(instance: InstancePayload, isoPath: string, opts: MetadataOptions = {}): Promise<void> {
  const staging = await mkdtemp(join(tmpdir(), 'nova-ts-configdrive-'));
  const partial = `${isoPath}.partial-${process.pid}`;
  try {
    for (const [path, content] of metadataFiles(instance, opts)) {
      const file = join(staging, path);
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await writeFile(file, content, { mode: 0o600 });
    }
    await genisoimage(partial, staging);
    await rename(partial, isoPath);
  } catch (e) {
    await rm(partial, { force: true });
    await rm(isoPath, { force: true });
    throw e;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function genisoimage(out: string, dir: string): Promise<void> {
  const args = [
    '-o', out,
    '-ldots', '-allow-lowercase', '-allow-multidot', '-l',
    '-publisher', 'nova-ts',
    '-quiet', '-J', '-r',
    '-V', CONFIG_DRIVE_LABEL,
    dir,
  ];
  return new Promise((resolve, reject) => {
    execFile('genisoimage', args, { timeout: GENISOIMAGE_TIMEOUT_MS }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        return reject(new Error('Cannot build the config drive: genisoimage was not found on this host (install genisoimage).'));
      }
      const detail = stderr.trim() || err.message;
      reject(new Error(`Cannot build the config drive: genisoimage failed: ${detail}`));
    });
  });
}
