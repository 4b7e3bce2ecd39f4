import { join } from 'node:path';
import type { Config } from '../config.js';
import type { ComputeDriver } from './driver.js';
import { FakeDriver } from './fake/driver.js';
import { invalid } from '../errors.js';

/** Driver factories by the name given in configuration (`--driver`). */
const drivers: Record<string, (config: Config, host: string) => ComputeDriver> = {
  fake: (config, host) => new FakeDriver({ ...config.fake, host, stateDir: join(config.dataDir, 'fake-guests') }),
};

/** Invalid (with the known names) unless a driver of that name exists. */
export function checkDriver(name: string): void {
  if (!Object.hasOwn(drivers, name)) throw invalid(`Unknown virt driver '${name}'. Known drivers: ${Object.keys(drivers).join(', ')}.`);
}

export function createDriver(config: Config, host: string): ComputeDriver {
  checkDriver(config.driver);
  return drivers[config.driver](config, host);
}
