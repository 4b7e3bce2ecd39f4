import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { GONE_MESSAGE } from './admission.js';
import { UNREACHABLE_REASON } from './backend.js';
import { DESKTOP_NAME, startFixture, type Fixture } from './test-fixture.js';
import { REFUSAL_MESSAGES } from '../types.js';

const wsUrl = (f: Fixture, query: string) => f.proxy.url.replace(/^http/, 'ws') + '/' + query;

/** A websocket with a queue of received messages. */
async function open(url: string, opts: WebSocket.ClientOptions = {}, protocols: string[] = ['binary']) {
  const ws = new WebSocket(url, protocols, opts);
  const queue: Buffer[] = [];
  const waiters: ((b: Buffer) => void)[] = [];
  ws.on('message', (d: Buffer) => (waiters.length ? waiters.shift()!(d) : queue.push(d)));
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, headers: res.headers })));
    ws.once('error', reject);
  });
  const next = (ms = 2000) =>
    new Promise<Buffer>((resolve, reject) => {
      if (queue.length) return resolve(queue.shift()!);
      const t = setTimeout(() => reject(new Error('no message in time')), ms);
      waiters.push((b) => (clearTimeout(t), resolve(b)));
    });
  return { ws, next, closed };
}

/** Sends an upgrade request by hand (as Tempest does); answers everything read until the server closes. */
function rawUpgrade(f: Fixture, path: string, extra: string[] = []): Promise<{ head: string; rest: Buffer }> {
  const u = new URL(f.proxy.url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    const t = setTimeout(() => (s.destroy(), reject(new Error('the proxy did not close the connection'))), 3000);
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(t);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      resolve({ head: all.subarray(0, end + 4).toString(), rest: all.subarray(end + 4) });
    });
    s.write(
      [`GET /${path} HTTP/1.1`, `Host: ${u.host}`, 'Upgrade: websocket', 'Connection: Upgrade', ...extra,
        'Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Protocol: binary', '', ''].join('\r\n'),
    );
  });
}

const header = (head: string, name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(head)?.[1]?.trim();

describe('console proxy websockets', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());

  it('carries the RFB handshake of a noVNC token both ways as binary messages', async () => {
    const token = await f.issue('novnc');
    const c = await open(wsUrl(f, `?token=${token}&instance_uuid=${f.uuid}`));
    assert.equal(c.ws.protocol, 'binary');
    assert.equal((await c.next()).toString(), 'RFB 003.008\n');
    c.ws.send(Buffer.from('RFB 003.008\n'));
    assert.deepEqual([...(await c.next())], [1, 1]);
    c.ws.send(Buffer.from([1]));
    assert.deepEqual([...(await c.next())], [0, 0, 0, 0]);
    c.ws.send(Buffer.from([1]));
    const init = await c.next();
    assert.equal(init.readUInt16BE(0), 64);
    assert.equal(init.subarray(24).toString(), DESKTOP_NAME);
    c.ws.close();
    assert.equal((await c.closed).code, 1005);
  });

  it('echoes serial bytes, accepts a token without instance_uuid and without a subprotocol', async () => {
    const token = await f.issue('serial');
    const c = await open(wsUrl(f, `?token=${token}`), {}, []);
    assert.equal(c.ws.protocol, '');
    c.ws.send(Buffer.from('hello\r'));
    assert.equal((await c.next()).toString(), 'hello\r');
    const before = f.accepted.length;
    assert.ok(before > 0);
    const backend = f.accepted[before - 1];
    const ended = new Promise((r) => backend.once('close', r));
    c.ws.close();
    await ended; // closing the websocket closes the backend connection
  });

  it('closes the websocket when the backend closes', async () => {
    const token = await f.issue('serial');
    const c = await open(wsUrl(f, `?token=${token}`));
    c.ws.send('x');
    await c.next();
    f.accepted[f.accepted.length - 1].destroy();
    assert.equal((await c.closed).code, 1000);
  });

  it('accepts the token from a Cookie (old noVNC) and a same-site Origin', async () => {
    const token = await f.issue('serial');
    const c = await open(wsUrl(f, 'websockify'), { headers: { cookie: `token=${token}`, origin: f.proxy.url } });
    c.ws.send('ok');
    assert.equal((await c.next()).toString(), 'ok');
    c.ws.close();
  });

  it('closes with 1011 and says why when the console backend is not reachable', async () => {
    const token = await f.issue('serial', { path: f.serialPath + '.gone' });
    const c = await open(wsUrl(f, `?token=${token}`));
    const closed = await c.closed;
    assert.equal(closed.code, 1011);
    assert.equal(closed.reason, UNREACHABLE_REASON);
  });

  const refusals: { name: string; query: (f: Fixture) => Promise<string>; reason: string; message: string }[] = [
    { name: 'a missing token', query: async (f) => `?instance_uuid=${f.uuid}`, reason: 'missing', message: REFUSAL_MESSAGES.missing },
    { name: 'a made-up token', query: async (f) => `?token=bad${await f.issue('novnc')}&instance_uuid=${f.uuid}`, reason: 'unknown', message: REFUSAL_MESSAGES.unknown },
    { name: 'an expired token', query: async (f) => `?token=${await f.issue('novnc', { ageSec: 601 })}&instance_uuid=${f.uuid}`, reason: 'expired', message: REFUSAL_MESSAGES.expired },
    { name: 'a token of another instance', query: async (f) => `?token=${await f.issue('novnc')}&instance_uuid=${f.otherUuid}`, reason: 'other-instance', message: REFUSAL_MESSAGES['other-instance'] },
  ];
  for (const r of refusals) {
    it(`refuses ${r.name} with 401 and the reason, closing without data`, async () => {
      const { head, rest } = await rawUpgrade(f, await r.query(f));
      assert.match(head, /^HTTP\/1\.1 401 Unauthorized\r\n/);
      assert.equal(header(head, 'X-Console-Refused'), r.reason);
      assert.equal(header(head, 'X-Console-Refused-Message'), r.message);
      assert.equal(header(head, 'Content-Length'), '0');
      assert.equal(header(head, 'Connection'), 'close');
      assert.equal(rest.length, 0);
    });
  }

  it('refuses tokens of a deleted instance and of an instance moved to another host', async () => {
    const { addInstance } = await import('./test-fixture.js');
    const gone = await addInstance(f.sql, { name: 'gone' });
    const moved = await addInstance(f.sql, { name: 'moved' });
    const tGone = await f.issue('serial', { uuid: gone });
    const tMoved = await f.issue('serial', { uuid: moved });
    await f.sql.run("UPDATE instances SET deleted = id, vm_state = 'deleted' WHERE uuid = ?", [gone]);
    await f.sql.run("UPDATE instances SET host = 'compute-2' WHERE uuid = ?", [moved]);
    for (const t of [tGone, tMoved]) {
      const { head, rest } = await rawUpgrade(f, `?token=${t}`);
      assert.match(head, /^HTTP\/1\.1 401 /);
      assert.equal(header(head, 'X-Console-Refused'), 'unknown');
      assert.equal(header(head, 'X-Console-Refused-Message'), GONE_MESSAGE);
      assert.equal(rest.length, 0);
    }
  });

  it('refuses a websocket opened by a page of another site with 403', async () => {
    const token = await f.issue('serial');
    await assert.rejects(open(wsUrl(f, `?token=${token}`), { headers: { origin: 'http://evil.example:80' } }), (e: { status: number; headers: Record<string, string> }) => {
      assert.equal(e.status, 403);
      assert.equal(e.headers['x-console-refused'], 'origin');
      return true;
    });
    // same host, other port: another origin
    const port = Number(new URL(f.proxy.url).port);
    await assert.rejects(open(wsUrl(f, `?token=${token}`), { headers: { origin: `http://127.0.0.1:${port + 1}` } }), /HTTP 403/);
  });

  it('passes the Tempest novnc handshake (path in the URL query, the query as a Cookie)', async () => {
    const token = await f.issue('novnc');
    const pageQuery = `path=${encodeURIComponent(`?token=${token}&instance_uuid=${f.uuid}`)}`;
    const { head } = await new Promise<{ head: string }>((resolve, reject) => {
      const u = new URL(f.proxy.url);
      const s = connect(Number(u.port), u.hostname);
      let all = Buffer.alloc(0);
      s.on('error', reject);
      s.on('data', (d) => {
        all = Buffer.concat([all, d]);
        const end = all.indexOf('\r\n\r\n');
        // the greeting arrives as one unmasked binary frame: 0x82, length 12
        if (end >= 0 && all.length >= end + 4 + 14) {
          assert.deepEqual([...all.subarray(end + 4, end + 6)], [0x82, 12]);
          assert.equal(all.subarray(end + 6, end + 18).toString(), 'RFB 003.008\n');
          s.destroy();
          resolve({ head: all.subarray(0, end).toString() });
        }
      });
      s.write(
        `GET /?token=${token}&instance_uuid=${f.uuid} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nCookie: ${pageQuery}\r\n` +
          'Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n\r\n',
      );
    });
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols/);
    assert.match(head.toLowerCase(), /upgrade: websocket/);
    assert.match(head, /Sec-WebSocket-Protocol: binary/i);
  });

  it('keeps a token working across a restart of the proxy', async () => {
    const token = await f.issue('serial');
    await f.restartProxy();
    const c = await open(wsUrl(f, `?token=${token}`));
    c.ws.send('again');
    assert.equal((await c.next()).toString(), 'again');
    c.ws.close();
  });

  it('closes open consoles when the proxy closes', async () => {
    const token = await f.issue('serial');
    const c = await open(wsUrl(f, `?token=${token}`));
    await f.restartProxy();
    assert.equal((await c.closed).code, 1001);
  });
});

describe('console token sweeping', () => {
  it('deletes expired tokens while the proxy runs', async () => {
    const f = await startFixture({ sweepIntervalMs: 20 });
    try {
      await f.issue('novnc', { ageSec: 700 });
      await f.issue('novnc');
      const count = async () => Number((await f.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM console_auth_tokens'))!.n);
      for (let i = 0; i < 50 && (await count()) > 1; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await count(), 1);
    } finally {
      await f.close();
    }
  });
});

describe('console proxy over TLS', () => {
  it('serves https pages and wss consoles with the given certificate', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'console-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
    const f = await startFixture({ tls });
    try {
      assert.match(f.proxy.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const token = await f.issue('serial');
      const c = await open(wsUrl(f, `?token=${token}`), { ca: tls.cert, headers: { origin: f.proxy.url } });
      c.ws.send('secure');
      assert.equal((await c.next()).toString(), 'secure');
      c.ws.close();
      const { get } = await import('node:https');
      const status = await new Promise<number>((resolve, reject) =>
        get(`${f.proxy.url}/?token=${token}`, { ca: tls.cert }, (res) => (res.resume(), resolve(res.statusCode!))).on('error', reject),
      );
      assert.equal(status, 200);
    } finally {
      await f.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
