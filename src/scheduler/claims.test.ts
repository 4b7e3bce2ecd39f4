import { defaultConfig } from '../config.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../db/open.js';
import { upsertComputeNode } from '../conductor/compute-nodes.js';
import { claim, nodeUsage, release } from './claims.js';
import { Scheduler } from './scheduler.js';
import { makeSpec } from './testing.js';
import type { HostResources } from '../virt/driver.js';
import { NovaError } from '../errors.js';

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
      assert.match(r.reason.message, /1 of 1 host lack memory: needs 256 MB, most free 0 MB/);
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
