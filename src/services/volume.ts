/**
 * The volume service: the volume manager of one storage host (topic `volume.<host>`), its
 * files under `<data_dir>/volumes/<host>/`. It reads image data (volumes made from images)
 * through the image client it is given.
 */
import type { Bus } from '../bus/bus.js';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import type { ImageClient } from '../image/client.js';
import { startVolumeManager } from '../volume/manager.js';

export async function startVolumeService(opts: {
  config: Config;
  bus: Bus;
  sql: Sql;
  host: string;
  images: ImageClient;
  format?: 'qcow2' | 'raw';
}): Promise<{ stop(): Promise<void> }> {
  const { config } = opts;
  return startVolumeManager({
    sql: opts.sql,
    bus: opts.bus,
    host: opts.host,
    dataDir: config.dataDir,
    images: opts.images,
    format: opts.format,
    reportIntervalSec: config.compute.reportIntervalSec,
  });
}
