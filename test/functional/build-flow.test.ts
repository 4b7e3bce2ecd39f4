/**
 * The back end of the build flow in one process: scheduler, conductor and fake compute hosts
 * over the in-process bus and an in-memory SQLite DB. Instances are recorded as the Compute
 * API records them (BUILD/scheduling + a 'create' action), then handed to the conductor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../../src/db/open.js';
import type { Sql } from '../../src/db/sql.js';
import { InProcessBus } from '../../src/bus/in-process.js';
import { defaultConfig, type Config } from '../../src/config.js';
import { startScheduler } from '../../src/scheduler/manager.js';
import { startConductor } from '../../src/conductor/manager.js';
import { startCompute, type ComputeService } from '../../src/compute/manager.js';
import { ConductorRpcApi } from '../../src/conductor/rpcapi.js';
import { ComputeRpcApi } from '../../src/compute/rpcapi.js';
import { FakeDriver } from '../../src/virt/fake/driver.js';
import { startAction, getInstance, updateInstance, type InstanceRow } from '../../src/db/instances.js';
import { statusFromState } from '../../src/compute/vm-states.js';
import { instancePayload } from '../../src/conductor/payload.js';
import type { ImageClient } from '../../src/image/client.js';
import type { FlavorSnapshot } from '../../src/objects/flavor.js';
import { nowIso } from '../../src/util/time.js';

const images: ImageClient = {
  get: async (id) => ({ id, name: 'tiny', disk_format: 'qcow2', container_format: 'bare', size: 1024, min_disk: 0, min_ram: 0, properties: {} }),
  dataPath: async () => '/dev/null',
  uploadFile: async () => undefined,
  abandon: async () => undefined,
};

const flavor = (memory_mb: number, id = 1): FlavorSnapshot => ({
  id,
  flavorid: String(id),
  name: `f${memory_mb}`,
  memory_mb,
  vcpus: 1,
  root_gb: 1,
  ephemeral_gb: 0,
  swap: 0,
  rxtx_factor: 1,
  is_public: true,
  description: null,
  extra_specs: {},
});

interface Rig {
  sql: Sql;
  conductor: ConductorRpcApi;
  compute: ComputeRpcApi;
  hosts: Map<string, { svc: ComputeService; driver: FakeDriver }>;
  boot(f?: FlavorSnapshot): Promise<string>;
  waitState(uuid: string, ok: (r: InstanceRow) => boolean, what: string): Promise<InstanceRow>;
  close(): Promise<void>;
}

/** hosts: name -> memory MB (512 MB of each is reserved). */
async function rig(hostMem: Record<string, number>, over: { failingHosts?: string[]; maxAttempts?: number } = {}): Promise<Rig> {
  const sql = await openDatabase('sqlite::memory:');
  const bus = new InProcessBus();
  const config: Config = defaultConfig({ dataDir: '/nonexistent' });
  config.scheduler = { ...config.scheduler, maxAttempts: over.maxAttempts ?? 3 };
  config.compute = { ...config.compute, reportIntervalSec: 60, powerSyncIntervalSec: 60 };
  const stops: (() => Promise<void>)[] = [];
  stops.push((await startScheduler({ sql, bus, config: config.scheduler })).stop);
  stops.push((await startConductor({ sql, bus, images, config })).stop);
  const hosts = new Map<string, { svc: ComputeService; driver: FakeDriver }>();
  for (const [host, memoryMb] of Object.entries(hostMem)) {
    const driver = new FakeDriver({ ...config.fake, failingHosts: over.failingHosts ?? [], memoryMb, host });
    const svc = await startCompute({ bus, host, driver, images, config: config.compute });
    hosts.set(host, { svc, driver });
    stops.push(svc.stop);
  }
  const conductor = new ConductorRpcApi(bus);
  return {
    sql,
    conductor,
    compute: new ComputeRpcApi(bus),
    hosts,
    async boot(f = flavor(512)) {
      const uuid = randomUUID();
      const now = nowIso();
      await sql.run(
        `INSERT INTO instances (uuid, project_id, user_id, display_name, flavor_id, flavor, image_ref, vm_state, task_state,
           memory_mb, vcpus, root_gb, reservation_id, created_at, updated_at) VALUES (?, 'p1', 'u1', ?, ?, ?, 'img-1', 'building', 'scheduling', ?, ?, ?, 'r-1', ?, ?)`,
        [uuid, `vm-${uuid.slice(0, 4)}`, f.id, JSON.stringify(f), f.memory_mb, f.vcpus, f.root_gb, now, now],
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
    async close() {
      for (const s of stops.reverse()) await s();
      await bus.close();
      await sql.close();
    },
  };
}

const settled = (r: InstanceRow) => r.task_state === null && r.vm_state !== 'building';
const fault = (sql: Sql, uuid: string) =>
  sql.get<{ code: number; message: string; details: string }>('SELECT code, message, details FROM instance_faults WHERE instance_uuid = ? ORDER BY id DESC LIMIT 1', [uuid]);
const events = (sql: Sql, uuid: string) =>
  sql.all<{ event: string; result: string; host: string | null }>(
    'SELECT e.event, e.result, e.host FROM instance_action_events e JOIN instance_actions a ON a.id = e.action_id WHERE a.instance_uuid = ? ORDER BY e.id',
    [uuid],
  );
const allocations = (sql: Sql, consumer?: string) =>
  sql.all<{ consumer_uuid: string; node_uuid: string; memory_mb: number }>(
    `SELECT consumer_uuid, node_uuid, memory_mb FROM allocations${consumer ? ' WHERE consumer_uuid = ?' : ''}`,
    consumer ? [consumer] : [],
  );

test('build: an instance goes to ACTIVE on a host with its resources claimed', async () => {
  const r = await rig({ host1: 4096, host2: 4096 });
  try {
    const uuid = await r.boot();
    const row = await r.waitState(uuid, settled, 'ACTIVE');
    assert.equal(statusFromState(row.vm_state, row.task_state), 'ACTIVE');
    assert.equal(row.power_state, 1);
    assert.ok(row.host && r.hosts.has(row.host));
    assert.equal(row.node, row.host);
    assert.ok(row.launched_at);
    assert.deepEqual((await allocations(r.sql, uuid)).map((a) => a.memory_mb), [512]);
    assert.deepEqual(await r.hosts.get(row.host!)!.driver.listInstances(), [uuid]);
    const ev = await events(r.sql, uuid);
    assert.deepEqual(ev.map((e) => [e.event, e.result]), [
      ['conductor_schedule_and_build_instances', 'Success'],
      ['compute_build_and_run_instance', 'Success'],
    ]);
    // the image metadata recorded at build reaches later payloads
    assert.equal((await instancePayload(r.sql, row)).image?.id, 'img-1');
  } finally {
    await r.close();
  }
});

test('build: NoValidHost puts the instance in ERROR with a fault explaining each filter', async () => {
  const r = await rig({ host1: 2560, host2: 1536 });
  try {
    const uuid = await r.boot(flavor(4096));
    const row = await r.waitState(uuid, settled, 'ERROR');
    assert.equal(statusFromState(row.vm_state, row.task_state), 'ERROR');
    const f = await fault(r.sql, uuid);
    assert.equal(f?.code, 500);
    assert.equal(f?.message, 'No valid host was found. 2 of 2 hosts lack memory: needs 4096 MB, most free 2048 MB.');
    assert.match(f!.details, /host1: not enough memory: needs 4096 MB, free 2048 MB/);
    assert.match(f!.details, /host2: not enough memory: needs 4096 MB, free 1024 MB/);
    assert.deepEqual(await allocations(r.sql), []);
    assert.deepEqual((await events(r.sql, uuid)).map((e) => [e.event, e.result]), [['conductor_schedule_and_build_instances', 'Error']]);
  } finally {
    await r.close();
  }
});

test('build: a failing host reschedules to an alternate and frees its claim', async () => {
  // host1 has the most free memory, so RAMWeigher picks it first; its hypervisor fails.
  const r = await rig({ host1: 8192, host2: 4096 }, { failingHosts: ['host1'] });
  try {
    const uuid = await r.boot();
    const row = await r.waitState(uuid, settled, 'ACTIVE');
    assert.equal(row.vm_state, 'active');
    assert.equal(row.host, 'host2');
    const allocs = await allocations(r.sql);
    assert.equal(allocs.length, 1, 'only the alternate holds a claim');
    const ev = await events(r.sql, uuid);
    assert.deepEqual(
      ev.filter((e) => e.event === 'compute_build_and_run_instance').map((e) => [e.host, e.result]),
      [['host1', 'Error'], ['host2', 'Success']],
    );
  } finally {
    await r.close();
  }
});

test('build: when every host fails, ERROR with a fault saying what happened on each', async () => {
  const r = await rig({ host1: 8192, host2: 4096, host3: 2048 }, { failingHosts: ['host1', 'host2', 'host3'], maxAttempts: 2 });
  try {
    const uuid = await r.boot();
    const row = await r.waitState(uuid, settled, 'ERROR');
    assert.equal(row.vm_state, 'error');
    const f = await fault(r.sql, uuid);
    assert.match(f!.message, /failed on all 2 hosts tried \(host1, host2\)/);
    assert.match(f!.message, /its hypervisor is failing/);
    assert.match(f!.details, /^host1: Host host1 could not start the instance/m);
    assert.match(f!.details, /^host2: Host host2 could not start the instance/m);
    assert.deepEqual(await allocations(r.sql), []);
    for (const { driver } of r.hosts.values()) assert.deepEqual(await driver.listInstances(), []);
  } finally {
    await r.close();
  }
});

test('delete: the guest is destroyed, the row soft-deleted and the allocation freed', async () => {
  const r = await rig({ host1: 4096 });
  try {
    const uuid = await r.boot();
    let row = await r.waitState(uuid, settled, 'ACTIVE');
    row = await updateInstance(r.sql, uuid, { task_state: 'deleting' });
    await startAction(r.sql, { uuid, action: 'delete', requestId: 'req-del', userId: 'u1', projectId: 'p1' });
    await r.compute.terminateInstance(row.host!, { instance: await instancePayload(r.sql, row), request_id: 'req-del' });
    const gone = await r.waitState(uuid, (x) => x.deleted !== 0, 'deleted');
    assert.equal(gone.vm_state, 'deleted');
    assert.ok(gone.deleted_at && gone.terminated_at);
    assert.deepEqual(await allocations(r.sql), []);
    assert.deepEqual(await r.hosts.get('host1')!.driver.listInstances(), []);
    const act = await r.sql.get<{ finish_time: string | null }>("SELECT finish_time FROM instance_actions WHERE request_id = 'req-del'");
    assert.ok(act?.finish_time, 'the delete action is finished');
  } finally {
    await r.close();
  }
});

test('power sync: a guest that powered off by itself becomes SHUTOFF; a vanished one too', async () => {
  const r = await rig({ host1: 4096 });
  try {
    const a = await r.boot();
    const b = await r.boot();
    await r.waitState(a, settled, 'ACTIVE');
    await r.waitState(b, settled, 'ACTIVE');
    const { svc, driver } = r.hosts.get('host1')!;
    driver.simulatePowerOff(a);
    driver.simulateVanish(b);
    await svc.syncPowerStates();
    const ra = await getInstance(r.sql, a);
    assert.equal(statusFromState(ra.vm_state, ra.task_state), 'SHUTOFF');
    assert.equal(ra.power_state, 4);
    const rb = await getInstance(r.sql, b);
    assert.equal(rb.vm_state, 'stopped');
    assert.equal(rb.power_state, 0);
  } finally {
    await r.close();
  }
});
