import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeHost, makeSpec } from './testing.js';
import { makeFilters } from './filters/index.js';
import { makeWeighers } from './weighers/index.js';
import { pickIndex, rankHosts, topK } from './select.js';
import { explain } from './no-valid-host.js';
import type { HostState } from './host-state.js';
import type { HostFilter } from './filters/index.js';

const filters = makeFilters(['ComputeFilter', 'AvailabilityZoneFilter', 'ResourceFilter']);

test('RAMWeigher ranks the host with most free memory first; a negative multiplier stacks', () => {
  const hosts = [makeHost().named('a').used({ memory_mb: 8000 }).build(), makeHost().named('b').build(), makeHost().named('c').used({ memory_mb: 4000 }).build()];
  const spread = rankHosts(hosts, makeSpec(), filters, makeWeighers({ RAMWeigher: 1 }));
  assert.deepEqual(spread.ranked.map((h) => h.host), ['b', 'c', 'a']);
  const stack = rankHosts(hosts, makeSpec(), filters, makeWeighers({ RAMWeigher: -1 }));
  assert.deepEqual(stack.ranked.map((h) => h.host), ['a', 'c', 'b']);
});

test('weighers combine by multiplier after normalisation', () => {
  const hosts = [
    makeHost().named('ram-rich').used({ vcpus: 7 }).build(),
    makeHost().named('cpu-rich').used({ memory_mb: 1000 }).build(),
  ];
  const r = rankHosts(hosts, makeSpec(), filters, makeWeighers({ RAMWeigher: 1, CPUWeigher: 3 }));
  assert.equal(r.ranked[0].host, 'cpu-rich');
});

test('requested host and ignore_hosts narrow the candidates', () => {
  const hosts = ['a', 'b', 'c'].map((n) => makeHost().named(n).build());
  assert.deepEqual(rankHosts(hosts, makeSpec({ requested_host: 'b' }), filters, []).ranked.map((h) => h.host), ['b']);
  const r = rankHosts(hosts, makeSpec({ ignore_hosts: ['a', 'c'] }), filters, []);
  assert.deepEqual(r.ranked.map((h) => h.host), ['b']);
  assert.equal(r.excluded.length, 2);
});

test('NoValidHost message counts hosts per reason with numbers', () => {
  const hosts = ['a', 'b', 'c'].map((n, i) => makeHost().named(n).memory(4096).used({ memory_mb: 2048 + i * 512 }).build());
  const spec = makeSpec({ flavor: { memory_mb: 4096 } });
  const r = rankHosts(hosts, spec, filters, []);
  const { message, hosts: per } = explain(r, spec, 3);
  assert.equal(message, 'No valid host was found. 3 of 3 hosts lack memory: needs 4096 MB, most free 2048 MB.');
  assert.match(per.a, /a: not enough memory: needs 4096 MB, free 2048 MB/);
});

test('NoValidHost message mixes reasons and covers unknown requested hosts and empty clouds', () => {
  const hosts = [makeHost().named('a').service({ disabled: true }).build(), makeHost().named('b').zone('az2').build(), makeHost().named('c').memory(256).build()];
  const spec = makeSpec({ availability_zone: 'nova', flavor: { memory_mb: 512 } });
  const { message } = explain(rankHosts(hosts, spec, filters, []), spec, 3);
  assert.match(message, /1 of 3 hosts has its compute service disabled or down\./);
  assert.match(message, /1 of 3 hosts is not in availability zone 'nova'\./);
  assert.match(message, /1 of 3 hosts lacks memory: needs 512 MB, free 256 MB\./);
  const req = makeSpec({ requested_host: 'zz' });
  assert.match(explain(rankHosts(hosts, req, filters, []), req, 3).message, /requested host 'zz' is not a known compute host/);
  assert.equal(explain(rankHosts([], makeSpec(), filters, []), makeSpec(), 0).message, 'No valid host was found. There are no compute hosts.');
});

test('pickIndex stays within the subset', () => {
  for (const rnd of [0, 0.5, 0.999]) {
    assert.equal(pickIndex(10, 1, () => rnd), 0);
    assert.ok(pickIndex(10, 3, () => rnd) < 3);
    assert.ok(pickIndex(2, 5, () => rnd) < 2);
  }
});

/** A deterministic pseudo-random source (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hosts with random usage on few distinct levels, so that weights often tie. */
function randomHosts(n: number, rnd: () => number): HostState[] {
  return Array.from({ length: n }, (_, i) => {
    const h = makeHost()
      .named(`h${String(Math.floor(rnd() * n)).padStart(3, '0')}`)
      .used({ vcpus: Math.floor(rnd() * 4), memory_mb: Math.floor(rnd() * 4) * 4096, disk_gb: Math.floor(rnd() * 3) * 30 })
      .zone(rnd() < 0.5 ? 'az1' : 'az2')
      .build();
    h.node = `${h.host}-n${i}`;
    h.instances = Math.floor(rnd() * 5);
    h.failed_builds = rnd() < 0.1 ? 1 : 0;
    return h;
  });
}

test('rankHosts with a limit answers exactly the head of the fully sorted ranking', () => {
  const weighers = makeWeighers({ RAMWeigher: 1, CPUWeigher: 1, DiskWeigher: 1, NumInstancesWeigher: -0.5, BuildFailureWeigher: 1e6 });
  for (let seed = 1; seed <= 40; seed++) {
    const rnd = rng(seed);
    const hosts = randomHosts(5 + Math.floor(rnd() * 80), rnd);
    const spec = makeSpec({ availability_zone: seed % 3 === 0 ? 'az1' : null, flavor: { memory_mb: 2048 } });
    const full = rankHosts(hosts, spec, filters, weighers);
    assert.equal(full.passed, full.ranked.length);
    for (const k of [1, 2, 3, 7, 40, 1000]) {
      const top = rankHosts(hosts, spec, filters, weighers, k);
      assert.deepEqual(
        top.ranked.map((h) => h.node_uuid),
        full.ranked.slice(0, k).map((h) => h.node_uuid),
        `seed ${seed}, k ${k}`,
      );
      assert.equal(top.passed, full.passed);
      assert.equal(top.rejections.length, full.rejections.length);
    }
  }
});

test('topK breaks weight ties by host name, then node, whatever the input order', () => {
  const hosts = ['c', 'a', 'b', 'a'].map((n, i) => {
    const h = makeHost().named(n).build();
    h.node = `${n}${3 - i}`;
    return h;
  });
  const w = [1, 1, 2, 1];
  assert.deepEqual(topK(hosts, w, 4).map((i) => hosts[i].node), ['b1', 'a0', 'a2', 'c3']);
  assert.deepEqual(topK(hosts, w, 2).map((i) => hosts[i].node), ['b1', 'a0']);
  assert.deepEqual(topK(hosts, w, 0), []);
});

test('filters and weighers that are not relevant are skipped without changing the result', () => {
  let calls = 0;
  const counting = (relevant: boolean): HostFilter => ({
    name: 'GroupOnlyFilter',
    relevant: (spec) => relevant && !!spec.group,
    filter: (h) => {
      calls++;
      return h.host.endsWith('7') ? { pass: false, reason: `${h.host}: odd`, summary: 'are odd' } : { pass: true };
    },
  });
  const rnd = rng(7);
  const hosts = randomHosts(60, rnd);
  const weighers = makeWeighers({ RAMWeigher: 1, ServerGroupSoftAffinityWeigher: 5, ServerGroupSoftAntiAffinityWeigher: 5, NumInstancesWeigher: 0 });
  const spec = makeSpec();
  const skipped = rankHosts(hosts, spec, [...filters, counting(true)], weighers);
  assert.equal(calls, 0, 'a filter not relevant to the request is never called');
  const plain = rankHosts(hosts, spec, filters, makeWeighers({ RAMWeigher: 1 }));
  assert.deepEqual(skipped.ranked.map((h) => h.node_uuid), plain.ranked.map((h) => h.node_uuid));
  // With a group the filter runs and the soft weigher of that policy counts: the member's host goes last.
  const g = makeSpec({ group: { uuid: 'g', policy: 'soft-anti-affinity', max_server_per_host: null, members: ['m'] } });
  const withMember = plain.ranked[0];
  withMember.consumers.add('m');
  const grouped = rankHosts(hosts, g, [...filters, counting(true)], weighers);
  assert.ok(calls > 0);
  assert.equal(grouped.ranked.at(-1)?.node_uuid, withMember.node_uuid);
  assert.equal(grouped.rejections.filter((r) => r.filter === 'GroupOnlyFilter').length, hosts.filter((h) => h.host.endsWith('7')).length - skipped.rejections.filter((r) => r.host.endsWith('7')).length);
});
