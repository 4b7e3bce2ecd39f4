import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { busContract } from './bus.contract.js';
import { AmqpBus } from './amqp.js';
import { openBus } from './open.js';
import { InProcessBus } from './in-process.js';
import { NovaError } from '../errors.js';
import { freeLocalPort } from '../cluster/ports.js';
import { rabbitMqServerBin, startRabbitMq, type RabbitMq } from '../cluster/rabbitmq.js';

const skip = rabbitMqServerBin() ? false : 'rabbitmq-server is not installed (scripts/ensure-system-packages.mjs rabbitmq-server)';
let rmq: RabbitMq | undefined;
let dir = '';

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'nova-ts-rmq-'));
  rmq = await startRabbitMq({ dir });
});
after(async () => {
  await rmq?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
});

/** A promise with its resolver, for "this happened" signals from handlers. */
function signal<T = unknown>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: nothing after ${ms} ms`)), ms))),
  ]);
}

// Every bus of the contract gets names of its own, so leftovers of one case never reach another.
if (!skip) busContract('amqp bus', () => AmqpBus.connect(rmq!.url, { namespace: `t-${randomUUID()}` }));

const t = (name: string, fn: (ns: string) => Promise<void>) => test(name, { skip }, () => fn(`t-${randomUUID()}`));

t('openBus: inprocess, amqp:// and rabbit:// URLs; anything else is a clear error', async () => {
  const inproc = await openBus('inprocess');
  assert.ok(inproc instanceof InProcessBus);
  await inproc.close();
  for (const url of [rmq!.url, rmq!.url.replace('amqp://', 'rabbit://')]) {
    const bus = await openBus(url);
    assert.ok(bus instanceof AmqpBus);
    await bus.close();
  }
  await assert.rejects(openBus('kafka://127.0.0.1:9092/'), (e: unknown) => {
    assert.ok(e instanceof NovaError);
    assert.equal(e.kind, 'Invalid');
    assert.match(e.message, /Unsupported transport_url 'kafka:\/\/127\.0\.0\.1:9092\/'.*amqp:\/\//);
    return true;
  });
});

t('a broker that is not there: openBus fails with ServiceUnavailable naming it (password hidden)', async () => {
  const port = await freeLocalPort();
  const t0 = Date.now();
  await assert.rejects(openBus(`amqp://guest:secret@127.0.0.1:${port}/`, { connectTimeoutMs: 600 }), (e: unknown) => {
    assert.ok(e instanceof NovaError);
    assert.equal(e.kind, 'ServiceUnavailable');
    assert.ok(e.message.includes(`amqp://guest:***@127.0.0.1:${port}/`), e.message);
    assert.ok(!e.message.includes('secret'));
    return true;
  });
  assert.ok(Date.now() - t0 < 5000);
});

t('a message over 1 MB goes both ways', async (namespace) => {
  const bus = await AmqpBus.connect(rmq!.url, { namespace });
  try {
    await bus.serve('big', (_m, a: { blob: string }) => ({ len: a.blob.length, back: a.blob }));
    const blob = 'x'.repeat(3 * 1024 * 1024);
    const r = await bus.call<{ len: number; back: string }>('big', 'echo', { blob }, { timeout: 10_000 });
    assert.equal(r.len, blob.length);
    assert.equal(r.back, blob);
  } finally {
    await bus.close();
  }
});

t('a cast whose server dies before finishing it is redelivered to another server', async (namespace) => {
  const a = await AmqpBus.connect(rmq!.url, { namespace });
  const b = await AmqpBus.connect(rmq!.url, { namespace });
  try {
    const startedOnA = signal<unknown>();
    await a.serve('compute.h', (_m, args) => {
      startedOnA.resolve(args);
      return new Promise(() => undefined); // dies before it finishes
    });
    await b.cast('compute.h', 'build_and_run_instance', { instance: 'i-1' });
    assert.deepEqual(await within(startedOnA.promise, 5000, 'first delivery'), { instance: 'i-1' });
    const onB = signal<{ method: string; args: unknown }>();
    await b.serve('compute.h', (method, args) => onB.resolve({ method, args }));
    await a.close(); // the server process goes away without acking
    assert.deepEqual(await within(onB.promise, 5000, 'redelivery'), { method: 'build_and_run_instance', args: { instance: 'i-1' } });
  } finally {
    await a.close();
    await b.close();
  }
});

t('a cast whose handler fails is logged and not redelivered', async (namespace) => {
  const bus = await AmqpBus.connect(rmq!.url, { namespace });
  try {
    let n = 0;
    const second = signal();
    await bus.serve('w', (m) => {
      n++;
      if (m === 'bad') throw new Error('boom');
      second.resolve(null);
    });
    await bus.cast('w', 'bad', {});
    await bus.cast('w', 'good', {});
    await within(second.promise, 5000, 'second cast');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(n, 2);
  } finally {
    await bus.close();
  }
});

t('a broker restart: services keep serving calls, casts and fanouts; calls during the outage answer or time out', async (namespace) => {
  const server = await AmqpBus.connect(rmq!.url, { namespace });
  const client = await AmqpBus.connect(rmq!.url, { namespace });
  const impatient = await AmqpBus.connect(rmq!.url, { namespace, castWaitMs: 300 });
  try {
    const casts: unknown[] = [];
    const fanouts: unknown[] = [];
    const got = { cast: signal(), fanout: signal() };
    await server.serve('conductor', (method, args) => {
      if (method === 'ping') return { pong: args.n };
      if (method === 'note') {
        casts.push(args.n);
        if (args.n === 'after') got.cast.resolve(null);
      }
      if (method === 'refresh') {
        fanouts.push(args.n);
        if (args.n === 'after') got.fanout.resolve(null);
      }
      return null;
    });
    assert.deepEqual(await client.call('conductor', 'ping', { n: 1 }), { pong: 1 });

    const restarted = rmq!.restart();
    await new Promise((r) => setTimeout(r, 300)); // the broker is going down or down
    // A call during the outage honours its timeout...
    const t0 = Date.now();
    await assert.rejects(client.call('conductor', 'ping', { n: 2 }, { timeout: 400 }), (e: unknown) => e instanceof NovaError && e.kind === 'Timeout');
    assert.ok(Date.now() - t0 < 2000, `timed out after ${Date.now() - t0} ms`);
    // ...a cast with no broker for too long fails clearly...
    await assert.rejects(impatient.cast('conductor', 'note', { n: 'lost' }), (e: unknown) => {
      assert.ok(e instanceof NovaError && e.kind === 'ServiceUnavailable', String(e));
      assert.match(e.message, /message broker is unreachable: cast note to conductor not sent/);
      return true;
    });
    // ...and a patient call and a cast made during the outage complete once it is back.
    const during = client.call('conductor', 'ping', { n: 3 }, { timeout: 30_000 }).then(
      (r) => ({ r }),
      (e: unknown) => ({ e }),
    );
    const duringCast = client.cast('conductor', 'note', { n: 'during' });
    await restarted;

    const outcome = await during;
    if ('e' in outcome) assert.ok(outcome.e instanceof NovaError && outcome.e.kind === 'Timeout', String(outcome.e));
    else assert.deepEqual(outcome.r, { pong: 3 });
    await duringCast;
    assert.deepEqual(await client.call('conductor', 'ping', { n: 4 }, { timeout: 30_000 }), { pong: 4 });
    await client.cast('conductor', 'note', { n: 'after' });
    await within(got.cast.promise, 10_000, 'cast after restart');
    assert.ok(casts.includes('during'), `casts seen: ${JSON.stringify(casts)}`);
    assert.ok(!casts.includes('lost'));
    await client.fanout('conductor', 'refresh', { n: 'after' });
    await within(got.fanout.promise, 10_000, 'fanout after restart');
  } finally {
    await server.close();
    await client.close();
    await impatient.close();
  }
});

t('a call whose handler is running when the broker restarts gets its answer once both are back (not after its whole timeout)', async (namespace) => {
  const server = await AmqpBus.connect(rmq!.url, { namespace });
  const client = await AmqpBus.connect(rmq!.url, { namespace });
  try {
    const running = signal();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    await server.serve('conductor', async (method) => {
      if (method !== 'slow') return null;
      running.resolve(null);
      await released;
      return { done: true };
    });
    const t0 = Date.now();
    const answer = client.call('conductor', 'slow', {}, { timeout: 60_000 });
    await within(running.promise, 10_000, 'handler started');
    await rmq!.restart();
    release(); // the reply goes out after the restart, to the caller's reply queue declared again
    assert.deepEqual(await within(answer, 30_000, 'the answer after the restart'), { done: true });
    assert.ok(Date.now() - t0 < 45_000, `answered after ${Date.now() - t0} ms`);
  } finally {
    await server.close();
    await client.close();
  }
});
