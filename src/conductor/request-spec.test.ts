import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../db/open.js';
import { startAction, updateInstance } from '../db/instances.js';
import { nowIso } from '../util/time.js';
import { insertGroup, insertInstance, testFlavor } from '../scheduler/testing-db.js';
import { groupSpec } from './request-spec.js';
import { lastFault, rig, settled, type Rig } from './test-rig.js';

test('request spec: the group hint becomes the group with its policy, max_server_per_host and live members', async () => {
  const sql = await openDatabase('sqlite::memory:');
  const [a, b, gone] = [await insertInstance(sql), await insertInstance(sql), await insertInstance(sql, { deleted: true })];
  const anti = await insertGroup(sql, 'anti-affinity', [a, b, gone], { max_server_per_host: 2 });
  const soft = await insertGroup(sql, 'soft-affinity', [a]);
  assert.equal(await groupSpec(sql, { scheduler_hints: '{}' }), null);
  assert.deepEqual(await groupSpec(sql, { scheduler_hints: JSON.stringify({ group: anti }) }), {
    uuid: anti,
    policy: 'anti-affinity',
    max_server_per_host: 2,
    members: [a, b],
  });
  assert.deepEqual(await groupSpec(sql, { scheduler_hints: JSON.stringify({ group: [soft] }) }), { uuid: soft, policy: 'soft-affinity', max_server_per_host: null, members: [a] });
  await sql.run('UPDATE server_groups SET deleted = id WHERE uuid = ?', [soft]);
  assert.equal(await groupSpec(sql, { scheduler_hints: JSON.stringify({ group: soft }) }), null, 'a deleted group constrains nothing');
  await sql.close();
});

/** What the API does for a create with a group hint: instance row, group membership, action, conductor cast. */
async function bootInGroup(r: Rig, group: string, hints: Record<string, unknown> = {}): Promise<string> {
  const uuid = await insertInstance(r.sql, { vm_state: 'building', task_state: 'scheduling', hints: { group, ...hints }, flavor: testFlavor(512) });
  await r.sql.run('INSERT INTO server_group_members (group_uuid, instance_uuid, created_at) VALUES (?, ?, ?)', [group, uuid, nowIso()]);
  await startAction(r.sql, { uuid, action: 'create', requestId: `req-${uuid}`, userId: 'u1', projectId: 'p1' });
  await r.conductor.buildInstances({ instance_uuids: [uuid], request_id: `req-${uuid}` });
  return uuid;
}

test('request spec: builds of an anti-affinity group spread, one per host; the one too many fails naming the policy', async () => {
  const r = await rig({ h1: 8192, h2: 8192 });
  try {
    const g = await insertGroup(r.sql, 'anti-affinity', []);
    const a = await r.waitState(await bootInGroup(r, g), settled, 'first member');
    const b = await r.waitState(await bootInGroup(r, g), settled, 'second member');
    assert.deepEqual([a.vm_state, b.vm_state], ['active', 'active']);
    assert.notEqual(a.host, b.host);
    const c = await r.waitState(await bootInGroup(r, g), settled, 'third member');
    assert.equal(c.vm_state, 'error');
    assert.match((await lastFault(r.sql, c.uuid))!.message, /anti-affinity/i);
  } finally {
    await r.close();
  }
});

test('request spec: a resize keeps anti-affinity (never onto a host of another member)', async () => {
  // big2 has the most free memory (without the group the resize would go there), but the other member lives there.
  const r = await rig({ small1: 4096, big2: 16384, mid3: 8192 });
  try {
    await r.sql.run("INSERT INTO flavors (id, flavorid, name, memory_mb, vcpus, root_gb, created_at) VALUES (2, '2', 'f1024', 1024, 1, 1, ?)", [nowIso()]);
    const g = await insertGroup(r.sql, 'anti-affinity', []);
    const a = await r.waitState(await bootInGroup(r, g, { requested_destination: { host: 'small1' } }), settled, 'a on small1');
    const b = await r.waitState(await bootInGroup(r, g, { requested_destination: { host: 'big2' } }), settled, 'b on big2');
    assert.deepEqual([a.host, b.host], ['small1', 'big2']);
    // One instance outside the group on mid3 too, so that every host uses as much CPU and disk.
    await r.waitState(await r.boot(undefined, { hints: { requested_destination: { host: 'mid3' } } }), settled, 'c on mid3');
    await updateInstance(r.sql, a.uuid, { task_state: 'resize_prep' });
    const m = randomUUID();
    await r.sql.run(
      `INSERT INTO migrations (uuid, instance_uuid, migration_type, source_compute, source_node, old_flavor_id, new_flavor_id, status, created_at, updated_at)
       VALUES (?, ?, 'resize', 'small1', 'small1', 1, 2, 'pre-migrating', ?, ?)`,
      [m, a.uuid, nowIso(), nowIso()],
    );
    await startAction(r.sql, { uuid: a.uuid, action: 'resize', requestId: `req-${m}`, userId: 'u1', projectId: 'p1' });
    await r.conductor.resizeInstance({ instance_uuid: a.uuid, new_flavor_id: 2, migration_uuid: m, request_id: `req-${m}` });
    const row = await r.waitState(a.uuid, (x) => x.vm_state === 'resized' && x.task_state === null, 'VERIFY_RESIZE');
    assert.equal(row.host, 'mid3');
  } finally {
    await r.close();
  }
});
