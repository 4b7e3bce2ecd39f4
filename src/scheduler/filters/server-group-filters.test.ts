import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeHost, makeSpec } from '../testing.js';
import { makeFilters } from './index.js';
import { runFilterCases } from './filter-cases.js';
import { rankHosts } from '../select.js';
import { explain } from '../no-valid-host.js';
import type { ServerGroupPolicy, ServerGroupSpec } from '../rpcapi.js';

const G = '6f1e2d3c-0000-4000-8000-000000000001';
const group = (policy: ServerGroupPolicy, members: string[], max: number | null = null): ServerGroupSpec => ({ uuid: G, policy, max_server_per_host: max, members });
/** A request for `me` in the group, whose other members are `others`. */
const spec = (policy: ServerGroupPolicy, others: string[], max: number | null = null, me = ['new-1']) =>
  makeSpec({ instance_uuids: me, group: group(policy, [...others, ...me], max) });

runFilterCases([
  { filter: 'ServerGroupAntiAffinityFilter', name: 'no group: not relevant, passes', host: makeHost().consumers('a').build(), spec: makeSpec(), pass: true, relevant: false },
  { filter: 'ServerGroupAntiAffinityFilter', name: 'soft policy: not relevant', host: makeHost().consumers('a').build(), spec: spec('soft-anti-affinity', ['a']), pass: true, relevant: false },
  { filter: 'ServerGroupAntiAffinityFilter', name: 'host without members', host: makeHost().consumers('x', 'y').build(), spec: spec('anti-affinity', ['a', 'b']), pass: true, relevant: true },
  {
    filter: 'ServerGroupAntiAffinityFilter',
    name: 'host with a member, default max 1',
    host: makeHost().named('h3').consumers('x', 'a').build(),
    spec: spec('anti-affinity', ['a', 'b']),
    pass: false,
    reason: `h3: already holds 1 member(s) of server group ${G}, max_server_per_host 1`,
    summary: `already hold a member of anti-affinity server group ${G} (ServerGroupAntiAffinityFilter)`,
  },
  { filter: 'ServerGroupAntiAffinityFilter', name: 'max_server_per_host 2 with one member', host: makeHost().consumers('a').build(), spec: spec('anti-affinity', ['a', 'b'], 2), pass: true },
  {
    filter: 'ServerGroupAntiAffinityFilter',
    name: 'max_server_per_host 2 reached (more consumers than members)',
    host: makeHost().named('h1').consumers('a', 'b', 'x', 'y', 'z', 'w').build(),
    spec: spec('anti-affinity', ['a', 'b', 'c'], 2),
    pass: false,
    reason: `h1: already holds 2 member(s) of server group ${G}, max_server_per_host 2`,
    summary: `already hold 2 members of anti-affinity server group ${G}, its max_server_per_host (ServerGroupAntiAffinityFilter)`,
  },
  {
    filter: 'ServerGroupAntiAffinityFilter',
    name: 'counts exactly when members outnumber consumers',
    host: makeHost().named('h1').consumers('m3', 'm7').build(),
    spec: spec('anti-affinity', Array.from({ length: 20 }, (_, i) => `m${i}`), 1),
    pass: false,
    reason: /already holds 2 member\(s\)/,
  },
  { filter: 'ServerGroupAntiAffinityFilter', name: 'the instance being moved may stay on its host', host: makeHost().consumers('new-1').build(), spec: spec('anti-affinity', ['a']), pass: true },
  { filter: 'ServerGroupAffinityFilter', name: 'no group: not relevant', host: makeHost().build(), spec: makeSpec(), pass: true, relevant: false },
  { filter: 'ServerGroupAffinityFilter', name: 'anti-affinity group: not relevant', host: makeHost().build(), spec: spec('anti-affinity', ['a']), pass: true, relevant: false },
  { filter: 'ServerGroupAffinityFilter', name: 'first member may go anywhere', host: makeHost().consumers('x').build(), spec: spec('affinity', []), pass: true, relevant: true },
  { filter: 'ServerGroupAffinityFilter', name: 'host holding a member passes', host: makeHost().consumers('x', 'b').build(), spec: spec('affinity', ['a', 'b']), pass: true },
  {
    filter: 'ServerGroupAffinityFilter',
    name: 'host holding no member is rejected once members are placed',
    host: makeHost().named('h2').consumers('x').build(),
    spec: spec('affinity', ['a', 'b']),
    pass: false,
    reason: `h2: holds none of the 2 placed member(s) of affinity server group ${G}`,
    summary: `do not hold the members of affinity server group ${G} (ServerGroupAffinityFilter)`,
  },
]);

test('anti-affinity through rankHosts and explain: every host holds a member', () => {
  const hosts = ['h1', 'h2', 'h3'].map((n, i) => makeHost().named(n).consumers(`m${i}`).build());
  const s = spec('anti-affinity', ['m0', 'm1', 'm2']);
  const filters = makeFilters(['ComputeFilter', 'ResourceFilter', 'ServerGroupAntiAffinityFilter', 'ServerGroupAffinityFilter']);
  const r = rankHosts(hosts, s, filters, []);
  assert.equal(r.ranked.length, 0);
  const { message, hosts: per } = explain(r, s, 3);
  assert.equal(message, `No valid host was found. 3 of 3 hosts already hold a member of anti-affinity server group ${G} (ServerGroupAntiAffinityFilter).`);
  assert.equal(per.h2, `h2: already holds 1 member(s) of server group ${G}, max_server_per_host 1`);
  assert.ok(!message.includes('h1') && !message.includes('h2'));
});

test('anti-affinity through rankHosts: only the host without a member remains, mixed with other reasons', () => {
  const hosts = [
    makeHost().named('h1').consumers('m0').build(),
    makeHost().named('h2').build(),
    makeHost().named('h3').service({ disabled: true }).build(),
  ];
  const s = spec('anti-affinity', ['m0']);
  const filters = makeFilters(['ComputeFilter', 'ServerGroupAntiAffinityFilter']);
  assert.deepEqual(rankHosts(hosts, s, filters, []).ranked.map((h) => h.host), ['h2']);
  const full = [...hosts.slice(0, 1), makeHost().named('h2').consumers('m1').build(), hosts[2]];
  const s2 = spec('anti-affinity', ['m0', 'm1']);
  const { message } = explain(rankHosts(full, s2, filters, []), s2, 3);
  assert.match(message, new RegExp(`2 of 3 hosts already hold a member of anti-affinity server group ${G} \\(ServerGroupAntiAffinityFilter\\)\\.`));
  assert.match(message, /1 of 3 hosts has its compute service disabled or down\./);
});

test('affinity through rankHosts: only the host of the placed members', () => {
  const hosts = [makeHost().named('h1').build(), makeHost().named('h2').consumers('m0').build(), makeHost().named('h3').build()];
  const s = spec('affinity', ['m0']);
  const r = rankHosts(hosts, s, makeFilters(['ServerGroupAffinityFilter']), []);
  assert.deepEqual(r.ranked.map((h) => h.host), ['h2']);
  assert.ok(explain(r, s, 3).message.includes(`2 of 3 hosts do not hold the members of affinity server group ${G} (ServerGroupAffinityFilter).`));
});
