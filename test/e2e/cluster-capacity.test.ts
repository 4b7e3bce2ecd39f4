/**
 * Issue 8: "Two API processes and two schedulers at once never place more than a host can hold",
 * on a real multi-process cluster (src/cluster startCluster: private PostgreSQL and RabbitMQ,
 * --apis 2 --schedulers 2, 2 compute processes on the fake driver with a small memory). Servers
 * are booted concurrently through both APIs (half each); afterwards os-hypervisors and placement
 * show no host above its capacity, exactly the capacity is ACTIVE and the rest is ERROR with
 * NoValidHost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresBinDir } from '../../src/cluster/postgres.js';
import { rabbitMqServerBin } from '../../src/cluster/rabbitmq.js';
import { startTestCluster, until, type ServerView } from '../helpers/cluster.js';

const skip = !postgresBinDir() ? 'PostgreSQL is not installed (Debian package postgresql)' : !rabbitMqServerBin() ? 'RabbitMQ is not installed (Debian package rabbitmq-server)' : false;

/** m1.tiny (512 MB) servers each host holds: memory_mb = reserved 512 + PER_HOST x 512, RAM ratio 1. */
const PER_HOST = 4;
const HOSTS = 2;
const SERVERS = 24;

const note = (what: string, ms: number) => process.stderr.write(`# ${what}: ${(ms / 1000).toFixed(1)} s\n`);

test('two APIs and two schedulers booting 24 servers at once on 2 hosts holding 4 each: 8 ACTIVE, none over capacity, the rest ERROR with NoValidHost', { skip, timeout: 150_000 }, async (t) => {
  const c = await startTestCluster({
    computes: HOSTS,
    apis: 2,
    schedulers: 2,
    settings: { NOVA_TS_FAKE_MEMORY_MB: 512 + PER_HOST * 512, NOVA_TS_COMPUTE_BUILD_TIMEOUT: 60, NOVA_TS_FAKE_DELAYS: 'spawn=200' },
  });
  t.after(() => c.stop());
  note('cluster started', c.startMs);
  assert.equal(c.apis.length, 2);
  const [a, b] = c.apis;
  await a.unlimitedQuota();
  const [imageRef, flavorRef, net] = await Promise.all([a.imageId('tiny-linux'), a.flavorId('m1.tiny'), a.networkId('private')]);

  // Every POST at once, alternating between the two API processes.
  const t0 = Date.now();
  const posts = await Promise.all(
    Array.from({ length: SERVERS }, (_, i) =>
      (i % 2 ? b : a).request('POST', '/compute/v2.1/servers', { server: { name: `cap-${i}`, imageRef, flavorRef, networks: [{ uuid: net }] } }, {
        'openstack-api-version': 'compute 2.53',
      }),
    ),
  );
  for (const p of posts) assert.equal(p.status, 202, p.text);

  let servers: ServerView[] = [];
  await until('every server leaves BUILD', 90_000, async () => {
    servers = await a.servers();
    return servers.length === SERVERS && servers.every((s) => s.status !== 'BUILD') ? true : undefined;
  }).catch((e: Error) => assert.fail(`${e.message}: ${JSON.stringify(servers.map((s) => s.status))}`));
  note('storm settled', Date.now() - t0);

  const active = servers.filter((s) => s.status === 'ACTIVE');
  const errored = servers.filter((s) => s.status === 'ERROR');
  const perHost = new Map<string, number>();
  for (const s of active) perHost.set(s['OS-EXT-SRV-ATTR:host']!, (perHost.get(s['OS-EXT-SRV-ATTR:host']!) ?? 0) + 1);
  assert.deepEqual(Object.fromEntries([...perHost].sort()), { host1: PER_HOST, host2: PER_HOST }, 'each host is filled exactly to its capacity');
  assert.equal(errored.length, SERVERS - HOSTS * PER_HOST);
  for (const s of errored) assert.match(s.fault?.message ?? '', /^No valid host was found\./, `${s.name}: ${JSON.stringify(s.fault)}`);

  // What the hosts report (os-hypervisors, 2.1 still shows the resources) and what placement holds.
  const hv = await a.compute<{ hypervisors: { hypervisor_hostname: string; memory_mb: number; memory_mb_used: number; running_vms: number }[] }>(
    'GET', '/os-hypervisors/detail', undefined, '2.1',
  );
  assert.equal(hv.hypervisors.length, HOSTS);
  for (const h of hv.hypervisors) {
    assert.ok(h.memory_mb_used <= h.memory_mb, `${h.hypervisor_hostname}: ${h.memory_mb_used} of ${h.memory_mb} MB used`);
    assert.equal(h.running_vms, PER_HOST, `${h.hypervisor_hostname} runs ${h.running_vms}`);
  }
  const rps = await a.ok<{ resource_providers: { uuid: string; name: string }[] }>('GET', '/placement/resource_providers');
  assert.equal(rps.resource_providers.length, HOSTS);
  for (const rp of rps.resource_providers) {
    const inv = await a.ok<{ inventories: Record<string, { total: number; reserved: number; allocation_ratio: number }> }>('GET', `/placement/resource_providers/${rp.uuid}/inventories`);
    const use = await a.ok<{ usages: Record<string, number> }>('GET', `/placement/resource_providers/${rp.uuid}/usages`);
    for (const [rc, i] of Object.entries(inv.inventories)) {
      const cap = (i.total - i.reserved) * i.allocation_ratio;
      assert.ok((use.usages[rc] ?? 0) <= cap, `${rp.name} ${rc}: ${use.usages[rc]} used of ${cap}`);
    }
    assert.equal(use.usages.MEMORY_MB, PER_HOST * 512, `${rp.name} holds ${PER_HOST} servers' memory`);
  }
  const s0 = Date.now();
  await c.stop();
  note('cluster stopped', Date.now() - s0);
});
