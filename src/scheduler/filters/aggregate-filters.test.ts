import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeHost, makeSpec } from '../testing.js';
import { makeFilters } from './index.js';
import { runFilterCases } from './filter-cases.js';
import { rankHosts } from '../select.js';
import { explain } from '../no-valid-host.js';

const specs = (extra_specs: Record<string, string>) => makeSpec({ flavor: { extra_specs } });
const AIES = 'AggregateInstanceExtraSpecsFilter';
const AMTI = 'AggregateMultiTenancyIsolation';

runFilterCases([
  { filter: AIES, name: 'flavor without the scope: not relevant', host: makeHost().build(), spec: specs({ 'hw:cpu_policy': 'dedicated', ssd: 'true' }), pass: true, relevant: false },
  { filter: AIES, name: 'matching aggregate', host: makeHost().aggregate('fast', { ssd: 'true' }).build(), spec: specs({ 'aggregate_instance_extra_specs:ssd': 'true' }), pass: true, relevant: true },
  {
    filter: AIES,
    name: 'no aggregate at all',
    host: makeHost().named('h1').build(),
    spec: specs({ 'aggregate_instance_extra_specs:ssd': 'true' }),
    pass: false,
    reason: 'h1: is in no aggregate, so nothing sets ssd (flavor extra spec aggregate_instance_extra_specs:ssd)',
    summary: "are in no aggregate whose metadata ssd matches the flavor's 'true' (AggregateInstanceExtraSpecsFilter)",
  },
  {
    filter: AIES,
    name: 'aggregates without the key',
    host: makeHost().named('h1').aggregate('a1', { other: 'x' }).aggregate('a2').build(),
    spec: specs({ 'aggregate_instance_extra_specs:ssd': 'true' }),
    pass: false,
    reason: /h1: none of its aggregates \(a1, a2\) sets ssd/,
  },
  {
    filter: AIES,
    name: 'value differs',
    host: makeHost().named('h1').aggregate('slow', { ssd: 'false' }).build(),
    spec: specs({ 'aggregate_instance_extra_specs:ssd': 'true' }),
    pass: false,
    reason: "h1: its aggregates' ssd (false) do not satisfy 'true' (flavor extra spec aggregate_instance_extra_specs:ssd)",
  },
  { filter: AIES, name: 'comma-separated alternatives in metadata', host: makeHost().aggregate('mixed', { gpu: 'k80, v100' }).build(), spec: specs({ 'aggregate_instance_extra_specs:gpu': 'v100' }), pass: true },
  { filter: AIES, name: 'any aggregate of the host may match', host: makeHost().aggregate('a', { tier: 'gold' }).aggregate('b', { tier: 'silver' }).build(), spec: specs({ 'aggregate_instance_extra_specs:tier': 'silver' }), pass: true },
  { filter: AIES, name: 'operators: numeric at least', host: makeHost().aggregate('a', { nics: '4' }).build(), spec: specs({ 'aggregate_instance_extra_specs:nics': '>= 2' }), pass: true },
  { filter: AIES, name: 'operators: <or>', host: makeHost().aggregate('a', { hv: 'qemu' }).build(), spec: specs({ 'aggregate_instance_extra_specs:hv': '<or> kvm <or> qemu' }), pass: true },
  {
    filter: AIES,
    name: 'every scoped key must match',
    host: makeHost().named('h1').aggregate('a', { ssd: 'true', nics: '1' }).build(),
    spec: specs({ 'aggregate_instance_extra_specs:ssd': 'true', 'aggregate_instance_extra_specs:nics': '>= 2' }),
    pass: false,
    reason: /nics \(1\) do not satisfy '>= 2'/,
  },
  { filter: AMTI, name: 'host in no aggregate takes every project', host: makeHost().build(), spec: makeSpec({ project_id: 'p1' }), pass: true, relevant: true },
  { filter: AMTI, name: 'aggregate without filter_tenant_id', host: makeHost().aggregate('a', { ssd: 'true' }).build(), spec: makeSpec({ project_id: 'p1' }), pass: true },
  { filter: AMTI, name: 'listed project', host: makeHost().aggregate('iso', { filter_tenant_id: 'p0, p1' }).build(), spec: makeSpec({ project_id: 'p1' }), pass: true },
  {
    filter: AMTI,
    name: 'other project',
    host: makeHost().named('h1').aggregate('iso', { filter_tenant_id: 'p2,p3' }).build(),
    spec: makeSpec({ project_id: 'p1' }),
    pass: false,
    reason: "h1: its aggregate(s) 'iso' take only project(s) p2, p3 (filter_tenant_id), not project p1",
    summary: 'are in aggregates reserved for other projects by filter_tenant_id (AggregateMultiTenancyIsolation)',
  },
  { filter: AMTI, name: 'suffixed keys add up', host: makeHost().aggregate('iso', { filter_tenant_id: 'p2', filter_tenant_id2: 'p1' }).build(), spec: makeSpec({ project_id: 'p1' }), pass: true },
  { filter: AMTI, name: 'lists of several aggregates add up', host: makeHost().aggregate('a', { filter_tenant_id: 'p2' }).aggregate('b', { filter_tenant_id: 'p1' }).build(), spec: makeSpec({ project_id: 'p1' }), pass: true },
  {
    filter: AMTI,
    name: 'an unrestricted aggregate does not lift the restriction of another',
    host: makeHost().named('h1').aggregate('open').aggregate('iso', { filter_tenant_id: 'p2' }).build(),
    spec: makeSpec({ project_id: 'p1' }),
    pass: false,
    reason: /'iso' take only project\(s\) p2/,
  },
]);

test('aggregate extra specs through rankHosts: only hosts of the matching aggregate; explained without host names', () => {
  const fast = { id: 1, name: 'fast', metadata: { ssd: 'true' } };
  const hosts = ['h1', 'h2', 'h3', 'h4'].map((n, i) => {
    const h = makeHost().named(n).build();
    if (i < 2) h.aggregates = [fast]; // the cache shares one aggregate object between its hosts
    return h;
  });
  const filters = makeFilters(['ComputeFilter', 'AggregateInstanceExtraSpecsFilter', 'AggregateMultiTenancyIsolation']);
  const s = makeSpec({ flavor: { extra_specs: { 'aggregate_instance_extra_specs:ssd': 'true' } } });
  assert.deepEqual(rankHosts(hosts, s, filters, []).ranked.map((h) => h.host).sort(), ['h1', 'h2']);
  const none = makeSpec({ flavor: { extra_specs: { 'aggregate_instance_extra_specs:ssd': 'false' } } });
  const { message } = explain(rankHosts(hosts, none, filters, []), none, 4);
  assert.equal(message, "No valid host was found. 4 of 4 hosts are in no aggregate whose metadata ssd matches the flavor's 'false' (AggregateInstanceExtraSpecsFilter).");
});

test('multi-tenancy isolation through rankHosts: an isolated aggregate keeps other projects out', () => {
  const hosts = [makeHost().named('h1').aggregate('iso', { filter_tenant_id: 'p2' }).build(), makeHost().named('h2').build()];
  const filters = makeFilters(['AggregateMultiTenancyIsolation']);
  assert.deepEqual(rankHosts(hosts, makeSpec({ project_id: 'p1' }), filters, []).ranked.map((h) => h.host), ['h2']);
  assert.deepEqual(rankHosts(hosts, makeSpec({ project_id: 'p2' }), filters, []).ranked.map((h) => h.host).sort(), ['h1', 'h2']);
  const only = [hosts[0]];
  const s = makeSpec({ project_id: 'p1' });
  assert.equal(explain(rankHosts(only, s, filters, []), s, 1).message, 'No valid host was found. The only host is in aggregates reserved for other projects by filter_tenant_id (AggregateMultiTenancyIsolation).');
});
