/**
 * A back-end test rig: scheduler, conductor and fake compute hosts over the in-process bus and
 * an in-memory SQLite DB, plus helpers to record instances the way the Compute API does
 * (BUILD/scheduling + a 'create' action). For tests only.
 */
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../db/open.js';
import type { Sql } from '../db/sql.js';
import { InProcessBus } from '../bus/in-process.js';
import { defaultConfig, type Config } from '../config.js';
import { startScheduler } from '../scheduler/manager.js';
import { testFlavor } from '../scheduler/testing-db.js';
import { startConductor } from './manager.js';
import { startCompute, type ComputeService } from '../compute/manager.js';
import { ConductorRpcApi } from './rpcapi.js';
import { ComputeRpcApi } from '../compute/rpcapi.js';
import { FakeDriver } from '../virt/fake/driver.js';
import { startAction, getInstance, type InstanceRow } from '../db/instances.js';
import type { ImageClient } from '../image/client.js';
import type { FlavorSnapshot } from '../objects/flavor.js';
import { nowIso } from '../util/time.js';
import { MemoryVolumeClient } from '../volume/memory-client.js';
import type { BdmRow } from './bdms.js';

export const uploads: { id: string; path: string }[] = [];
export const abandoned: string[] = [];
export const images: ImageClient = {
  get: async (id) => ({ id, name: 'tiny', disk_format: 'qcow2', container_format: 'bare', size: 1024, min_disk: 0, min_ram: 0, properties: {} }),
  visibleTo: async () => true,
  dataPath: async () => '/dev/null',
  uploadFile: async (id, path) => void uploads.push({ id, path }),
  abandon: async (id) => void abandoned.push(id),
};

export const flavor = (memory_mb: number, id = 1): FlavorSnapshot => testFlavor(memory_mb, { id, flavorid: String(id) });

export interface Rig {
  sql: Sql;
  conductor: ConductorRpcApi;
  compute: ComputeRpcApi;
  hosts: Map<string, { svc: ComputeService; driver: FakeDriver }>;
  /** The block storage service the compute hosts use (in memory). */
  volumes: MemoryVolumeClient;
  /** Records an instance as the API does (with its volume BDMs) and asks the conductor to build it. */
  boot(f?: FlavorSnapshot, o?: { hints?: Record<string, unknown>; bdms?: Partial<BdmRow>[] }): Promise<string>;
  waitState(uuid: string, ok: (r: InstanceRow) => boolean, what: string): Promise<InstanceRow>;
  /** Stops the compute service of host and starts a new one on the same driver (a restart). */
  restartHost(host: string, compute?: Partial<Config['compute']>): Promise<ComputeService>;
  close(): Promise<void>;
}

/** hosts: name -> memory MB (512 MB of each is reserved). */
export async function rig(hostMem: Record<string, number>, over: { failingHosts?: string[]; maxAttempts?: number; fake?: Partial<Config['fake']> } = {}): Promise<Rig> {
  const sql = await openDatabase('sqlite::memory:');
  const bus = new InProcessBus();
  const config: Config = defaultConfig({ dataDir: '/nonexistent' });
  config.scheduler = { ...config.scheduler, maxAttempts: over.maxAttempts ?? 3 };
  config.compute = { ...config.compute, reportIntervalSec: 60, powerSyncIntervalSec: 60 };
  const stops: (() => Promise<void>)[] = [];
  stops.push((await startScheduler({ sql, bus, config: config.scheduler })).stop);
  stops.push((await startConductor({ sql, bus, images, config })).stop);
  const hosts = new Map<string, { svc: ComputeService; driver: FakeDriver }>();
  const volumes = new MemoryVolumeClient();
  for (const [host, memoryMb] of Object.entries(hostMem)) {
    const driver = new FakeDriver({ ...config.fake, ...over.fake, failingHosts: over.failingHosts ?? [], memoryMb, host });
    const svc = await startCompute({ bus, host, driver, images, config: config.compute, volumes });
    hosts.set(host, { svc, driver });
    stops.push(svc.stop);
  }
  const conductor = new ConductorRpcApi(bus);
  return {
    sql,
    conductor,
    compute: new ComputeRpcApi(bus),
    hosts,
    volumes,
    async boot(f = flavor(512), o = {}) {
      const uuid = randomUUID();
      const now = nowIso();
      await sql.run(
        `INSERT INTO instances (uuid, project_id, user_id, display_name, flavor_id, flavor, image_ref, vm_state, task_state,
           memory_mb, vcpus, root_gb, reservation_id, scheduler_hints, created_at, updated_at) VALUES (?, 'p1', 'u1', ?, ?, ?, 'img-1', 'building', 'scheduling', ?, ?, ?, 'r-1', ?, ?, ?)`,
        [uuid, `vm-${uuid.slice(0, 4)}`, f.id, JSON.stringify(f), f.memory_mb, f.vcpus, f.root_gb, JSON.stringify(o.hints ?? {}), now, now],
      );
      for (const b of o.bdms ?? [])
        await sql.run(
          `INSERT INTO block_device_mappings (uuid, instance_uuid, source_type, destination_type, boot_index, device_name, volume_id, attachment_id, image_id,
             volume_size, delete_on_termination, created_at) VALUES (?, ?, ?, 'volume', ?, ?, ?, ?, ?, ?, ?, ?)`,
          [b.uuid ?? randomUUID(), uuid, b.source_type ?? 'volume', b.boot_index ?? null, b.device_name ?? null, b.volume_id ?? null, b.attachment_id ?? null,
            b.image_id ?? null, b.volume_size ?? null, b.delete_on_termination ?? 0, now],
        );
      await startAction(sql, { uuid, action: 'create', requestId: `req-${uuid}`, userId: 'u1', projectId: 'p1' });
      await conductor.buildInstances({ instance_uuids: [uuid], request_id: `req-${uuid}` });
      return uuid;
    },
    async waitState(uuid, ok, what) {
      const end = Date.now() + 5000;
      let last: InstanceRow | undefined;
      while (Date.now() < end) {
        last = await getInstance(sql, uuid, { readDeleted: true });
        if (ok(last)) return last;
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new Error(`timed out waiting for ${what}; last: vm_state ${last?.vm_state} task_state ${last?.task_state}`);
    },
    async restartHost(host, compute = {}) {
      const h = hosts.get(host)!;
      await h.svc.stop();
      const svc = await startCompute({ bus, host, driver: h.driver, images, config: { ...config.compute, ...compute }, volumes });
      h.svc = svc;
      stops.push(svc.stop);
      return svc;
    },
    async close() {
      for (const s of stops.reverse()) await s();
      await bus.close();
      await sql.close();
    },
  };
}

export const settled = (r: InstanceRow) => r.task_state === null && r.vm_state !== 'building';
export const lastFault = (sql: Sql, uuid: string) =>
  sql.get<{ code: number; message: string; details: string }>('SELECT code, message, details FROM instance_faults WHERE instance_uuid = ? ORDER BY id DESC LIMIT 1', [uuid]);
export const actionEvents = (sql: Sql, uuid: string) =>
  sql.all<{ event: string; result: string; host: string | null }>(
    'SELECT e.event, e.result, e.host FROM instance_action_events e JOIN instance_actions a ON a.id = e.action_id WHERE a.instance_uuid = ? ORDER BY e.id',
    [uuid],
  );
export const allocations = (sql: Sql, consumer?: string) =>
  sql.all<{ consumer_uuid: string; node_uuid: string; memory_mb: number }>(
    `SELECT consumer_uuid, node_uuid, memory_mb FROM allocations${consumer ? ' WHERE consumer_uuid = ?' : ''}`,
    consumer ? [consumer] : [],
  );

/** Waits until every action event of the instance has finished (events may trail the state, as in Nova). */
export async function eventsSettled(sql: Sql, uuid: string): Promise<void> {
  for (const end = Date.now() + 5000; Date.now() < end; await new Promise((r) => setTimeout(r, 5))) {
    const open = await sql.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM instance_action_events e JOIN instance_actions a ON a.id = e.action_id WHERE a.instance_uuid = ? AND e.finish_time IS NULL',
      [uuid],
    );
    if (open?.n === 0) return;
  }
  throw new Error(`action events of ${uuid} did not finish`);
}
