import { join } from 'node:path';
import type { Config } from '../config.js';
import type { ComputeDriver, ImageMeta } from './driver.js';
import { FakeDriver } from './fake/driver.js';
import { QemuDriver } from './qemu/driver.js';
import { invalid } from '../errors.js';
import { logger } from '../util/log.js';

/** What drivers may use of the services around them. */
export interface DriverDeps {
  /** Image metadata and a local file with its data (QEMU boots from it). */
  images: { get(id: string): Promise<ImageMeta>; dataPath(id: string): Promise<string> };
  /** The host's network namespace (its taps live there; QEMU runs in it); null: no networking. */
  netns?: string | null;
}

/** Driver factories by the name given in configuration (`--driver`). */
const drivers: Record<string, (config: Config, host: string, deps: DriverDeps) => ComputeDriver> = {
  fake: (config, host) => new FakeDriver({ ...config.fake, host, stateDir: join(config.dataDir, 'fake-guests') }),
  qemu: (config, host, deps) => {
    const log = logger(`qemu.${host}`);
    return new QemuDriver({
      host,
      root: join(config.dataDir, 'qemu'),
      config: config.qemu,
      netns: deps.netns ?? null,
      fetchImage: async (id) => ({ meta: await deps.images.get(id), path: await deps.images.dataPath(id) }),
      log: (msg) => log.info(msg),
    });
  },
};

/** Invalid (with the known names) unless a driver of that name exists. */
export function checkDriver(name: string): void {
  if (!Object.hasOwn(drivers, name)) throw invalid(`Unknown virt driver '${name}'. Known drivers: ${Object.keys(drivers).join(', ')}.`);
}

export function createDriver(config: Config, host: string, deps: DriverDeps): ComputeDriver {
  checkDriver(config.driver);
  return drivers[config.driver](config, host, deps);
}
