import { defaultConfig } from '../config.js';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../db/open.js';
import { upsertComputeNode } from '../conductor/compute-nodes.js';
import { claim, nodeUsage, release } from './claims.js';
import { Scheduler } from './scheduler.js';
import { makeSpec } from './testing.js';
import type { HostResources } from '../virt/driver.js';
import { NovaError } from '../errors.js';
import type { ServerGroupSpec } from './rpcapi.js';
import { addNode, insertAllocation, insertGroup, insertInstance } from './testing-db.js';
import { nowIso } from '../util/time.js';
import { startTestPostgres } from '../../test/helpers/postgres.js';

const res = (name: string, memory_mb: number, vcpus = 64): HostResources => ({
  hypervisor_hostname: name,
  hypervisor_type: 'fake',
  hypervisor_version: 1,
  vcpus,
  memory_mb,
  local_gb: 1000,
  host_ip: '127.0.0.1',
  cpu_info: {},
});

const config = { ...defaultConfig().scheduler, filters: ['ComputeFilter', 'AvailabilityZoneFilter', 'ResourceFilter'], weighers: { RAMWeigher: 1 } };

test('claim: inserts only while capacity remains and is idempotent per consumer', async () => {
  const sql = await openDatabase('sqlite::memory:');
  // 2560 MB total - 512 reserved = 2048 MB usable
  const { node_uuid } = await upsertComputeNode(sql, 'h1', res('h1', 2560));
  const r = { vcpus: 1, memory_mb: 1024, disk_gb: 1 };
  const a = randomUUID();
  assert.deepEqual(await claim(sql, { node_uuid, consumer_uuid: a, resources: r }), { ok: true });
  assert.deepEqual(await claim(sql, { node_uuid, consumer_uuid: a, resources: r }), { ok: true });
  assert.deepEqual(await claim(sql, { node_uuid, consumer_uuid: randomUUID(), resources: r }), { ok: true });
  const third = await claim(sql, { node_uuid, consumer_uuid: randomUUID(), resources: r });
  assert.equal(third.ok, false);
  assert.match((third as { reason: string }).reason, /h1: not enough memory: needs 1024 MB, free 0 MB/);
  await release(sql, a);
  assert.equal((await nodeUsage(sql, node_uuid)).memory_mb, 1024);
  await sql.close();
});

test('claim: many parallel select_destinations on a small host never overcommit', async () => {
  const sql = await openDatabase('sqlite::memory:');
  const { node_uuid } = await upsertComputeNode(sql, 'small', res('small', 512 + 10 * 256));
  // Several schedulers with their own caches race, as several scheduler processes would.
  const schedulers = await Promise.all(
    [1, 2, 3].map(async () => {
      const s = new Scheduler(sql, config);
      await s.cache.reload();
      return s;
    }),
  );
  const results = await Promise.allSettled(
    Array.from({ length: 40 }, (_, i) => schedulers[i % 3].selectDestinations(makeSpec({ flavor: { memory_mb: 256 } }))),
  );
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  assert.equal(ok, 10);
  for (const r of results)
    if (r.status === 'rejected') {
      assert.ok(r.reason instanceof NovaError && r.reason.kind === 'NoValidHost');
      assert.match(r.reason.message, /lacks? memory: needs 256 MB/);
    }
  const u = await nodeUsage(sql, node_uuid);
  assert.equal(u.memory_mb, 2560);
  assert.equal(u.instances, 10);
  await sql.close();
});

test('scheduler: multi-instance request is all-or-nothing and answers alternates', async () => {
  const sql = await openDatabase('sqlite::memory:');
  for (const h of ['a', 'b', 'c']) await upsertComputeNode(sql, h, res(h, 512 + 1024));
  const s = new Scheduler(sql, config);
  await s.cache.reload();
  const spec = makeSpec({ instance_uuids: [randomUUID(), randomUUID()], flavor: { memory_mb: 1024 } });
  const sel = await s.selectDestinations(spec, 2);
  assert.equal(sel.length, 2);
  assert.notEqual(sel[0][0].host, sel[1][0].host, 'spread across hosts by RAMWeigher');
  assert.equal(sel[0].length, 3);
  const big = makeSpec({ instance_uuids: [randomUUID(), randomUUID()], flavor: { memory_mb: 1024 } });
  await assert.rejects(s.selectDestinations(big), (e: NovaError) => e.kind === 'NoValidHost');
  const n = await sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM allocations');
  assert.equal(n!.n, 2, 'the claim made for the first instance of the failed request was released');
  await sql.close();
});

// ---- server group policies, re-checked by the claim in the DB ----

type Db = Awaited<ReturnType<typeof openDatabase>>;
const groupSpec = (uuid: string, policy: ServerGroupSpec['policy'], members: string[], max: number | null = null): ServerGroupSpec => ({
  uuid,
  policy,
  max_server_per_host: max,
  members,
});
const small = { vcpus: 1, memory_mb: 256, disk_gb: 1 };

async function groupOf(sql: Db, policy: ServerGroupSpec['policy'], n: number, rules: Record<string, number> = {}) {
  const members: string[] = [];
  for (let i = 0; i < n; i++) members.push(await insertInstance(sql, { vm_state: 'building', task_state: 'scheduling' }));
  const uuid = await insertGroup(sql, policy, members, rules);
  return { uuid, members };
}

test('claim: anti-affinity counts members on the node, up to max_server_per_host', async () => {
  const sql = await openDatabase('sqlite::memory:');
  const a = await addNode(sql, 'a');
  const b = await addNode(sql, 'b');
  const { uuid, members: m } = await groupOf(sql, 'anti-affinity', 4);
  const g = groupSpec(uuid, 'anti-affinity', m);
  assert.deepEqual(await claim(sql, { node_uuid: a, consumer_uuid: m[0], resources: small, group: g }), { ok: true });
  const refused = await claim(sql, { node_uuid: a, consumer_uuid: m[1], resources: small, group: g });
  assert.deepEqual(refused, { ok: false, reason: `a: server group policy: anti-affinity group ${uuid} already has 1 member on this host, at most 1 per host` });
  assert.deepEqual(await claim(sql, { node_uuid: a, consumer_uuid: m[0], resources: small, group: g }), { ok: true }, 'idempotent for the member itself');
  assert.deepEqual(await claim(sql, { node_uuid: b, consumer_uuid: m[1], resources: small, group: g }), { ok: true });
  // max_server_per_host 2: a second member fits, a third does not.
  const g2 = groupSpec(uuid, 'anti-affinity', m, 2);
  assert.deepEqual(await claim(sql, { node_uuid: a, consumer_uuid: m[2], resources: small, group: g2 }), { ok: true });
  const third = await claim(sql, { node_uuid: a, consumer_uuid: m[3], resources: small, group: g2 });
  assert.equal(third.ok, false);
  assert.match((third as { reason: string }).reason, new RegExp(`a: server group policy: anti-affinity group ${uuid} already has 2 members on this host, at most 2 per host`));
  // A deleted member no longer counts.
  await sql.run('UPDATE instances SET deleted = id WHERE uuid = ?', [m[0]]);
  assert.deepEqual(await claim(sql, { node_uuid: a, consumer_uuid: m[3], resources: small, group: g2 }), { ok: true });
  // Soft policies are never refused by the claim.
  assert.deepEqual(await claim(sql, { node_uuid: b, consumer_uuid: randomUUID(), resources: small, group: groupSpec(uuid, 'soft-anti-affinity', m) }), { ok: true });
  await sql.close();
});

test('claim: affinity refuses a node other than the one the members are on; a resizing member counts on both hosts', async () => {
  const sql = await openDatabase('sqlite::memory:');
  const a = await addNode(sql, 'a');
  const b = await addNode(sql, 'b');
  const { uuid, members: m } = await groupOf(sql, 'affinity', 3);
  const g = groupSpec(uuid, 'affinity', m);
  assert.deepEqual(await claim(sql, { node_uuid: b, consumer_uuid: m[0], resources: small, group: g }), { ok: true });
  const refused = await claim(sql, { node_uuid: a, consumer_uuid: m[1], resources: small, group: g });
  assert.deepEqual(refused, { ok: false, reason: `a: server group policy: affinity group ${uuid} has members on another host (1 on b)` });
  assert.deepEqual(await claim(sql, { node_uuid: b, consumer_uuid: m[1], resources: small, group: g }), { ok: true });

  // Anti-affinity and a member in the middle of a resize: its old allocation (held by the
  // migration) keeps the source host occupied until the resize is confirmed.
  const anti = await groupOf(sql, 'anti-affinity', 2);
  const mig = randomUUID();
  await sql.run(
    "INSERT INTO migrations (uuid, instance_uuid, migration_type, source_compute, source_node, status, created_at, updated_at) VALUES (?, ?, 'resize', 'a', 'a', 'finished', ?, ?)",
    [mig, anti.members[0], nowIso(), nowIso()],
  );
  await insertAllocation(sql, mig, a, small);
  const ga = groupSpec(anti.uuid, 'anti-affinity', anti.members);
  assert.equal((await claim(sql, { node_uuid: a, consumer_uuid: anti.members[1], resources: small, group: ga })).ok, false);
  // The resizing member itself may stay on its host (resize to the same host).
  assert.deepEqual(await claim(sql, { node_uuid: a, consumer_uuid: anti.members[0], resources: small, group: ga }), { ok: true });
  await sql.run("UPDATE migrations SET status = 'confirmed' WHERE uuid = ?", [mig]);
  await sql.run('DELETE FROM allocations WHERE consumer_uuid IN (?, ?)', [mig, anti.members[0]]);
  assert.deepEqual(await claim(sql, { node_uuid: a, consumer_uuid: anti.members[1], resources: small, group: ga }), { ok: true });
  await sql.close();
});

/** An anti-affinity group of 5 races onto 3 hosts through 3 schedulers with their own caches. */
async function antiAffinityRace(sql: Db): Promise<void> {
  const nodes = [await addNode(sql, 'r1'), await addNode(sql, 'r2'), await addNode(sql, 'r3')];
  const { uuid, members } = await groupOf(sql, 'anti-affinity', 5);
  const schedulers = await Promise.all(
    [1, 2, 3].map(async () => {
      const s = new Scheduler(sql, config);
      await s.cache.reload();
      return s;
    }),
  );
  const group = groupSpec(uuid, 'anti-affinity', members);
  const results = await Promise.allSettled(
    members.map((m, i) => schedulers[i % 3].selectDestinations(makeSpec({ instance_uuids: [m], flavor: { memory_mb: 256 }, group }))),
  );
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
  for (const r of results)
    if (r.status === 'rejected') {
      assert.ok(r.reason instanceof NovaError && r.reason.kind === 'NoValidHost', String(r.reason));
      // Without the group filters only the claims refuse: the reasons say so, per host for admins.
      assert.match(r.reason.message, /server group policy/);
      const hosts = Object.values(r.reason.details.hosts as Record<string, string>);
      assert.ok(hosts.some((h) => h.includes(`anti-affinity group ${uuid} already has 1 member on this host, at most 1 per host`)), hosts.join('\n'));
    }
  const rows = await sql.all<{ node_uuid: string; n: number }>('SELECT node_uuid, COUNT(*) AS n FROM allocations GROUP BY node_uuid');
  assert.deepEqual(rows.map((r) => r.node_uuid).sort(), [...nodes].sort());
  for (const r of rows) assert.equal(Number(r.n), 1, 'never two members on one node');
}

/** An affinity group of 6 races onto 3 hosts (random among the best 3): all placed members share one node. */
async function affinityRace(sql: Db): Promise<void> {
  for (const n of ['s1', 's2', 's3']) await addNode(sql, n);
  const { uuid, members } = await groupOf(sql, 'affinity', 6);
  const schedulers = await Promise.all(
    [1, 2, 3].map(async () => {
      const s = new Scheduler(sql, { ...config, hostSubsetSize: 3 });
      await s.cache.reload();
      return s;
    }),
  );
  const group = groupSpec(uuid, 'affinity', members);
  const results = await Promise.allSettled(
    members.map((m, i) => schedulers[i % 3].selectDestinations(makeSpec({ instance_uuids: [m], flavor: { memory_mb: 256 }, group }))),
  );
  assert.ok(results.some((r) => r.status === 'fulfilled'));
  const rows = await sql.all<{ node_uuid: string }>('SELECT DISTINCT node_uuid FROM allocations');
  assert.equal(rows.length, 1, 'every placed member of an affinity group is on one node');
}

test('claim: parallel boots of an anti-affinity group never share a node (SQLite)', async () => {
  const sql = await openDatabase('sqlite::memory:');
  try {
    await antiAffinityRace(sql);
  } finally {
    await sql.close();
  }
});

test('claim: parallel boots of an affinity group all land on one node (SQLite)', async () => {
  for (let round = 0; round < 5; round++) {
    const sql = await openDatabase('sqlite::memory:');
    try {
      await affinityRace(sql);
    } finally {
      await sql.close();
    }
  }
});

describe('claim on PostgreSQL', async () => {
  const started = await startTestPostgres();
  if ('skip' in started) {
    test('parallel boots of an anti-affinity group never share a node (PostgreSQL)', { skip: started.skip }, () => undefined);
    return;
  }
  after(() => started.stop());
  test('parallel boots of an anti-affinity group never share a node (PostgreSQL)', async () => {
    for (let round = 0; round < 3; round++) {
      const sql = await openDatabase(await started.createDb(`claims_${process.pid}_${round}`));
      try {
        await antiAffinityRace(sql);
      } finally {
        await sql.close();
      }
    }
  });
  test('parallel boots of an affinity group all land on one node (PostgreSQL)', async () => {
    for (let round = 0; round < 3; round++) {
      const sql = await openDatabase(await started.createDb(`claims_aff_${process.pid}_${round}`));
      try {
        await affinityRace(sql);
      } finally {
        await sql.close();
      }
    }
  });
});

test('scheduler: one multi-create request of an affinity group lands on one node by ranking, not by lost claims', async () => {
  const sql = await openDatabase('sqlite::memory:');
  try {
    for (const n of ['m1', 'm2', 'm3']) await addNode(sql, n);
    const { uuid, members } = await groupOf(sql, 'affinity', 3);
    // RAMWeigher alone would spread the three; the affinity filter must keep them together.
    const s = new Scheduler(sql, { ...defaultConfig().scheduler, weighers: { RAMWeigher: 1 } });
    await s.cache.reload();
    const sel = await s.selectDestinations(makeSpec({ instance_uuids: members, flavor: { memory_mb: 256 }, group: groupSpec(uuid, 'affinity', members) }));
    assert.equal(new Set(sel.map((x) => x[0].host)).size, 1, JSON.stringify(sel.map((x) => x[0].host)));
    assert.equal(s.stats.lostClaims, 0);
  } finally {
    await sql.close();
  }
});
