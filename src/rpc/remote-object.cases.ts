/**
 * The remote-object cases, run against each bus (in-process: remote-object.test.ts; RabbitMQ:
 * remote-object-amqp.test.ts).
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bus } from '../bus/bus.js';
import { conflict } from '../errors.js';
import { decodeArgs, encodeArgs, remoteObject, served, serveObjects, type RemoteSpec } from './remote-object.js';

interface Counter {
  add(n: number, by?: number, note?: string): Promise<number>;
  fail(): Promise<void>;
  wait(ms: number): Promise<string>;
  nothing(): Promise<void>;
  optional?(x: { a?: string; b: string | null }): Promise<{ a?: string; b: string | null }>;
  /** Not in the allow-list: must never be reachable. */
  secret(): Promise<string>;
  field: number;
}

const SPEC = {
  add: {},
  fail: {},
  wait: { timeoutMs: (ms: number) => ms + 50 },
  nothing: {},
  optional: {},
} satisfies RemoteSpec<Counter, 'add' | 'fail' | 'wait' | 'nothing' | 'optional'>;

function counter(): Counter & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    field: 7,
    async add(n, by, note) {
      calls.push([n, by, note]);
      return n + (by ?? 1);
    },
    async fail() {
      throw conflict('Counter 1 is busy.');
    },
    async wait(ms) {
      await new Promise((r) => setTimeout(r, ms));
      return 'waited';
    },
    async nothing() {},
    async optional(x) {
      return x;
    },
    async secret() {
      return 'leaked';
    },
  };
}

export function remoteObjectCases(name: string, open: () => Promise<Bus>): void {
  describe(name, () => {
    let bus: Bus;
    beforeEach(async () => {
      bus = await open();
    });
    afterEach(() => bus.close());

    test('encodes undefined positions so they come back undefined, not null', () => {
      const wire = JSON.parse(JSON.stringify(encodeArgs([1, undefined, null, undefined])));
      assert.deepEqual(decodeArgs(wire), [1, undefined, null, undefined]);
      assert.throws(() => decodeArgs({ nope: 1 }), { kind: 'Invalid' });
    });

    test('methods are called with their arguments and results; undefined arguments stay undefined', async () => {
      const c = counter();
      await serveObjects(bus, 't', { counter: served<Counter, keyof typeof SPEC>(c, SPEC) });
      const r = remoteObject<Counter, keyof typeof SPEC>(bus, 't', 'counter', SPEC);
      assert.equal(await r.add(1), 2);
      assert.equal(await r.add(1, undefined, 'x'), 2);
      assert.equal(await r.add(1, 5), 6);
      assert.deepEqual(c.calls, [
        [1, undefined, undefined],
        [1, undefined, 'x'],
        [1, 5, undefined],
      ]);
      assert.equal(await r.nothing(), undefined);
      assert.deepEqual(await r.optional({ b: null }), { b: null });
      assert.deepEqual(Object.keys(r).sort(), ['add', 'fail', 'nothing', 'optional', 'wait']);
    });

    test('NovaErrors come back with their kind and message', async () => {
      await serveObjects(bus, 't', { counter: served<Counter, keyof typeof SPEC>(counter(), SPEC) });
      const r = remoteObject<Counter, keyof typeof SPEC>(bus, 't', 'counter', SPEC);
      await assert.rejects(r.fail(), { kind: 'Conflict', message: 'Counter 1 is busy.' });
    });

    test('only allow-listed methods of known objects are served', async () => {
      await serveObjects(bus, 't', { counter: served<Counter, keyof typeof SPEC>(counter(), SPEC) });
      for (const method of ['counter.secret', 'counter.field', 'counter.constructor', 'counter.__proto__', 'other.add', 'add', 'counter.'])
        await assert.rejects(bus.call('t', method, { args: [] }), { kind: 'NotFound' }, method);
      await assert.rejects(bus.call('t', 'counter.add', { args: 1 }), { kind: 'Invalid' });
    });

    test('a served object lacking an optional method answers NotImplemented', async () => {
      const c: Counter = { ...counter(), optional: undefined };
      await serveObjects(bus, 't', { counter: served<Counter, keyof typeof SPEC>(c, SPEC) });
      const r = remoteObject<Counter, keyof typeof SPEC>(bus, 't', 'counter', SPEC);
      await assert.rejects(r.optional({ b: 'x' }), { kind: 'NotImplemented' });
    });

    test('the per-method timeout follows the arguments', async () => {
      await serveObjects(bus, 't', { counter: served<Counter, keyof typeof SPEC>(counter(), SPEC) });
      const r = remoteObject<Counter, keyof typeof SPEC>(bus, 't', 'counter', SPEC);
      // 300 ms of waiting gets 350 ms of call timeout: it answers.
      assert.equal(await r.wait(300), 'waited');
      const short = remoteObject<Counter, 'wait'>(bus, 't', 'counter', { wait: { timeoutMs: 50 } });
      await assert.rejects(short.wait(300), { kind: 'Timeout' });
    });

    test('calls are shared round robin between the servers of a topic', async () => {
      const a = counter();
      const b = counter();
      await serveObjects(bus, 't', { counter: served<Counter, keyof typeof SPEC>(a, SPEC) });
      const stopB = await serveObjects(bus, 't', { counter: served<Counter, keyof typeof SPEC>(b, SPEC) });
      const r = remoteObject<Counter, keyof typeof SPEC>(bus, 't', 'counter', SPEC);
      for (let i = 0; i < 4; i++) await r.add(i);
      assert.equal(a.calls.length, 2);
      assert.equal(b.calls.length, 2);
      await stopB();
      await r.add(9);
      assert.equal(a.calls.length, 3);
    });
  });
}
