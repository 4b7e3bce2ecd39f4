import { join } from 'node:path';
import type { Config } from '../config.js';
import type { ComputeDriver } from './driver.js';
import { FakeDriver } from './fake/driver.js';
import { invalid } from '../errors.js';

/** Driver factories by the name given in configuration (`--driver`). */
const drivers: Record<string, (config: Config, host: string) => ComputeDriver> = {
  fake: (config, host) => new FakeDriver({ ...config.fake, host, stateDir: join(config.dataDir, 'fake-guests') }),
};

export function createDriver(config: Config, host: string): ComputeDriver {
  const make = drivers[config.driver];
  if (!make) throw invalid(`Unknown virt driver '${config.driver}'. Known drivers: ${Object.keys(drivers).join(', ')}.`);
  return make(config, host);
}
