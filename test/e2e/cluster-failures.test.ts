/**
 * Issue 8's failure checks on a real multi-process cluster (src/cluster startCluster: private
 * PostgreSQL and RabbitMQ, every service a process of its own, fake driver):
 * - the broker restarted during a boot storm: every server ends ACTIVE or ERROR with a fault
 *   saying why, none stays in BUILD (the conductor's build_timeout is short here);
 * - the database stopped and started again during a boot storm: the same, and every service
 *   process survives it.
 * Scheduling with two APIs and two schedulers is in cluster-capacity.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresBinDir } from '../../src/cluster/postgres.js';
import { rabbitMqServerBin } from '../../src/cluster/rabbitmq.js';
import { startTestCluster, until, type ApiClient, type ServerView, type TestCluster } from '../helpers/cluster.js';

const skip = !postgresBinDir() ? 'PostgreSQL is not installed (Debian package postgresql)' : !rabbitMqServerBin() ? 'RabbitMQ is not installed (Debian package rabbitmq-server)' : false;

/** Seconds without progress before the conductor puts a build in ERROR. */
const BUILD_TIMEOUT = 30;
const SETTINGS = {
  NOVA_TS_COMPUTE_BUILD_TIMEOUT: BUILD_TIMEOUT,
  // Each spawn takes a while, so the storm is still going when the failure hits.
  NOVA_TS_FAKE_DELAYS: 'spawn=1500',
};

interface Storm {
  /** Outcome of each POST /servers: the reservation's servers count or the error answer. */
  posts: { status: number; text: string }[];
}

/**
 * Boots `batches` x `perBatch` servers through POST /servers (min_count), one batch every
 * `gapMs`, calling `fail()` after `failAfter` batches; returns every POST's answer.
 */
async function bootStorm(api: ApiClient, o: { batches: number; perBatch: number; gapMs: number; failAfter: number; fail: () => Promise<void> }): Promise<Storm> {
  await api.unlimitedQuota();
  const [imageRef, flavorRef, net] = await Promise.all([api.imageId('tiny-linux'), api.flavorId('m1.tiny'), api.networkId('private')]);
  const posts: Promise<{ status: number; text: string }>[] = [];
  let failure: Promise<void> | null = null;
  for (let i = 0; i < o.batches; i++) {
    if (i === o.failAfter) failure = o.fail();
    posts.push(
      api
        .request('POST', '/compute/v2.1/servers', {
          server: { name: `storm-${i}`, imageRef, flavorRef, networks: [{ uuid: net }], min_count: o.perBatch, max_count: o.perBatch },
        }, { 'openstack-api-version': 'compute 2.53' })
        .then((r) => ({ status: r.status, text: r.text.slice(0, 300) }))
        .catch((e: Error) => ({ status: 0, text: e.message })),
    );
    await new Promise((r) => setTimeout(r, o.gapMs));
  }
  await failure;
  return { posts: await Promise.all(posts) };
}

/** Waits until no server is in BUILD (listing through any API that answers); returns the final list. */
async function settle(apis: ApiClient[], timeoutMs: number): Promise<ServerView[]> {
  let last: ServerView[] = [];
  await until('every server leaves BUILD', timeoutMs, async () => {
    last = await apis[0].servers();
    return last.length > 0 && last.every((s) => s.status !== 'BUILD') ? true : undefined;
  }).catch((e: Error) => assert.fail(`${e.message}; still BUILD: ${summary(last.filter((s) => s.status === 'BUILD'))}`));
  return last;
}

function summary(list: ServerView[]): string {
  const by = new Map<string, number>();
  for (const s of list) by.set(s.status, (by.get(s.status) ?? 0) + 1);
  return JSON.stringify(Object.fromEntries(by));
}

/** The check: ACTIVE or ERROR only; every ERROR has a fault message that says something. */
function assertEveryServerSettled(servers: ServerView[], expected: number): void {
  assert.equal(servers.length, expected, `one server per accepted slot (${summary(servers)})`);
  for (const s of servers) {
    assert.ok(s.status === 'ACTIVE' || s.status === 'ERROR', `${s.name} ${s.id} is ${s.status}`);
    if (s.status === 'ERROR') {
      assert.ok(s.fault && typeof s.fault.message === 'string' && s.fault.message.length > 10, `${s.name} ${s.id} is ERROR with a fault saying why: ${JSON.stringify(s.fault)}`);
    } else assert.ok(s['OS-EXT-SRV-ATTR:host'], `${s.name} is ACTIVE on a host`);
  }
}

/** Every service process of the cluster still runs. */
function assertAllRunning(c: TestCluster): void {
  const dead = [...c.cluster.processes.values()].filter((p) => !p.running()).map((p) => `${p.name} (see ${p.logFile})`);
  assert.deepEqual(dead, [], 'every service process survived');
}

function noteFaults(servers: ServerView[]): void {
  const faults = new Map<string, number>();
  for (const s of servers) if (s.status === 'ERROR') {
    const m = (s.fault?.message ?? '(none)').replace(/[0-9a-f-]{36}/g, '<uuid>');
    faults.set(m, (faults.get(m) ?? 0) + 1);
  }
  for (const [m, n] of faults) process.stderr.write(`# ${n} x ERROR: ${m}\n`);
}

const note = (what: string, ms: number) => process.stderr.write(`# ${what}: ${(ms / 1000).toFixed(1)} s\n`);

test('RabbitMQ restarted during a boot storm of 40 servers: each ends ACTIVE or ERROR with a reason, none stays in BUILD', { skip, timeout: 150_000 }, async (t) => {
  const c = await startTestCluster({ computes: 2, fakeHostsPerCompute: 2, settings: SETTINGS });
  t.after(() => c.stop());
  note('cluster started', c.startMs);
  const api = c.apis[0];
  const t0 = Date.now();
  let restartMs = 0;
  const storm = await bootStorm(api, {
    batches: 8,
    perBatch: 5,
    gapMs: 300,
    failAfter: 3,
    fail: async () => {
      const r0 = Date.now();
      await c.cluster.rabbitmq!.restart();
      restartMs = Date.now() - r0;
    },
  });
  note(`broker restart (${storm.posts.map((p) => p.status).join(' ')})`, restartMs);
  const accepted = storm.posts.filter((p) => p.status === 202).length;
  for (const p of storm.posts) assert.ok(p.status === 202 || p.status === 503, `POST /servers answers 202, or 503 while the broker is away: ${p.status} ${p.text}`);
  const servers = await settle(c.apis, (BUILD_TIMEOUT + 45) * 1000);
  note(`storm settled ${summary(servers)}`, Date.now() - t0);
  noteFaults(servers);
  assertEveryServerSettled(servers, accepted * 5);
  assertAllRunning(c);
  const s0 = Date.now();
  await c.stop();
  note('cluster stopped', Date.now() - s0);
});

test('PostgreSQL stopped and started again during a boot storm of 40 servers: each ends ACTIVE or ERROR with a reason, none stays in BUILD, every service survives', { skip, timeout: 150_000 }, async (t) => {
  const c = await startTestCluster({ computes: 2, fakeHostsPerCompute: 2, settings: SETTINGS });
  t.after(() => c.stop());
  note('cluster started', c.startMs);
  const api = c.apis[0];
  const t0 = Date.now();
  let outageMs = 0;
  const storm = await bootStorm(api, {
    batches: 8,
    perBatch: 5,
    gapMs: 300,
    failAfter: 3,
    fail: async () => {
      const r0 = Date.now();
      await c.cluster.postgres!.stop();
      await new Promise((r) => setTimeout(r, 3000));
      await c.cluster.postgres!.restart();
      outageMs = Date.now() - r0;
    },
  });
  note(`database outage (${storm.posts.map((p) => p.status).join(' ')})`, outageMs);
  for (const p of storm.posts) assert.ok(p.status === 202 || p.status === 503, `POST /servers answers 202, or 503 while the database is away: ${p.status} ${p.text}`);
  const accepted = storm.posts.filter((p) => p.status === 202).length;
  assert.ok(accepted >= 3, 'the POSTs before the outage were accepted');
  const servers = await settle(c.apis, (BUILD_TIMEOUT + 45) * 1000);
  note(`storm settled ${summary(servers)}`, Date.now() - t0);
  noteFaults(servers);
  assertEveryServerSettled(servers, accepted * 5);
  assertAllRunning(c);
  const s0 = Date.now();
  await c.stop();
  note('cluster stopped', Date.now() - s0);
});
