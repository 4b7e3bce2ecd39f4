import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeHost, makeSpec } from './testing.js';
import { makeFilters } from './filters/index.js';
import { makeWeighers } from './weighers/index.js';
import { rankHosts } from './select.js';
import { RankMemo } from './rank-memo.js';
import { tieOrder } from './candidates.js';
import type { HostStateCache } from './host-state-cache.js';
import type { HostState } from './host-state.js';

/** The two fields of the cache the memo reads. */
const fakeCache = () => ({ generation: 1, changed: [] as string[] }) as unknown as HostStateCache & { generation: number; changed: string[] };

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const filters = makeFilters(['AvailabilityZoneFilter', 'ComputeFilter', 'ResourceFilter']);
const weighers = makeWeighers({ RAMWeigher: 1, CPUWeigher: 1, DiskWeigher: 1, NumInstancesWeigher: -0.3, BuildFailureWeigher: 1e6 });

test('the memo answers what a full ranking answers, through claims, refreshes and failed builds', () => {
  for (let seed = 1; seed <= 12; seed++) {
    const rnd = rng(seed);
    const hosts: HostState[] = Array.from({ length: 30 + Math.floor(rnd() * 50) }, (_, i) =>
      makeHost()
        .named(`h${String(Math.floor(rnd() * 40)).padStart(2, '0')}`)
        .total({ vcpus: 4, memory_mb: 8192, disk_gb: 40 })
        .used({ memory_mb: Math.floor(rnd() * 3) * 2048 })
        .zone(i % 2 ? 'az1' : 'az2')
        .build(),
    ).sort(tieOrder);
    const cache = fakeCache();
    const memo = new RankMemo(cache);
    const spec = () => makeSpec({ availability_zone: seed % 2 ? 'az1' : null, flavor: { memory_mb: 1024, vcpus: 1, root_gb: 5 } });
    for (let step = 0; step < 60; step++) {
      const s = spec();
      const limit = 1 + Math.floor(rnd() * 4);
      const want = rankHosts(hosts, s, filters, weighers, limit).ranked;
      const got = memo.best(s, hosts, filters, weighers, limit);
      assert.deepEqual(got?.map((h) => h.node_uuid), want.map((h) => h.node_uuid), `seed ${seed}, step ${step}`);
      if (!want.length) break;
      // Claim on the best host, as the scheduler does, and now and then change another in place.
      const h = want[0];
      h.used = { ...h.used, memory_mb: h.used.memory_mb + 1024, vcpus: h.used.vcpus + 1, disk_gb: h.used.disk_gb + 5 };
      h.instances++;
      cache.changed.push(h.node_uuid);
      if (rnd() < 0.3) {
        const o = hosts[Math.floor(rnd() * hosts.length)];
        if (rnd() < 0.5) o.failed_builds = Math.floor(rnd() * 3);
        else o.used = { vcpus: 0, memory_mb: 0, disk_gb: 0 };
        cache.changed.push(o.node_uuid);
      }
    }
  }
});

test('the memo is dropped when the cache generation changes and never used for server groups', () => {
  const hosts = ['a', 'b', 'c'].map((n) => makeHost().named(n).build());
  const cache = fakeCache();
  const memo = new RankMemo(cache);
  assert.equal(memo.best(makeSpec(), hosts, filters, weighers, 1)?.[0].host, 'a');
  // Changed without being journalled (as a reload would replace it): only a new generation shows it.
  hosts[0].used = { vcpus: 0, memory_mb: 16000, disk_gb: 0 };
  assert.equal(memo.best(makeSpec(), hosts, filters, weighers, 1)?.[0].host, 'a');
  cache.generation++;
  assert.equal(memo.best(makeSpec(), hosts, filters, weighers, 1)?.[0].host, 'b');
  const grouped = makeSpec({ group: { uuid: 'g', policy: 'soft-affinity', max_server_per_host: null, members: [] } });
  assert.equal(memo.best(grouped, hosts, filters, weighers, 1), null);
});

test('requests that differ in anything but their instance uuids are ranked apart', () => {
  const hosts = [makeHost().named('small').memory(2048).build(), makeHost().named('big').memory(8192).used({ memory_mb: 4096 }).build()].sort(tieOrder);
  const memo = new RankMemo(fakeCache());
  assert.equal(memo.best(makeSpec({ flavor: { memory_mb: 512 } }), hosts, filters, weighers, 1)?.[0].host, 'big');
  assert.equal(memo.best(makeSpec({ flavor: { memory_mb: 3000 } }), hosts, filters, weighers, 1)?.[0].host, 'big');
  assert.deepEqual(memo.best(makeSpec({ flavor: { memory_mb: 5000 } }), hosts, filters, weighers, 2), []);
  assert.deepEqual(memo.best(makeSpec({ ignore_hosts: ['big'] }), hosts, filters, weighers, 2)?.map((h) => h.host), ['small']);
});
