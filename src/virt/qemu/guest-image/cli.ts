/**
 * `nova-ts build-image [--cache-dir DIR]`: builds (or finds in the cache) the tiny-linux test
 * guest image and prints where its kernel, ramdisk and disk are. Exit codes: 0 done, 1 the
 * build failed (the message says why), 2 bad usage.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../../../config.js';
import { ensureGuestImage } from './ensure.js';

const USAGE = `Usage: nova-ts build-image [--cache-dir DIR]

Builds the tiny-linux test guest image from Debian packages (apt-get download, no root
needed; run \`apt-get update\` as root first if apt has no package lists) and prints the
paths of its kernel, ramdisk and disk. A cached build is reused.

  --cache-dir DIR   where images and downloaded packages are kept
                    (default <data dir>/guest-image, data dir ~/.nova-ts or $NOVA_TS_DATA_DIR)
  -h, --help        this text
`;

export function defaultGuestImageCacheDir(): string {
  return join(defaultDataDir(), 'guest-image');
}

export async function buildImageCommand(argv: string[]): Promise<number> {
  let cacheDir: string;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'cache-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new Error(`unexpected argument ${positionals[0]}`);
    cacheDir = values['cache-dir'] ?? defaultGuestImageCacheDir();
  } catch (e) {
    process.stderr.write(`nova-ts build-image: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  try {
    const files = await ensureGuestImage({ cacheDir, log: (msg) => process.stderr.write(`${msg}\n`) });
    process.stdout.write(`kernel:  ${files.kernel}\nramdisk: ${files.ramdisk}\ndisk:    ${files.disk}\nversion: ${files.version}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`nova-ts build-image: ${(e as Error).message}\n`);
    return 1;
  }
}
