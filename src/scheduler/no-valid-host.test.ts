import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeHost, makeSpec } from './testing.js';
import { makeFilters } from './filters/index.js';
import { rankHosts } from './select.js';
import { addClaimLosses, explain, noValidHostError, singular } from './no-valid-host.js';
import type { HostFilter } from './filters/types.js';

const filters = makeFilters(['ComputeFilter', 'AvailabilityZoneFilter', 'ResourceFilter']);

/** A filter that rejects every host with the given summary (stands in for any filter). */
const rejectAll = (name: string, summary: string): HostFilter => ({
  name,
  filter: (h) => ({ pass: false, reason: `${h.host}: rejected by ${name}`, summary }),
});

const names = (...n: string[]) => n.map((x) => makeHost().named(x).build());

test('singular: the summary verb agrees with one host', () => {
  const cases: [string, string][] = [
    ['lack memory', 'lacks memory'],
    ['have their compute service disabled or down', 'has its compute service disabled or down'],
    ["are not in availability zone 'nova'", "is not in availability zone 'nova'"],
    ['already have a member of server group g1 (anti-affinity, ServerGroupAntiAffinityFilter)', 'already has a member of server group g1 (anti-affinity, ServerGroupAntiAffinityFilter)'],
    ["do not match the flavor's extra specs", "does not match the flavor's extra specs"],
    ['cannot run the image', 'cannot run the image'],
    ['match', 'matches'],
    ['carry too many instances', 'carries too many instances'],
    ['belong to another project', 'belongs to another project'],
    ['already hold 2 members of anti-affinity server group g1, its max_server_per_host', 'already holds 2 members of anti-affinity server group g1, its max_server_per_host'],
    ['are busy with the most concurrent I/O operations allowed per host, 8', 'is busy with the most concurrent I/O operations allowed per host, 8'],
    ["have a hypervisor version that does not satisfy the image's img_hv_requested_version", "has a hypervisor version that does not satisfy the image's img_hv_requested_version"],
  ];
  for (const [plural, one] of cases) assert.equal(singular(plural), one, plural);
});

test('one host of many: singular verb and "free" instead of "most free"', () => {
  const hosts = [makeHost().named('a').memory(1024).build(), makeHost().named('b').service({ disabled: true }).build(), makeHost().named('c').zone('az2').build()];
  const spec = makeSpec({ availability_zone: 'nova', flavor: { memory_mb: 2048 } });
  const { message } = explain(rankHosts(hosts, spec, filters, []), spec, 3);
  assert.equal(
    message,
    'No valid host was found. 1 of 3 hosts lacks memory: needs 2048 MB, free 1024 MB. ' +
      "1 of 3 hosts has its compute service disabled or down. 1 of 3 hosts is not in availability zone 'nova'.",
  );
});

test('the only host: "The only host lacks ..."', () => {
  const hosts = [makeHost().named('solo').memory(1024).build()];
  const spec = makeSpec({ flavor: { memory_mb: 2048 } });
  assert.equal(explain(rankHosts(hosts, spec, filters, []), spec, 1).message, 'No valid host was found. The only host lacks memory: needs 2048 MB, free 1024 MB.');
});

test('many hosts: plural verb, most free over the group', () => {
  const hosts = ['a', 'b', 'c'].map((n, i) => makeHost().named(n).memory(4096).used({ memory_mb: 2048 + i * 512 }).build());
  const spec = makeSpec({ flavor: { memory_mb: 4096 } });
  const { message, hosts: per } = explain(rankHosts(hosts, spec, filters, []), spec, 3);
  assert.equal(message, 'No valid host was found. 3 of 3 hosts lack memory: needs 4096 MB, most free 2048 MB.');
  assert.deepEqual(Object.keys(per).sort(), ['a', 'b', 'c']);
  assert.match(per.b, /^b: not enough memory: needs 4096 MB, free 1536 MB/);
});

test('the message never names a host; details.hosts holds one line per host', () => {
  const hosts = names('alpha', 'bravo', 'charlie');
  const spec = makeSpec({ ignore_hosts: ['alpha'] });
  const r = rankHosts(hosts, spec, [rejectAll('ServerGroupAntiAffinityFilter', 'already have a member of server group g1 (anti-affinity, ServerGroupAntiAffinityFilter)')], []);
  const e = noValidHostError(r, spec, 3);
  assert.equal(e.kind, 'NoValidHost');
  assert.equal(
    e.message,
    'No valid host was found. 1 host was already tried for this request. ' +
      '2 of 2 hosts already have a member of server group g1 (anti-affinity, ServerGroupAntiAffinityFilter).',
  );
  for (const n of ['alpha', 'bravo', 'charlie']) assert.ok(!e.message.includes(n), n);
  assert.deepEqual(e.details.hosts, {
    alpha: 'alpha: already tried for this request',
    bravo: 'bravo: rejected by ServerGroupAntiAffinityFilter',
    charlie: 'charlie: rejected by ServerGroupAntiAffinityFilter',
  });
  const two = makeSpec({ ignore_hosts: ['alpha', 'bravo'] });
  assert.match(explain(rankHosts(hosts, two, [], []), two, 3).message, /2 hosts were already tried for this request\./);
});

test('claim losses: counted and kinds named, hosts only in the details', () => {
  const spec = makeSpec({ flavor: { memory_mb: 4096 } });
  const hosts = [makeHost().named('h1').memory(1024).build()];
  const e = addClaimLosses(noValidHostError(rankHosts(hosts, spec, filters, []), spec, 3), [
    { host: 'h2', reason: 'h2: not enough memory: needs 4096 MB, free 0 MB' },
    { host: 'h3', reason: 'h3: not enough memory: needs 4096 MB, free 1024 MB' },
  ]);
  assert.equal(
    e.message,
    'No valid host was found. The only host lacks memory: needs 4096 MB, free 1024 MB. ' +
      '2 hosts passed the filters but were taken by concurrent requests before their claim (not enough memory).',
  );
  assert.equal((e.details.hosts as Record<string, string>).h3, 'h3: not enough memory: needs 4096 MB, free 1024 MB');
  const one = addClaimLosses(noValidHostError(rankHosts([], spec, filters, []), spec, 1), [{ host: 'h9', reason: 'compute node 1234-abcd no longer exists' }]);
  assert.match(one.message, /1 host passed the filters but was taken by concurrent requests before its claim\.$/);
  assert.ok(!one.message.includes('h9') && !one.message.includes('1234-abcd'));
  assert.equal((one.details.hosts as Record<string, string>).h9, 'h9: compute node 1234-abcd no longer exists');
  assert.equal(addClaimLosses(noValidHostError(rankHosts([], spec, filters, []), spec, 0), []).message, 'No valid host was found. There are no compute hosts.');
});
