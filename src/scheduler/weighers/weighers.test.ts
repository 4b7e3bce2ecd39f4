import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeHost, makeSpec } from '../testing.js';
import type { HostState } from '../host-state.js';
import type { ServerGroupPolicy, ServerGroupSpec } from '../rpcapi.js';
import { makeWeighers, weighHosts, WEIGHERS, activeWeighers } from './index.js';

const host = (name: string, over: Partial<HostState> = {}): HostState => ({ ...makeHost().named(name).build(), ...over });
const group = (policy: ServerGroupPolicy, members: string[]): ServerGroupSpec => ({ uuid: 'g1', policy, max_server_per_host: null, members });

/** Host names, best first, by total weight (ties by name). */
function order(hosts: HostState[], weighers: Record<string, number>, spec = makeSpec()): string[] {
  const w = weighHosts(hosts, spec, makeWeighers(weighers));
  return hosts
    .map((h, i) => ({ h: h.host, w: w[i] }))
    .sort((a, b) => b.w - a.w || (a.h < b.h ? -1 : 1))
    .map((x) => x.h);
}

test('every weigher of the issue is registered by its Nova name', () => {
  for (const n of ['RAMWeigher', 'CPUWeigher', 'DiskWeigher', 'NumInstancesWeigher', 'ServerGroupSoftAffinityWeigher', 'ServerGroupSoftAntiAffinityWeigher', 'BuildFailureWeigher'])
    assert.equal(WEIGHERS[n]().name, n);
  assert.throws(() => makeWeighers({ NoSuchWeigher: 1 }), /Unknown scheduler weigher 'NoSuchWeigher'/);
  assert.throws(() => makeWeighers({ RAMWeigher: Number.NaN }), /wants a finite number/);
});

const members = ['m1', 'm2', 'm3'];
const hosts = () => [
  host('a', { instances: 1, consumers: new Set(['x1']) }),
  host('b', { instances: 5, consumers: new Set(['m1', 'm2', 'x2', 'x3', 'x4']) }),
  host('c', { instances: 3, consumers: new Set(['m3', 'x5', 'x6']) }),
];

const cases: { name: string; weighers: Record<string, number>; spec?: ReturnType<typeof makeSpec>; hosts: () => HostState[]; want: string[] }[] = [
  { name: 'NumInstancesWeigher, positive multiplier packs onto busy hosts', weighers: { NumInstancesWeigher: 1 }, hosts, want: ['b', 'c', 'a'] },
  { name: 'NumInstancesWeigher, negative multiplier spreads by count', weighers: { NumInstancesWeigher: -1 }, hosts, want: ['a', 'c', 'b'] },
  { name: 'NumInstancesWeigher, multiplier 0 (the default) changes nothing', weighers: { NumInstancesWeigher: 0 }, hosts, want: ['a', 'b', 'c'] },
  {
    name: 'soft-affinity prefers the host with most members',
    weighers: { ServerGroupSoftAffinityWeigher: 1 },
    spec: makeSpec({ group: group('soft-affinity', members) }),
    hosts,
    want: ['b', 'c', 'a'],
  },
  {
    name: 'soft-anti-affinity prefers the host with fewest members',
    weighers: { ServerGroupSoftAntiAffinityWeigher: 1 },
    spec: makeSpec({ group: group('soft-anti-affinity', members) }),
    hosts,
    want: ['a', 'c', 'b'],
  },
  {
    name: 'soft weighers ignore a group of the other policy',
    weighers: { ServerGroupSoftAffinityWeigher: 1, ServerGroupSoftAntiAffinityWeigher: 1 },
    spec: makeSpec({ group: group('anti-affinity', members) }),
    hosts,
    want: ['a', 'b', 'c'],
  },
  {
    name: 'soft-anti-affinity counts members only, not other instances',
    weighers: { ServerGroupSoftAntiAffinityWeigher: 1 },
    spec: makeSpec({ group: group('soft-anti-affinity', ['m3']) }),
    hosts,
    want: ['a', 'b', 'c'],
  },
  {
    name: 'BuildFailureWeigher sinks failing hosts below free resources',
    weighers: { RAMWeigher: 1, BuildFailureWeigher: 1e6 },
    hosts: () => [host('a', { failed_builds: 3 }), host('b', { failed_builds: 1, used: { vcpus: 0, memory_mb: 8000, disk_gb: 0 } }), host('c', { failed_builds: 0, used: { vcpus: 0, memory_mb: 16000, disk_gb: 0 } })],
    want: ['c', 'b', 'a'],
  },
  {
    name: 'BuildFailureWeigher with no failures leaves the resource order',
    weighers: { RAMWeigher: 1, BuildFailureWeigher: 1e6 },
    hosts: () => [host('a', { used: { vcpus: 0, memory_mb: 8000, disk_gb: 0 } }), host('b'), host('c', { used: { vcpus: 0, memory_mb: 4000, disk_gb: 0 } })],
    want: ['b', 'c', 'a'],
  },
  {
    name: 'CPUWeigher and DiskWeigher prefer free vCPUs and disk',
    weighers: { CPUWeigher: 1, DiskWeigher: 2 },
    hosts: () => [host('a', { used: { vcpus: 4, memory_mb: 0, disk_gb: 0 } }), host('b', { used: { vcpus: 0, memory_mb: 0, disk_gb: 50 } }), host('c')],
    want: ['c', 'a', 'b'],
  },
];

for (const c of cases)
  test(`weighers: ${c.name}`, () => {
    assert.deepEqual(order(c.hosts(), c.weighers, c.spec), c.want);
  });

test('soft group weighers are relevant only for their own policy; zero multipliers are skipped', () => {
  const all = makeWeighers({ ServerGroupSoftAffinityWeigher: 1, ServerGroupSoftAntiAffinityWeigher: 1, NumInstancesWeigher: 0, BuildFailureWeigher: 1e6 });
  const names = (spec: ReturnType<typeof makeSpec>) => activeWeighers(all, spec).map((w) => w.weigher.name);
  assert.deepEqual(names(makeSpec()), ['BuildFailureWeigher']);
  assert.deepEqual(names(makeSpec({ group: group('soft-affinity', []) })), ['ServerGroupSoftAffinityWeigher', 'BuildFailureWeigher']);
  assert.deepEqual(names(makeSpec({ group: group('soft-anti-affinity', []) })), ['ServerGroupSoftAntiAffinityWeigher', 'BuildFailureWeigher']);
  assert.deepEqual(names(makeSpec({ group: group('affinity', []) })), ['BuildFailureWeigher']);
});

test('weights are normalised per weigher to [0, multiplier]', () => {
  const hs = [host('a', { instances: 0 }), host('b', { instances: 5 }), host('c', { instances: 10 })];
  assert.deepEqual([...weighHosts(hs, makeSpec(), makeWeighers({ NumInstancesWeigher: 2 }))], [0, 1, 2]);
});

test('RAM, CPU and Disk weights are the free amounts of host-state.ts (ratios and reserved counted)', async () => {
  const { free } = await import('../host-state.js');
  const h = host('a', {
    total: { vcpus: 10, memory_mb: 9000, disk_gb: 77 },
    reserved: { vcpus: 1, memory_mb: 512, disk_gb: 3 },
    ratio: { vcpus: 4, memory_mb: 1.5, disk_gb: 1.1 },
    used: { vcpus: 7, memory_mb: 1000, disk_gb: 20 },
  });
  const spec = makeSpec();
  assert.equal(WEIGHERS.RAMWeigher().weigh(h, spec), free(h, 'memory_mb'));
  assert.equal(WEIGHERS.CPUWeigher().weigh(h, spec), free(h, 'vcpus'));
  assert.equal(WEIGHERS.DiskWeigher().weigh(h, spec), free(h, 'disk_gb'));
  assert.equal(WEIGHERS.CPUWeigher().weigh(h, spec), 29);
});
