/**
 * The volume manager of one storage host (topic `volume.<host>`, binary `cinder-volume` in the
 * services table): fills, grows, copies and removes the files of its store
 * (`<dataDir>/volumes/<host>/`, see store.ts) and moves the rows' statuses itself (see
 * manager-ops.ts). On start it recovers what a restart interrupted (recover.ts), then
 * serves casts and heartbeats. Casts carry ids only; the row says what to do.
 */
import type { Bus } from '../bus/bus.js';
import { keepServiceAlive } from '../conductor/service-records.js';
import type { Sql } from '../db/sql.js';
import type { ImageClient } from '../image/client.js';
import { logger } from '../util/log.js';
import { recoverVolumes } from './recover.js';
import { volumeTopic } from './rpcapi.js';
import { VolumeStore } from './store.js';
import { ManagerOps } from './manager-ops.js';

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
  /** Stops serving and heartbeating; waits for operations in progress. */
  stop(): Promise<void>;
}

export const VOLUME_BINARY = 'cinder-volume';

export async function startVolumeManager(opts: VolumeManagerOptions): Promise<VolumeManager> {
  const { sql, bus, host } = opts;
  const log = logger(`volume.${host}`);
  const store = new VolumeStore(opts.dataDir, host);
  const ops = new ManagerOps(sql, store, host, opts.images, opts.format ?? 'qcow2', log);
  await recoverVolumes(sql, host, ops, log);

  const running = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    running.add(p);
    void p.finally(() => running.delete(p));
    return p;
  };
  const handlers: Record<string, (a: Record<string, unknown>) => Promise<void>> = {
    create_volume: (a) => ops.createVolume(String(a.volume_id)),
    delete_volume: (a) => ops.deleteVolume(String(a.volume_id)),
    extend_volume: (a) => ops.extendVolume(String(a.volume_id), Number(a.new_size)),
    create_snapshot: (a) => ops.createSnapshot(String(a.snapshot_id)),
    delete_snapshot: (a) => ops.deleteSnapshot(String(a.snapshot_id)),
  };
  const stopServing = await bus.serve(volumeTopic(host), (method, args) => {
    const h = handlers[method];
    if (!h) throw new Error(`volume manager: unknown method ${method}`);
    return track(h((args ?? {}) as Record<string, unknown>));
  });
  const stopBeat = await keepServiceAlive(sql, host, VOLUME_BINARY, opts.reportIntervalSec ?? 10, (e) =>
    log.warn(`heartbeat failed: ${e instanceof Error ? e.message : String(e)}`),
  );
  log.info(`serving ${volumeTopic(host)}, store ${store.dir}`);
  return {
    async stop() {
      stopBeat();
      await stopServing();
      await Promise.allSettled([...running]);
    },
  };
}
