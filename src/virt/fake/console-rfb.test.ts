import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serveRfb, renderScreen, type FakeScreen } from './console-rfb.js';
import { connectConsole, serveOnTempSocket, type ConsoleClient } from './console-test-client.js';

const SCREEN: FakeScreen = { title: ['vm1', 'nova-ts fake driver', 'power state: RUNNING'], body: ['boot log line'] };

async function withServer(fn: (connect: () => Promise<ConsoleClient>, screen: { now: FakeScreen }) => Promise<void>) {
  const screen = { now: SCREEN };
  const srv = await serveOnTempSocket((s) =>
    serveRfb(s, { desktopName: 'nova-ts fake console vm1', screen: () => screen.now, pollMs: 20 }),
  );
  const clients: ConsoleClient[] = [];
  try {
    await fn(async () => {
      const c = await connectConsole(srv.path);
      clients.push(c);
      return c;
    }, screen);
  } finally {
    for (const c of clients) c.end();
    await srv.close();
  }
}

/** Tempest's _validate_rfb_negotiation, frame by frame (each chunk is one websocket frame). */
async function tempestNegotiation(c: ConsoleClient): Promise<void> {
  const data = await c.chunk();
  const version = parseFloat(`${parseInt(data.subarray(4, 7).toString(), 10)}.${parseInt(data.subarray(8, 11).toString(), 10)}`);
  assert.ok([3.3, 3.8].includes(version), `Bad RFB Version: ${version}`);
  c.send(data);
  const sec = await c.chunk();
  assert.ok(sec.length >= 2, 'Expected authentication type None.');
  assert.ok([...sec.subarray(1, 1 + sec[0])].includes(1), 'Expected authentication type None.');
  c.send([1]);
  const result = await c.chunk();
  assert.equal(result.length, 4, 'Server did not think security was successful.');
  assert.deepEqual([...result], [0, 0, 0, 0]);
}

async function serverInit(c: ConsoleClient) {
  c.send([1]);
  const head = await c.read(24);
  const name = await c.read(head.readUInt32BE(20));
  return { head, name: name.toString() };
}

test('RFB 3.8 handshake, byte for byte as Tempest test_novnc does it, then ServerInit', async () => {
  await withServer(async (connect) => {
    const c = await connect();
    const first = await c.chunk();
    assert.equal(first.toString('latin1'), 'RFB 003.008\n');
    c.send(first);
    assert.deepEqual([...(await c.chunk())], [1, 1], 'one security type: None');
    c.send([1]);
    assert.deepEqual([...(await c.chunk())], [0, 0, 0, 0], 'SecurityResult OK');
    const { head, name } = await serverInit(c);
    assert.equal(head.readUInt16BE(0), 640);
    assert.equal(head.readUInt16BE(2), 400);
    // 32 bpp, depth 24, little-endian, true colour, max 255/255/255, shifts 16/8/0
    assert.deepEqual([...head.subarray(4, 20)], [32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
    assert.equal(name, 'nova-ts fake console vm1');
  });
});

test('the Tempest negotiation helper passes against the server', async () => {
  await withServer(async (connect) => tempestNegotiation(await connect()));
});

test('RFB 3.3 client: the server sends the 4-byte security type None, no SecurityResult, then ServerInit', async () => {
  await withServer(async (connect) => {
    const c = await connect();
    await c.read(12);
    c.send('RFB 003.003\n');
    const sec = await c.chunk();
    assert.deepEqual([...sec], [0, 0, 0, 1]);
    const { head } = await serverInit(c);
    assert.equal(head.readUInt16BE(0), 640);
  });
});

test('a FramebufferUpdateRequest is answered with one Raw rectangle of the whole screen in 32 bpp', async () => {
  await withServer(async (connect) => {
    const c = await connect();
    await tempestNegotiation(c);
    await serverInit(c);
    c.send([2, 0, 0, 1, 0, 0, 0, 0]); // SetEncodings: Raw
    c.send([3, 0, 0, 0, 0, 0, 0x02, 0x80, 0x01, 0x90]); // full 640x400, not incremental
    const head = await c.read(16);
    assert.deepEqual([head[0], head.readUInt16BE(2)], [0, 1], 'FramebufferUpdate with one rectangle');
    assert.deepEqual([head.readUInt16BE(4), head.readUInt16BE(6), head.readUInt16BE(8), head.readUInt16BE(10)], [0, 0, 640, 400]);
    assert.equal(head.readInt32BE(12), 0, 'Raw encoding');
    const pixels = await c.read(640 * 400 * 4);
    // The background (16,24,48) as little-endian 0x00RRGGBB is B,G,R,0; text is drawn in other colours.
    assert.deepEqual([...pixels.subarray(0, 4)], [48, 24, 16, 0]);
    const colours = new Set<number>();
    for (let i = 0; i < pixels.length; i += 4) colours.add(pixels.readUInt32LE(i));
    assert.ok(colours.size >= 2, 'text is visible on the screen');
  });
});

test('SetPixelFormat is honoured: 16 bpp big-endian RGB565, and a sub-rectangle comes back at its size', async () => {
  await withServer(async (connect) => {
    const c = await connect();
    await tempestNegotiation(c);
    await serverInit(c);
    c.send([0, 0, 0, 0, 16, 16, 1, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0]);
    c.send([4, 1, 0, 0, 0, 0, 0, 0x61]); // KeyEvent 'a' (ignored)
    c.send([5, 0, 0, 10, 0, 10]); // PointerEvent (ignored)
    c.send([3, 0, 0, 0, 0, 0, 0, 100, 0, 50]);
    const head = await c.read(16);
    assert.deepEqual([head.readUInt16BE(8), head.readUInt16BE(10)], [100, 50]);
    const pixels = await c.read(100 * 50 * 2);
    const bg = (Math.round((16 * 31) / 255) << 11) | (Math.round((24 * 63) / 255) << 5) | Math.round((48 * 31) / 255);
    assert.equal(pixels.readUInt16BE(0), bg);
  });
});

test('an incremental request is answered only once the screen changes', async () => {
  await withServer(async (connect, screen) => {
    const c = await connect();
    await tempestNegotiation(c);
    await serverInit(c);
    c.send([3, 0, 0, 0, 0, 0, 0, 8, 0, 8]);
    await c.read(16 + 8 * 8 * 4);
    c.send([3, 1, 0, 0, 0, 0, 0x02, 0x80, 0x01, 0x90]);
    await assert.rejects(c.chunk(150), /timed out/);
    screen.now = { ...SCREEN, title: ['vm1', 'nova-ts fake driver', 'power state: PAUSED'] };
    const head = await c.read(16, 1000);
    assert.deepEqual([head.readUInt16BE(8), head.readUInt16BE(10)], [640, 400]);
  });
});

test('malformed input closes that connection only', async () => {
  await withServer(async (connect) => {
    const bad = await connect();
    await bad.read(12);
    bad.send('HELLO WORLD!');
    await bad.closed();

    const bad2 = await connect();
    await tempestNegotiation(bad2);
    await serverInit(bad2);
    bad2.send([99, 1, 2, 3]);
    await bad2.closed();

    const good = await connect();
    await tempestNegotiation(good);
    const { head } = await serverInit(good);
    assert.equal(head.readUInt16BE(0), 640);
  });
});

test('a 3.8 client choosing another security type is told why and disconnected', async () => {
  await withServer(async (connect) => {
    const c = await connect();
    c.send(await c.chunk());
    await c.chunk();
    c.send([2]);
    const fail = await c.read(8);
    assert.equal(fail.readUInt32BE(0), 1);
    assert.match((await c.read(fail.readUInt32BE(4))).toString(), /None/);
    await c.closed();
  });
});

test('the screen shows the text it is given', () => {
  const a = renderScreen(SCREEN, 640, 400);
  const b = renderScreen({ ...SCREEN, title: ['vm2', ...SCREEN.title.slice(1)] }, 640, 400);
  const blank = renderScreen({ title: [], body: [] }, 640, 400);
  assert.ok(a.some((p) => p !== 0));
  assert.ok(blank.every((p) => p === 0));
  assert.notDeepEqual(a, b);
});
