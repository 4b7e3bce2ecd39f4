import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bus } from './bus.js';
import { NovaError, notFound } from '../errors.js';

/** The behaviour every Bus implementation must show. Call from an implementation's test file. */
export function busContract(name: string, make: () => Promise<Bus>): void {
  const withBus = (title: string, fn: (bus: Bus) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const bus = await make();
      try {
        await fn(bus);
      } finally {
        await bus.close();
      }
    });

  withBus('call returns the handler result', async (bus) => {
    await bus.serve('t', (m, a) => ({ m, sum: a.x + a.y }));
    assert.deepEqual(await bus.call('t', 'add', { x: 2, y: 3 }), { m: 'add', sum: 5 });
  });

  withBus('call rejects with the remote error kind and message', async (bus) => {
    await bus.serve('t', () => {
      throw notFound('Instance abc could not be found.');
    });
    await assert.rejects(bus.call('t', 'get', {}), (e: unknown) => {
      assert.ok(e instanceof NovaError);
      assert.equal(e.kind, 'NotFound');
      assert.equal(e.message, 'Instance abc could not be found.');
      return true;
    });
  });

  withBus('call times out when the handler does not answer', async (bus) => {
    await bus.serve('slow', () => new Promise((r) => setTimeout(r, 500)));
    await assert.rejects(bus.call('slow', 'x', {}, { timeout: 50 }), (e: unknown) => {
      assert.ok(e instanceof NovaError);
      assert.equal(e.kind, 'Timeout');
      return true;
    });
  });

  withBus('call to a topic nobody serves times out', async (bus) => {
    await assert.rejects(bus.call('nobody', 'x', {}, { timeout: 50 }), (e: unknown) => e instanceof NovaError && e.kind === 'Timeout');
  });

  withBus('arguments arrive as copies, not shared objects', async (bus) => {
    const sent = { list: [1, 2] };
    let got: any;
    await bus.serve('t', (_m, a) => {
      got = a;
      a.list.push(3);
      return null;
    });
    await bus.call('t', 'x', sent);
    assert.deepEqual(sent.list, [1, 2]);
    assert.deepEqual(got.list, [1, 2, 3]);
  });

  withBus('cast delivers to exactly one server, round robin', async (bus) => {
    const seen: string[] = [];
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    const h = (id: string) => () => {
      seen.push(id);
      if (seen.length === 4) done();
    };
    await bus.serve('w', h('a'));
    await bus.serve('w', h('b'));
    for (let i = 0; i < 4; i++) await bus.cast('w', 'work', { i });
    await all;
    assert.deepEqual(seen.sort(), ['a', 'a', 'b', 'b']);
  });

  withBus('fanout delivers to every server', async (bus) => {
    const seen = new Set<string>();
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    for (const id of ['a', 'b', 'c'])
      await bus.serve('f', () => {
        seen.add(id);
        if (seen.size === 3) done();
      });
    await bus.fanout('f', 'refresh', {});
    await all;
    assert.equal(seen.size, 3);
  });

  withBus('a server busy with a long cast still answers calls', async (bus) => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const busy = new Promise<void>((r) => (started = r));
    await bus.serve('h', (m) => {
      if (m === 'long') {
        started();
        return held;
      }
      return 'pong';
    });
    await bus.cast('h', 'long', {});
    await busy;
    try {
      assert.equal(await bus.call('h', 'ping', {}, { timeout: 2000 }), 'pong');
    } finally {
      release();
    }
  });

  withBus('a stopped server receives nothing more', async (bus) => {
    let n = 0;
    const stop = await bus.serve('s', () => ++n);
    assert.equal(await bus.call('s', 'x', {}), 1);
    await stop();
    await assert.rejects(bus.call('s', 'x', {}, { timeout: 50 }));
    assert.equal(n, 1);
  });
}
