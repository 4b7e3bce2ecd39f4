import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeHost, makeSpec } from './testing.js';
import { makeFilters } from './filters/index.js';
import { makeWeighers } from './weighers/index.js';
import { pickIndex, rankHosts } from './select.js';
import { explain } from './no-valid-host.js';

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
