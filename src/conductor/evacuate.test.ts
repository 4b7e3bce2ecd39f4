import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { getInstance, startAction, updateInstance } from '../db/instances.js';
import { openDatabase } from '../db/open.js';
import type { Sql } from '../db/sql.js';
import { nowIso } from '../util/time.js';
import { allocations, lastFault, rig, settled, type Rig } from './test-rig.js';
import { reapStuckBuilds } from './stuck-builds.js';

/** Does what the evacuate API does after its checks: task rebuilding, an accepted migration, the action; then the cast. */
async function evacuate(r: Rig, uuid: string, host: string | null = null, force = false): Promise<string> {
  const row = await getInstance(r.sql, uuid);
  const m = randomUUID();
  const now = nowIso();
  await updateInstance(r.sql, uuid, { task_state: 'rebuilding' }, { expectTaskState: [null] });
  await r.sql.run(
    `INSERT INTO migrations (uuid, instance_uuid, migration_type, source_compute, source_node, dest_compute, status, created_at, updated_at)
     VALUES (?, ?, 'evacuation', ?, ?, ?, 'accepted', ?, ?)`,
    [m, uuid, row.host, row.node, host, now, now],
  );
  await startAction(r.sql, { uuid, action: 'evacuate', requestId: `req-ev-${m}`, userId: 'u1', projectId: 'p1' });
  await r.conductor.evacuateInstance({ instance_uuid: uuid, migration_uuid: m, request_id: `req-ev-${m}`, host, force, admin_password: 'pw' });
  return m;
}

const migrationStatus = async (sql: Sql, m: string) => (await sql.get<{ status: string }>('SELECT status FROM migrations WHERE uuid = ?', [m]))?.status;
const nodeHost = async (sql: Sql, consumer: string) =>
  (await sql.all<{ host: string }>('SELECT n.host AS host FROM allocations a JOIN compute_nodes n ON n.uuid = a.node_uuid WHERE a.consumer_uuid = ?', [consumer])).map((x) => x.host);
const waitFor = async (fn: () => Promise<boolean>, what: string) => {
  for (const end = Date.now() + 5000; Date.now() < end; await new Promise((res) => setTimeout(res, 5))) if (await fn()) return;
  throw new Error(`timed out waiting for ${what}`);
};

test('evacuate: rebuilt on the other host, the source allocation freed; the source host, restarted, destroys its guest once', async () => {
  const r = await rig({ h1: 4096, h2: 4096 });
  try {
    const uuid = await r.boot(undefined, { hints: { force_hosts: ['h1'] } });
    const before = await r.waitState(uuid, settled, 'built');
    assert.equal(before.host, 'h1');
    // h1 dies: its compute service stops (its guests stay, as on a host that lost power to its
    // management network only) and the admin forces it down.
    const dead = r.hosts.get('h1')!;
    await dead.svc.stop();
    dead.svc = { ...dead.svc, stop: async () => undefined };
    await r.sql.run("UPDATE services SET forced_down = 1 WHERE host = 'h1'");
    const m = await evacuate(r, uuid);
    const after = await r.waitState(uuid, (x) => settled(x) && x.host === 'h2', 'evacuated');
    assert.equal(after.vm_state, 'active');
    assert.equal(after.power_state, 1);
    assert.equal(await migrationStatus(r.sql, m), 'done');
    assert.deepEqual(await nodeHost(r.sql, uuid), ['h2']);
    assert.deepEqual(await allocations(r.sql, m), [], 'the source allocation (held by the migration) is freed');
    assert.ok((await r.hosts.get('h2')!.driver.listInstances()).includes(uuid));
    // A repeated delivery of the task changes nothing.
    await r.conductor.evacuateInstance({ instance_uuid: uuid, migration_uuid: m, request_id: 'again', host: null, force: false, admin_password: null });
    assert.equal(await migrationStatus(r.sql, m), 'done');

    const h1 = r.hosts.get('h1')!.driver;
    assert.ok((await h1.listInstances()).includes(uuid), 'the dead host still has its guest');
    await r.sql.run("UPDATE services SET forced_down = 0 WHERE host = 'h1'");
    const svc = await r.restartHost('h1');
    assert.ok(!(await h1.listInstances()).includes(uuid), 'destroyed at start, before the host serves');
    assert.equal(await migrationStatus(r.sql, m), 'completed');
    assert.deepEqual((await svc.syncPowerStates()).unknown, []);
    assert.equal((await getInstance(r.sql, uuid)).host, 'h2', 'the instance is never adopted back');
  } finally {
    await r.close();
  }
});

test('evacuate: a destination that fails leaves the instance in ERROR on its source with its allocation there, migration failed', async () => {
  const failing: string[] = [];
  const r = await rig({ h1: 4096, h2: 4096 }, { failingHosts: failing });
  try {
    const uuid = await r.boot(undefined, { hints: { force_hosts: ['h1'] } });
    await r.waitState(uuid, settled, 'built');
    await r.sql.run("UPDATE services SET forced_down = 1 WHERE host = 'h1'");
    failing.push('h2');
    const m = await evacuate(r, uuid, 'h2', true);
    const row = await r.waitState(uuid, settled, 'evacuation failed');
    assert.equal(row.vm_state, 'error');
    assert.equal(row.host, 'h1');
    assert.match((await lastFault(r.sql, uuid))!.message, /^Evacuation of instance .* failed on its new host: .*h2/);
    await waitFor(async () => (await migrationStatus(r.sql, m)) === 'failed', 'migration failed');
    assert.deepEqual(await nodeHost(r.sql, uuid), ['h1']);
    assert.deepEqual(await allocations(r.sql, m), []);
    assert.ok(!(await r.hosts.get('h2')!.driver.listInstances()).includes(uuid), 'no leftover guest on the destination');

    // The admin may evacuate it again (ERROR is allowed) once the destination works.
    failing.length = 0;
    await evacuate(r, uuid);
    const ok = await r.waitState(uuid, (x) => settled(x) && x.host === 'h2', 'evacuated on retry');
    assert.equal(ok.vm_state, 'active', 'an ERROR instance comes back ACTIVE, as Nova');
  } finally {
    await r.close();
  }
});

test('stuck builds: two conductors reaping at once put each stuck build in ERROR exactly once; progress wins', async () => {
  const sql = await openDatabase('sqlite::memory:');
  try {
    const old = new Date(Date.now() - 600_000).toISOString();
    const insert = async (task: string | null, updated: string) => {
      const uuid = randomUUID();
      await sql.run(
        `INSERT INTO instances (uuid, project_id, user_id, display_name, flavor_id, flavor, vm_state, task_state, memory_mb, vcpus, root_gb,
           reservation_id, created_at, updated_at) VALUES (?, 'p1', 'u1', 'vm', 1, '{}', 'building', ?, 512, 1, 1, 'r-1', ?, ?)`,
        [uuid, task, old, updated],
      );
      return uuid;
    };
    const stuck = await insert('spawning', old);
    const unscheduled = await insert('scheduling', old);
    const fresh = await insert('spawning', nowIso());
    await sql.run("INSERT INTO allocations (consumer_uuid, node_uuid, vcpus, memory_mb, disk_gb, created_at) VALUES (?, 'n1', 1, 512, 1, ?)", [stuck, old]);
    const changed: string[][] = [];
    const ctx = { sql, hostStateChanged: (n?: string[]) => void changed.push(n ?? []) };
    const [x, y] = await Promise.all([reapStuckBuilds(ctx, 180), reapStuckBuilds(ctx, 180)]);
    assert.deepEqual([...x, ...y].sort(), [stuck, unscheduled].sort());
    for (const u of [stuck, unscheduled]) {
      const row = await getInstance(sql, u);
      assert.equal(row.vm_state, 'error');
      assert.equal(row.task_state, null);
      const faults = await sql.all<{ message: string }>('SELECT message FROM instance_faults WHERE instance_uuid = ?', [u]);
      assert.equal(faults.length, 1);
    }
    assert.equal((await lastFault(sql, stuck))!.message, `Build of instance ${stuck} timed out after 180 s (last task state: spawning). Delete the server and create it again.`);
    assert.match((await lastFault(sql, unscheduled))!.details, /no host chosen yet/);
    assert.deepEqual(await allocations(sql, stuck), []);
    assert.deepEqual(changed.flat(), ['n1']);
    assert.equal((await getInstance(sql, fresh)).vm_state, 'building', 'a build that made progress lately is left alone');
    assert.deepEqual(await reapStuckBuilds(ctx, 0), [], 'build_timeout 0 turns it off');
  } finally {
    await sql.close();
  }
});
