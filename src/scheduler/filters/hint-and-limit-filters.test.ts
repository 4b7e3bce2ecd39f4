import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeHost, makeSpec } from '../testing.js';
import { makeFilters } from './index.js';
import { runFilterCases } from './filter-cases.js';
import { rankHosts } from '../select.js';
import { explain } from '../no-valid-host.js';

const hints = (h: Record<string, unknown>) => makeSpec({ scheduler_hints: h });
const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

runFilterCases([
  { filter: 'SameHostFilter', name: 'no hint: not relevant', host: makeHost().build(), spec: makeSpec(), pass: true, relevant: false },
  { filter: 'SameHostFilter', name: 'host holds the instance (one uuid)', host: makeHost().consumers(A).build(), spec: hints({ same_host: A }), pass: true, relevant: true },
  { filter: 'SameHostFilter', name: 'host holds one of a list', host: makeHost().consumers('x', B).build(), spec: hints({ same_host: [A, B] }), pass: true },
  {
    filter: 'SameHostFilter',
    name: 'host holds none',
    host: makeHost().named('h1').consumers('x').build(),
    spec: hints({ same_host: [A, B] }),
    pass: false,
    reason: `h1: holds none of the 2 instance(s) of the same_host hint (${A}, ${B})`,
    summary: 'do not hold an instance named in the same_host hint (SameHostFilter)',
  },
  { filter: 'DifferentHostFilter', name: 'no hint: not relevant', host: makeHost().build(), spec: makeSpec(), pass: true, relevant: false },
  { filter: 'DifferentHostFilter', name: 'host holds none', host: makeHost().consumers('x').build(), spec: hints({ different_host: [A, B] }), pass: true, relevant: true },
  {
    filter: 'DifferentHostFilter',
    name: 'host holds one (more consumers than hinted)',
    host: makeHost().named('h1').consumers('x', 'y', 'z', B).build(),
    spec: hints({ different_host: [A, B] }),
    pass: false,
    reason: `h1: holds instance ${B} named in the different_host hint (2 instance(s))`,
    summary: 'hold an instance named in the different_host hint (DifferentHostFilter)',
  },
  { filter: 'DifferentHostFilter', name: 'single uuid hint', host: makeHost().named('h1').consumers(A).build(), spec: hints({ different_host: A }), pass: false, reason: /holds instance 1111/ },
  { filter: 'NumInstancesFilter', name: 'below the limit', host: makeHost().instances(49).build(), spec: makeSpec(), pass: true },
  {
    filter: 'NumInstancesFilter',
    name: 'at the limit',
    host: makeHost().named('h1').instances(50).build(),
    spec: makeSpec(),
    pass: false,
    reason: 'h1: has 50 instances, max_instances_per_host 50',
    summary: 'already have the most instances allowed per host, 50 (NumInstancesFilter)',
  },
  { filter: 'NumInstancesFilter', name: 'configured limit', host: makeHost().instances(3).build(), spec: makeSpec(), pass: false, config: { maxInstancesPerHost: 3, maxIoOpsPerHost: 8 }, reason: /max_instances_per_host 3/ },
  { filter: 'IoOpsFilter', name: 'below the limit', host: makeHost().ioOps(7).build(), spec: makeSpec(), pass: true },
  {
    filter: 'IoOpsFilter',
    name: 'at the limit',
    host: makeHost().named('h1').ioOps(8).build(),
    spec: makeSpec(),
    pass: false,
    reason: 'h1: has 8 instances building, resizing or snapshotting, max_io_ops_per_host 8',
    summary: 'are busy with the most concurrent I/O operations allowed per host, 8 (IoOpsFilter)',
  },
  { filter: 'IoOpsFilter', name: 'configured limit', host: makeHost().ioOps(2).build(), spec: makeSpec(), pass: false, config: { maxInstancesPerHost: 50, maxIoOpsPerHost: 2 }, reason: /max_io_ops_per_host 2/ },
]);

test('same_host and different_host through rankHosts', () => {
  const hosts = [makeHost().named('h1').consumers(A).build(), makeHost().named('h2').consumers(B).build(), makeHost().named('h3').build()];
  const filters = makeFilters(['SameHostFilter', 'DifferentHostFilter']);
  assert.deepEqual(rankHosts(hosts, hints({ same_host: A }), filters, []).ranked.map((h) => h.host), ['h1']);
  assert.deepEqual(rankHosts(hosts, hints({ different_host: [A, B] }), filters, []).ranked.map((h) => h.host), ['h3']);
  const s = hints({ same_host: A, different_host: A });
  assert.equal(
    explain(rankHosts(hosts, s, filters, []), s, 3).message,
    'No valid host was found. 2 of 3 hosts do not hold an instance named in the same_host hint (SameHostFilter). 1 of 3 hosts holds an instance named in the different_host hint (DifferentHostFilter).',
  );
});
