import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeHost, makeSpec } from '../testing.js';
import { makeFilters, FILTERS } from './index.js';
import type { HostState } from '../host-state.js';
import type { RequestSpec } from '../rpcapi.js';

interface Case {
  filter: string;
  name: string;
  host: HostState;
  spec: RequestSpec;
  pass: boolean;
  reason?: RegExp;
}

const cases: Case[] = [
  { filter: 'ComputeFilter', name: 'enabled and heartbeating', host: makeHost().build(), spec: makeSpec(), pass: true },
  {
    filter: 'ComputeFilter',
    name: 'disabled with reason',
    host: makeHost().named('h1').service({ disabled: true, disabled_reason: 'maintenance' }).build(),
    spec: makeSpec(),
    pass: false,
    reason: /h1: compute service is disabled \(maintenance\)/,
  },
  { filter: 'ComputeFilter', name: 'forced down', host: makeHost().service({ forced_down: true }).build(), spec: makeSpec(), pass: false, reason: /forced down/ },
  {
    filter: 'ComputeFilter',
    name: 'stale heartbeat',
    host: makeHost().service({ last_seen_up: Date.now() - 120_000 }).build(),
    spec: makeSpec(),
    pass: false,
    reason: /down: last heartbeat 120 s ago/,
  },
  { filter: 'ComputeFilter', name: 'no service row', host: makeHost().service({ exists: false }).build(), spec: makeSpec(), pass: false, reason: /no nova-compute service/ },
  { filter: 'AvailabilityZoneFilter', name: 'no zone requested', host: makeHost().zone('az1').build(), spec: makeSpec(), pass: true },
  { filter: 'AvailabilityZoneFilter', name: 'same zone', host: makeHost().zone('az1').build(), spec: makeSpec({ availability_zone: 'az1' }), pass: true },
  {
    filter: 'AvailabilityZoneFilter',
    name: 'default zone is nova',
    host: makeHost().build(),
    spec: makeSpec({ availability_zone: 'az1' }),
    pass: false,
    reason: /in availability zone 'nova', not the requested 'az1'/,
  },
  { filter: 'ResourceFilter', name: 'fits exactly', host: makeHost().memory(1024).build(), spec: makeSpec({ flavor: { memory_mb: 1024 } }), pass: true },
  {
    filter: 'ResourceFilter',
    name: 'memory short',
    host: makeHost().named('h2').memory(4096).used({ memory_mb: 2048 }).build(),
    spec: makeSpec({ flavor: { memory_mb: 4096 } }),
    pass: false,
    reason: /h2: not enough memory: needs 4096 MB, free 2048 MB/,
  },
  {
    filter: 'ResourceFilter',
    name: 'reserved memory counts',
    host: makeHost().memory(4096).reserved({ memory_mb: 512 }).build(),
    spec: makeSpec({ flavor: { memory_mb: 4096 } }),
    pass: false,
    reason: /free 3584 MB/,
  },
  {
    filter: 'ResourceFilter',
    name: 'cpu overcommit ratio allows more vCPUs than cores',
    host: makeHost().total({ vcpus: 2 }).ratio({ vcpus: 4 }).used({ vcpus: 6 }).build(),
    spec: makeSpec({ flavor: { vcpus: 2 } }),
    pass: true,
  },
  {
    filter: 'ResourceFilter',
    name: 'vcpus exhausted',
    host: makeHost().total({ vcpus: 2 }).used({ vcpus: 2 }).build(),
    spec: makeSpec({ flavor: { vcpus: 1 } }),
    pass: false,
    reason: /not enough vCPUs: needs 1 vCPU, free 0 vCPU/,
  },
  {
    filter: 'ResourceFilter',
    name: 'disk counts root + ephemeral + swap',
    host: makeHost().total({ disk_gb: 10 }).build(),
    spec: makeSpec({ flavor: { root_gb: 8, ephemeral_gb: 2, swap: 512 } }),
    pass: false,
    reason: /not enough disk: needs 11 GB, free 10 GB/,
  },
];

for (const c of cases)
  test(`${c.filter}: ${c.name}`, () => {
    const [f] = makeFilters([c.filter]);
    const r = f.filter(c.host, c.spec);
    assert.equal(r.pass, c.pass, JSON.stringify(r));
    if (!r.pass && c.reason) assert.match(r.reason, c.reason);
  });

test('makeFilters rejects unknown names and lists the known ones', () => {
  assert.throws(() => makeFilters(['NopeFilter']), (e: Error) => e.message.includes('NopeFilter') && Object.keys(FILTERS).every((n) => e.message.includes(n)));
});

test("ComputeFilter follows the deployment's service_down_time: a heartbeat 15 s old is up at 60 s, down at 10 s", () => {
  const host = makeHost().named('h1').service({ last_seen_up: Date.now() - 15_000 }).build();
  const [byDefault] = makeFilters(['ComputeFilter']);
  assert.equal(byDefault.filter(host, makeSpec()).pass, true);
  const [short] = makeFilters(['ComputeFilter'], { maxInstancesPerHost: 50, maxIoOpsPerHost: 8, serviceDownTimeSec: 10 });
  const r = short.filter(host, makeSpec());
  assert.equal(r.pass, false);
  assert.match(r.pass ? '' : r.reason, /h1: compute service is down: last heartbeat 15 s ago \(down after 10 s\)/);
});
