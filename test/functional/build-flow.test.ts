/**
 * The back end of the build flow in one process: scheduler, conductor and fake compute hosts
 * over the in-process bus and an in-memory SQLite DB. Instances are recorded as the Compute
 * API records them (BUILD/scheduling + a 'create' action), then handed to the conductor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getInstance, startAction, updateInstance } from '../../src/db/instances.js';
import { statusFromState } from '../../src/compute/vm-states.js';
import { instancePayload } from '../../src/conductor/payload.js';
import { rig, flavor, settled, lastFault as fault, actionEvents as events, allocations, eventsSettled } from '../../src/conductor/test-rig.js';

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
    assert.equal(row.availability_zone, 'nova', "the host's zone is recorded");
    assert.deepEqual((await allocations(r.sql, uuid)).map((a) => a.memory_mb), [512]);
    assert.deepEqual(await r.hosts.get(row.host!)!.driver.listInstances(), [uuid]);
    await eventsSettled(r.sql, uuid);
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
    await eventsSettled(r.sql, uuid);
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
    await eventsSettled(r.sql, uuid);
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
    assert.match(f!.message, /failed on all 2 hosts tried \(which hosts, and why on each, is in the fault details for admins\)/);
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
    await eventsSettled(r.sql, uuid);
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

test('power sync runs on its own timer', async () => {
  const r = await rig({ host1: 4096 });
  try {
    const uuid = await r.boot();
    await r.waitState(uuid, settled, 'ACTIVE');
    await r.restartHost('host1', { powerSyncIntervalSec: 0.1 });
    r.hosts.get('host1')!.driver.simulatePowerOff(uuid);
    const row = await r.waitState(uuid, (x) => x.vm_state === 'stopped', 'SHUTOFF by the periodic sync');
    assert.equal(statusFromState(row.vm_state, row.task_state), 'SHUTOFF');
  } finally {
    await r.close();
  }
});

test('restart: an interrupted build ends in ERROR with a fault, an interrupted stop is cleared, an interrupted delete completes', async () => {
  const r = await rig({ host1: 4096 });
  try {
    const [a, b, c] = [await r.boot(), await r.boot(), await r.boot()];
    for (const u of [a, b, c]) await r.waitState(u, settled, 'ACTIVE');
    await updateInstance(r.sql, a, { vm_state: 'building', task_state: 'spawning' });
    await updateInstance(r.sql, b, { task_state: 'powering-off' });
    await updateInstance(r.sql, c, { task_state: 'deleting' });
    await r.restartHost('host1');
    const ra = await getInstance(r.sql, a);
    assert.equal(statusFromState(ra.vm_state, ra.task_state), 'ERROR');
    assert.match((await fault(r.sql, a))!.message, /interrupted because compute host host1 restarted/);
    const rb = await getInstance(r.sql, b);
    assert.equal(rb.task_state, null);
    const rc = await getInstance(r.sql, c, { readDeleted: true });
    assert.notEqual(rc.deleted, 0);
    assert.deepEqual(await allocations(r.sql, c), []);
  } finally {
    await r.close();
  }
});
