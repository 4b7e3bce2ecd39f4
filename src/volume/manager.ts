/**
 * The volume manager of one storage host (topic `volume.<host>`): fills, grows, copies and
 * removes the volume files of its store and moves the rows' statuses itself.
 * (Skeleton: the handlers land next.)
 */
import type { Bus } from '../bus/bus.js';
import type { Sql } from '../db/sql.js';
import type { ImageClient } from '../image/client.js';

export interface VolumeManagerOptions {
  sql: Sql;
  bus: Bus;
  host: string;
  dataDir: string;
  images: ImageClient;
  /** Format of new volume files (default qcow2). */
  format?: 'qcow2' | 'raw';
  /** Heartbeat interval of the services row (default 10 s). */
  reportIntervalSec?: number;
}

export interface VolumeManager {
  stop(): Promise<void>;
}

export async function startVolumeManager(opts: VolumeManagerOptions): Promise<VolumeManager> {
  void opts;
  return { stop: async () => {} };
}
