import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { getInstance, startAction, updateInstance, type InstanceRow } from '../db/instances.js';
import { json } from '../db/sql.js';
import { instancePayload } from '../conductor/payload.js';
import { rig, settled, lastFault, actionEvents, allocations, uploads, abandoned, eventsSettled, type Rig } from '../conductor/test-rig.js';
import type { ActionArgs } from './rpcapi.js';
import { statusFromState } from './vm-states.js';
import { nowIso } from '../util/time.js';

const status = (r: InstanceRow) => statusFromState(r.vm_state, r.task_state);

/** Does what the API does for an action: set task_state, record the action, cast to the host. */
async function act(r: Rig, uuid: string, taskState: string | null, action: string, cast: (host: string, args: ActionArgs) => Promise<unknown>): Promise<InstanceRow> {
  const requestId = `req-${randomUUID()}`;
  const row = taskState ? await updateInstance(r.sql, uuid, { task_state: taskState }) : await getInstance(r.sql, uuid);
  await startAction(r.sql, { uuid, action, requestId, userId: 'u1', projectId: 'p1' });
  await cast(row.host!, { instance: await instancePayload(r.sql, row), request_id: requestId });
  // Done when the host finished its action event and the task state is clear.
  for (const end = Date.now() + 5000; Date.now() < end; await new Promise((res) => setTimeout(res, 5))) {
    const a = await r.sql.get<{ finish_time: string | null }>('SELECT finish_time FROM instance_actions WHERE request_id = ?', [requestId]);
    const cur = await getInstance(r.sql, uuid);
    if (a?.finish_time && cur.task_state === null) return cur;
  }
  throw new Error(`timed out waiting for ${action} on ${uuid}`);
}

async function booted(hosts: Record<string, number> = { host1: 8192 }, over = {}) {
  const r = await rig(hosts, over);
  const uuid = await r.boot();
  await r.waitState(uuid, settled, 'ACTIVE');
  return { r, uuid };
}

test('compute: stop, start, hard reboot, pause/unpause, suspend/resume reach the expected states', async () => {
  const { r, uuid } = await booted();
  try {
    const c = r.compute;
    let row = await act(r, uuid, 'powering-off', 'stop', (h, a) => c.stopInstance(h, a));
    assert.deepEqual([status(row), row.power_state], ['SHUTOFF', 4]);
    row = await act(r, uuid, 'powering-on', 'start', (h, a) => c.startInstance(h, a));
    assert.deepEqual([status(row), row.power_state], ['ACTIVE', 1]);
    row = await act(r, uuid, 'rebooting_hard', 'reboot', (h, a) => c.rebootInstance(h, { ...a, reboot_type: 'HARD' }));
    assert.deepEqual([status(row), row.power_state], ['ACTIVE', 1]);
    row = await act(r, uuid, 'pausing', 'pause', (h, a) => c.pauseInstance(h, a));
    assert.deepEqual([status(row), row.power_state], ['PAUSED', 3]);
    row = await act(r, uuid, 'unpausing', 'unpause', (h, a) => c.unpauseInstance(h, a));
    assert.deepEqual([status(row), row.power_state], ['ACTIVE', 1]);
    row = await act(r, uuid, 'suspending', 'suspend', (h, a) => c.suspendInstance(h, a));
    assert.deepEqual([status(row), row.power_state], ['SUSPENDED', 7]);
    row = await act(r, uuid, 'resuming', 'resume', (h, a) => c.resumeInstance(h, a));
    assert.deepEqual([status(row), row.power_state], ['ACTIVE', 1]);
    await eventsSettled(r.sql, uuid);
    const ev = (await actionEvents(r.sql, uuid)).map((e) => `${e.event}:${e.result}`);
    for (const e of ['compute_stop_instance', 'compute_start_instance', 'compute_reboot_instance', 'compute_pause_instance', 'compute_resume_instance'])
      assert.ok(ev.includes(`${e}:Success`), `${e} in ${ev.join(', ')}`);
  } finally {
    await r.close();
  }
});

test('compute: a failed operation records a fault and never leaves the task state set', async () => {
  const { r, uuid } = await booted();
  try {
    const row = await act(r, uuid, 'unpausing', 'unpause', (h, a) => r.compute.unpauseInstance(h, a));
    assert.equal(status(row), 'ACTIVE');
    assert.equal(row.task_state, null);
    const f = await lastFault(r.sql, uuid);
    assert.equal(f?.code, 409);
    assert.match(f!.message, /Cannot unpause instance .*: its power state is RUNNING/);
    assert.ok((await actionEvents(r.sql, uuid)).some((e) => e.event === 'compute_unpause_instance' && e.result === 'Error'));
  } finally {
    await r.close();
  }
});

test('compute: rebuild keeps the instance ACTIVE on the same host', async () => {
  const { r, uuid } = await booted();
  try {
    await updateInstance(r.sql, uuid, { image_ref: 'img-2' });
    const row = await act(r, uuid, 'rebuilding', 'rebuild', (h, a) => r.compute.rebuildInstance(h, a));
    assert.equal(status(row), 'ACTIVE');
    assert.equal(row.image_ref, 'img-2');
    assert.deepEqual(await r.hosts.get('host1')!.driver.listInstances(), [uuid]);
  } finally {
    await r.close();
  }
});

test('compute: a server rebuilt while stopped stays SHUTOFF, as in Nova', async () => {
  const { r, uuid } = await booted();
  try {
    await act(r, uuid, 'powering-off', 'stop', (h, a) => r.compute.stopInstance(h, a));
    const row = await act(r, uuid, 'rebuilding', 'rebuild', (h, a) => r.compute.rebuildInstance(h, a));
    assert.equal(status(row), 'SHUTOFF');
    assert.equal(row.power_state, 4);
    assert.equal(await r.hosts.get('host1')!.driver.powerState(uuid), 4);
  } finally {
    await r.close();
  }
});

async function addFlavor(r: Rig, id: number, memory_mb: number) {
  await r.sql.run('INSERT INTO flavors (id, flavorid, name, memory_mb, vcpus, root_gb, created_at) VALUES (?, ?, ?, ?, 1, 1, ?)', [id, String(id), `f${id}`, memory_mb, nowIso()]);
}

/** What the API does for resize: migration row, task_state resize_prep, action, conductor cast. */
async function resize(r: Rig, uuid: string, newFlavorId: number): Promise<string> {
  const row = await updateInstance(r.sql, uuid, { task_state: 'resize_prep' });
  const m = randomUUID();
  const now = nowIso();
  await r.sql.run(
    `INSERT INTO migrations (uuid, instance_uuid, migration_type, source_compute, source_node, old_flavor_id, new_flavor_id, status, created_at, updated_at)
     VALUES (?, ?, 'resize', ?, ?, ?, ?, 'pre-migrating', ?, ?)`,
    [m, uuid, row.host, row.node, row.flavor_id, newFlavorId, now, now],
  );
  const requestId = `req-${m}`;
  await startAction(r.sql, { uuid, action: 'resize', requestId, userId: 'u1', projectId: 'p1' });
  await r.conductor.resizeInstance({ instance_uuid: uuid, new_flavor_id: newFlavorId, migration_uuid: m, request_id: requestId });
  return m;
}

const memOf = (row: InstanceRow) => json<{ memory_mb: number }>(row.flavor, { memory_mb: 0 }).memory_mb;

test('compute: resize to VERIFY_RESIZE holds both claims; confirm frees the old one, revert restores it', async () => {
  const { r, uuid } = await booted();
  try {
    await addFlavor(r, 2, 1024);
    let m = await resize(r, uuid, 2);
    let row = await r.waitState(uuid, (x) => x.vm_state === 'resized' && x.task_state === null, 'VERIFY_RESIZE');
    assert.equal(status(row), 'VERIFY_RESIZE');
    assert.equal(memOf(row), 1024);
    assert.equal(row.memory_mb, 1024);
    assert.deepEqual((await allocations(r.sql)).map((a) => [a.consumer_uuid, a.memory_mb]).sort(), [[m, 512], [uuid, 1024]].sort());
    row = await act(r, uuid, null, 'confirmResize', (h, a) => r.compute.confirmResize(h, { ...a, migration_uuid: m }));
    row = await r.waitState(uuid, (x) => x.vm_state === 'active', 'confirmed');
    assert.equal(status(row), 'ACTIVE');
    assert.deepEqual((await allocations(r.sql)).map((a) => [a.consumer_uuid, a.memory_mb]), [[uuid, 1024]]);
    assert.equal((await r.sql.get<{ status: string }>('SELECT status FROM migrations WHERE uuid = ?', [m]))?.status, 'confirmed');

    await addFlavor(r, 3, 2048);
    m = await resize(r, uuid, 3);
    await r.waitState(uuid, (x) => x.vm_state === 'resized' && x.task_state === null, 'VERIFY_RESIZE again');
    row = await act(r, uuid, 'resize_reverting', 'revertResize', (h, a) => r.compute.revertResize(h, { ...a, migration_uuid: m }));
    assert.equal(status(row), 'ACTIVE');
    assert.equal(memOf(row), 1024);
    assert.deepEqual((await allocations(r.sql)).map((a) => [a.consumer_uuid, a.memory_mb]), [[uuid, 1024]]);
  } finally {
    await r.close();
  }
});

test('compute: a resize that does not fit leaves the instance ACTIVE with its claim and a fault', async () => {
  const { r, uuid } = await booted({ host1: 2048 });
  try {
    await addFlavor(r, 2, 4096);
    await resize(r, uuid, 2);
    const row = await r.waitState(uuid, (x) => x.task_state === null, 'resize given up');
    assert.equal(status(row), 'ACTIVE');
    assert.equal(memOf(row), 512);
    assert.match((await lastFault(r.sql, uuid))!.message, /No valid host was found\. The only host lacks memory: needs 4096 MB/);
    assert.deepEqual((await allocations(r.sql)).map((a) => [a.consumer_uuid, a.memory_mb]), [[uuid, 512]]);
  } finally {
    await r.close();
  }
});

test('compute: snapshot uploads the disk; a failed snapshot abandons the image', async () => {
  const { r, uuid } = await booted();
  try {
    const row = await act(r, uuid, 'image_snapshot', 'createImage', (h, a) => r.compute.snapshotInstance(h, { ...a, image_id: 'snap-1' }));
    assert.equal(status(row), 'ACTIVE');
    assert.ok(uploads.some((u) => u.id === 'snap-1'));
  } finally {
    await r.close();
  }
  const b = await booted({ host1: 8192 }, { fake: { failures: { snapshot: 1 } } });
  try {
    const row = await act(b.r, b.uuid, 'image_snapshot', 'createImage', (h, a) => b.r.compute.snapshotInstance(h, { ...a, image_id: 'snap-2' }));
    assert.equal(row.task_state, null);
    assert.ok(abandoned.includes('snap-2'));
    assert.match((await lastFault(b.r.sql, b.uuid))!.message, /snapshot failed/);
  } finally {
    await b.r.close();
  }
});

test('compute: console output names the instance', async () => {
  const { r, uuid } = await booted();
  try {
    const row = await getInstance(r.sql, uuid);
    const out = await r.compute.getConsoleOutput(row.host!, { instance: await instancePayload(r.sql, row), length: 5 });
    assert.match(out, new RegExp(row.display_name));
  } finally {
    await r.close();
  }
});

test('compute: resize across hosts moves the guest; confirm deletes the old one, revert brings it back', async () => {
  // host1 has room for the small flavor only, so a bigger flavor lands on host2.
  const r = await rig({ host1: 2048, host2: 8192 });
  try {
    await addFlavor(r, 2, 2048);
    const onHost1 = () => r.boot(undefined, { hints: { requested_destination: { host: 'host1' } } });
    const d1 = r.hosts.get('host1')!.driver;
    const d2 = r.hosts.get('host2')!.driver;

    const a = await onHost1();
    await r.waitState(a, settled, 'ACTIVE on host1');
    let m = await resize(r, a, 2);
    let row = await r.waitState(a, (x) => x.vm_state === 'resized' && x.task_state === null, 'VERIFY_RESIZE on host2');
    assert.deepEqual([row.host, row.node, memOf(row), row.power_state], ['host2', 'host2', 2048, 1]);
    assert.equal(await d1.powerState(a), 4, 'the source guest is kept, powered off, until confirmed');
    assert.equal(await d2.powerState(a), 1);
    row = await act(r, a, null, 'confirmResize', (_h, x) => r.compute.confirmResize('host1', { ...x, migration_uuid: m }));
    assert.deepEqual([status(row), row.host, row.power_state], ['ACTIVE', 'host2', 1]);
    assert.ok(!(await d1.listInstances()).includes(a));
    assert.deepEqual((await allocations(r.sql)).map((x) => [x.consumer_uuid, x.memory_mb]), [[a, 2048]]);

    const b = await onHost1();
    await r.waitState(b, settled, 'ACTIVE on host1');
    m = await resize(r, b, 2);
    await r.waitState(b, (x) => x.vm_state === 'resized' && x.task_state === null, 'VERIFY_RESIZE on host2');
    await updateInstance(r.sql, b, { task_state: 'resize_reverting' });
    row = await act(r, b, null, 'revertResize', (_h, x) => r.compute.revertResize('host2', { ...x, migration_uuid: m }));
    row = await r.waitState(b, (x) => x.vm_state === 'active' && x.task_state === null, 'ACTIVE back on host1');
    assert.deepEqual([row.host, memOf(row), row.power_state], ['host1', 512, 1]);
    assert.equal(await d1.powerState(b), 1);
    assert.ok(!(await d2.listInstances()).includes(b));
    assert.deepEqual((await allocations(r.sql, b)).map((x) => x.memory_mb), [512]);
  } finally {
    await r.close();
  }
});
