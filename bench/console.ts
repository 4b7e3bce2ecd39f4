/**
 * Console benchmark (issue 7), in the repo:
 *   npm run bench:console
 *   npm run bench:console -- --servers 200 --sessions 1000
 *
 * In this process: an all-in-one cloud (fake driver, one compute host) on free ports in a
 * temporary data dir, logged in as admin (quota raised), --servers servers booted (m1.tiny,
 * networks none) and waited ACTIVE. Then, with the clients in this same process (one event loop
 * for the clients, the API, the console proxy and the fake guests' console servers):
 *  1. remote-consoles: `POST /servers/{id}/remote-consoles` (2.6; vnc/novnc and serial/serial)
 *     --requests times one after the other (latency p50/p95/max), then --requests times from
 *     --concurrency callers at once (requests/s). Each request issues a token (a DB write) and
 *     asks the compute host for the console's connect info over the bus.
 *  2. through the proxy (`ws` client, subprotocol binary): time from `new WebSocket` to the
 *     first RFB byte (the server's `RFB 003.008`) and to 'open' (the upgrade answered), for 50
 *     noVNC websockets one at a time and for --vnc-sessions opened at once across the servers; then serial keystroke round trips (send `a`, receive its
 *     echo; a Backspace after each, not timed, keeps the line short), --keys samples.
 *  3. throughput: full-screen non-incremental FramebufferUpdateRequests of the fake RFB screen
 *     (640x400, 32 bpp: 1,024,016 bytes per update), one request in flight per session as a
 *     VNC client does, --updates per session, with one session and with 10 at once; the same
 *     straight to the backend unix socket (no proxy), so the proxy's share shows.
 *  4. memory: RSS and heapUsed+external after a full GC with 0 and with --sessions idle serial
 *     sessions open through the proxy (each sent one keystroke so its backend connection is up),
 *     then the same count of plain unix-socket connections to the serial backends: KB per
 *     session. The figures cover both ends (ws client, proxy, fake console server) since all
 *     run here. GC: with `node --expose-gc` the global gc(); otherwise it is obtained through
 *     v8.setFlagsFromString('--expose-gc').
 *  5. `POST /os-certificates`: --certs one after the other (p50), then --certs from 4 callers
 *     (certificates/s); beside it, a bare 2048-bit RSA key generation (the same call the CA
 *     makes) to show what dominates.
 * The phases run in the order 1, 4, 2, 3, 5 (memory before the 1 MiB framebuffer buffers have
 * grown the heap). The cloud logs at warn level (not one stderr line per request and console). Prints a table,
 * then one JSON line. Whatever happens, the websockets are closed, the cloud closed and the data
 * dir removed; exit status 1 on any failed request or session.
 */
import { generateKeyPair } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WebSocket } from 'ws';
import { startCloud, type Cloud } from '../src/cloud.js';
import { defaultConfig } from '../src/config.js';
import { setLogLevel } from '../src/util/log.js';
import { login, type Session } from './lib/openstack.js';
import { pct, round } from './lib/stats.js';

const USAGE = `Usage: npm run bench:console -- [options]
  --servers N        servers booted (default 100)
  --sessions N       idle serial sessions for the memory figure (default 500)
  --vnc-sessions N   noVNC websockets opened at once (default 200)
  --requests N       remote-console requests per type and phase (default 300)
  --concurrency C    callers at once for the remote-console rate (default 20)
  --keys N           serial keystroke round trips (default 2000)
  --updates N        framebuffer updates per session and case (default 60)
  --certs N          certificates per phase (default 20)
  --keep             keep the temporary data dir`;

const { values: a } = parseArgs({
  options: {
    servers: { type: 'string', default: '100' },
    sessions: { type: 'string', default: '500' },
    'vnc-sessions': { type: 'string', default: '200' },
    requests: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '20' },
    keys: { type: 'string', default: '2000' },
    updates: { type: 'string', default: '60' },
    certs: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (a.help) {
  console.log(USAGE);
  process.exit(0);
}
const int = (name: keyof typeof a, min: number): number => {
  const n = Number(a[name]);
  if (!Number.isInteger(n) || n < min) {
    console.error(`bench:console: --${name} wants an integer >= ${min}, got ${String(a[name])}\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const SERVERS = int('servers', 1);
const SESSIONS = int('sessions', 1);
const VNC_SESSIONS = int('vnc-sessions', 1);
const REQUESTS = int('requests', 1);
const CONC = int('concurrency', 1);
const KEYS = int('keys', 1);
const UPDATES = int('updates', 1);
const CERTS = int('certs', 1);

const log = (m: string) => process.stderr.write(`[bench:console] ${m}\n`);
const W = 640;
const H = 400;
const UPDATE_BYTES = 16 + W * H * 4;
const MiB = 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc: () => void = (globalThis as { gc?: () => void }).gc ?? (runInNewContext('gc') as () => void);

// ---- bytes from a websocket or a unix socket, read by count -----------------------------------

/** A byte queue fed by a transport; read(n) takes exactly n bytes, skip(n) drops n unseen. */
class Bytes {
  private chunks: Buffer[] = [];
  private len = 0;
  private target = 0;
  private wake: (() => void) | null = null;
  private error: Error | null = null;

  push(b: Buffer): void {
    this.chunks.push(b);
    this.len += b.length;
    if (this.wake && this.len >= this.target) this.wake();
  }
  fail(e: Error): void {
    this.error ??= e;
    this.wake?.();
  }
  private async need(n: number): Promise<void> {
    while (this.len < n) {
      if (this.error) throw this.error;
      this.target = n;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = null;
    }
  }
  async read(n: number): Promise<Buffer> {
    await this.need(n);
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.len -= n;
    return all.subarray(0, n);
  }
  async skip(n: number): Promise<void> {
    await this.need(n);
    let left = n;
    while (left > 0) {
      const c = this.chunks[0];
      if (c.length <= left) {
        left -= c.length;
        this.chunks.shift();
      } else {
        this.chunks[0] = c.subarray(left);
        left = 0;
      }
    }
    this.len -= n;
  }
}

interface Conn {
  bytes: Bytes;
  send(b: Buffer | string): void;
  close(): void;
}

const openSockets = new Set<{ close(): void }>();

/** A websocket to the proxy; resolves once open with the time to the first message pending. */
function wsConn(url: string): Promise<Conn & { firstByte: Promise<number>; openMs: number }> {
  const t0 = performance.now();
  const bytes = new Bytes();
  const ws = new WebSocket(url, 'binary', { perMessageDeflate: false });
  const conn = { close: () => ws.terminate() };
  openSockets.add(conn);
  let first: (t: number) => void;
  const firstByte = new Promise<number>((r) => (first = r));
  ws.on('message', (d: Buffer) => {
    first(performance.now() - t0);
    bytes.push(d);
  });
  ws.on('close', (code, reason) => bytes.fail(new Error(`websocket closed ${code} ${reason.toString()}`)));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ bytes, firstByte, openMs: performance.now() - t0, send: (b) => ws.send(b), close: () => (ws.terminate(), openSockets.delete(conn)) }));
    ws.once('error', (e) => (bytes.fail(e), reject(e)));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode} ${String(res.headers['x-console-refused-message'] ?? '')}`)));
  });
}

/** A plain connection to a console's unix socket. */
function unixConn(path: string): Promise<Conn> {
  const bytes = new Bytes();
  const s: Socket = connect(path);
  const conn = { close: () => s.destroy() };
  openSockets.add(conn);
  s.on('data', (d: Buffer) => bytes.push(d));
  s.on('close', () => bytes.fail(new Error('unix socket closed')));
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve({ bytes, send: (b) => s.write(b), close: () => (s.destroy(), openSockets.delete(conn)) }));
    s.once('error', reject);
  });
}

// ---- RFB client: handshake and full-screen updates ----------------------------------------------

async function rfbHandshake(c: Conn): Promise<void> {
  const v = (await c.bytes.read(12)).toString('latin1');
  if (v !== 'RFB 003.008\n') throw new Error(`unexpected RFB version ${JSON.stringify(v)}`);
  c.send('RFB 003.008\n');
  const types = await c.bytes.read(2);
  if (types[0] !== 1 || types[1] !== 1) throw new Error(`unexpected security types ${types.toString('hex')}`);
  c.send(Buffer.from([1]));
  if ((await c.bytes.read(4)).readUInt32BE(0) !== 0) throw new Error('security result not OK');
  c.send(Buffer.from([1]));
  const init = await c.bytes.read(24);
  if (init.readUInt16BE(0) !== W || init.readUInt16BE(2) !== H || init[4] !== 32) throw new Error('unexpected ServerInit');
  await c.bytes.read(init.readUInt32BE(20));
}

const FBUR = Buffer.from([3, 0, 0, 0, 0, 0, W >> 8, W & 0xff, H >> 8, H & 0xff]);

/** n full-screen updates, one request in flight; answers the seconds taken. */
async function rfbUpdates(c: Conn, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    c.send(FBUR);
    const head = await c.bytes.read(16);
    if (head[0] !== 0 || head.readUInt16BE(2) !== 1 || head.readUInt16BE(8) !== W || head.readUInt16BE(10) !== H) throw new Error('unexpected FramebufferUpdate');
    await c.bytes.skip(W * H * 4);
  }
  return (performance.now() - t0) / 1000;
}

// ---- helpers ------------------------------------------------------------------------------------

/** Runs count jobs from conc callers at once; answers per-job ms and the wall in s. */
async function drive(count: number, conc: number, job: (i: number) => Promise<void>): Promise<{ ms: number[]; wall: number }> {
  const ms: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(conc, count) }, async () => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        await job(i);
        ms.push(performance.now() - t);
      }
    }),
  );
  return { ms, wall: (performance.now() - t0) / 1000 };
}

async function settledMemory(): Promise<{ rss: number; heap: number }> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(200);
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external };
}

const tokenQuery = (url: string): string => {
  const u = new URL(url);
  const path = u.searchParams.get('path');
  return path ? path : u.search;
};
const fmt = (x: number | null, digits = 1) => (x === null ? '-' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 }));

// ---- the run ------------------------------------------------------------------------------------

const results: Record<string, unknown> = {};
const rows: [string, string][] = [];
let failures = 0;
const fail = (what: string) => {
  if (failures++ < 5) log(`FAILED: ${what}`);
};

async function run(cloud: Cloud, admin: Session): Promise<void> {
  const q = await admin.req('PUT', `${admin.endpoint('compute')}/os-quota-sets/${admin.projectId}`, { quota_set: { instances: -1, cores: -1, ram: -1 } });
  if (q.status !== 200) throw new Error(`raising admin's quota: ${q.status} ${JSON.stringify(q.body)}`);
  const compute = admin.endpoint('compute');
  const image = (await admin.req('GET', `${cloud.url}/image/v2/images?name=tiny-linux`)).body?.images?.[0]?.id;
  const flavor = (await admin.req('GET', `${compute}/flavors/detail`)).body?.flavors?.find((f: any) => f.name === 'm1.tiny')?.id;
  if (!image || !flavor) throw new Error(`image tiny-linux ${image}, flavor m1.tiny ${flavor}`);

  log(`booting ${SERVERS} servers`);
  const ids: string[] = [];
  await drive(SERVERS, 20, async (i) => {
    const r = await admin.req('POST', `${compute}/servers`, { server: { name: `bench-con-${i}`, flavorRef: flavor, imageRef: image, networks: 'none' } });
    if (r.status !== 202) throw new Error(`POST /servers: ${r.status} ${JSON.stringify(r.body)}`);
    ids.push(r.body.server.id);
  });
  for (const deadline = Date.now() + 120_000; ; ) {
    const r = await admin.req('GET', `${compute}/servers/detail?name=bench-con-&limit=1000`);
    const servers: any[] = r.body?.servers ?? [];
    const bad = servers.find((s) => s.status === 'ERROR');
    if (bad) throw new Error(`server ${bad.id} ERROR: ${JSON.stringify(bad.fault)}`);
    if (servers.filter((s) => s.status === 'ACTIVE' && s['OS-EXT-STS:task_state'] === null).length === SERVERS) break;
    if (Date.now() > deadline) throw new Error('servers not ACTIVE within 120 s');
    await sleep(100);
  }

  // 1. remote-consoles
  const types = [
    { protocol: 'vnc', type: 'novnc' },
    { protocol: 'serial', type: 'serial' },
  ] as const;
  const consoleUrl = async (id: string, t: (typeof types)[number]): Promise<string> => {
    const r = await admin.req('POST', `${compute}/servers/${id}/remote-consoles`, { remote_console: t });
    if (r.status !== 200) throw new Error(`remote-consoles ${t.type}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.remote_console.url;
  };
  const urls = { novnc: [] as string[], serial: [] as string[] };
  const rc: Record<string, unknown> = {};
  for (const t of types) {
    // The first request per server starts its console listener: do that before timing.
    for (const id of ids) urls[t.type].push(await consoleUrl(id, t));
    log(`remote-consoles ${t.type}: ${REQUESTS} sequential, ${REQUESTS} from ${CONC} callers`);
    const seq = await drive(REQUESTS, 1, async (i) => void (await consoleUrl(ids[i % ids.length], t).catch((e: Error) => fail(e.message))));
    const par = await drive(REQUESTS, CONC, async (i) => void (await consoleUrl(ids[i % ids.length], t).catch((e: Error) => fail(e.message))));
    const s = { p50_ms: pct(seq.ms, 50), p95_ms: pct(seq.ms, 95), max_ms: round(Math.max(...seq.ms), 2), per_s_concurrent: round(REQUESTS / par.wall, 1), p50_ms_concurrent: pct(par.ms, 50) };
    rc[t.type] = s;
    rows.push([`POST remote-consoles ${t.protocol}/${t.type}: p50 / p95 / max, one at a time`, `${fmt(s.p50_ms, 2)} / ${fmt(s.p95_ms, 2)} / ${fmt(s.max_ms, 1)} ms`]);
    rows.push([`POST remote-consoles ${t.protocol}/${t.type}: ${CONC} callers at once`, `${fmt(s.per_s_concurrent, 0)} req/s (p50 ${fmt(s.p50_ms_concurrent, 1)} ms)`]);
  }
  results.remote_consoles = rc;

  const proxy = new URL(cloud.consoleUrl);
  const wsUrl = (url: string) => `ws://${proxy.host}/${tokenQuery(url)}`;

  const backendPath = async (url: string): Promise<string> => {
    const token = new URLSearchParams(tokenQuery(url).slice(1)).get('token')!;
    const r = await admin.req('GET', `${compute}/os-console-auth-tokens/${encodeURIComponent(token)}`);
    return r.body?.console?.internal_access_path;
  };

  // 4. memory of idle serial sessions (before the framebuffer phases, whose 1 MiB buffers
  // would leave freed pages in the RSS that new sessions then reuse)
  log(`memory: ${SESSIONS} idle serial sessions`);
  const before = await settledMemory();
  const open = async (mk: (i: number) => Promise<Conn>): Promise<Conn[]> => {
    const out: Conn[] = [];
    await drive(SESSIONS, 50, async (i) => {
      const c = await mk(i);
      c.send('a');
      await c.bytes.read(1);
      c.send('\x7f');
      await c.bytes.read(3);
      out.push(c);
    });
    return out;
  };
  const sessions = await open((i) => wsConn(wsUrl(urls.serial[i % ids.length])));
  const withSessions = await settledMemory();
  for (const c of sessions) c.close();
  await sleep(500);
  const serialPaths: string[] = [];
  for (const u of urls.serial) serialPaths.push(await backendPath(u));
  const before2 = await settledMemory();
  const raw = await open((i) => unixConn(serialPaths[i % serialPaths.length]));
  const withRaw = await settledMemory();
  for (const c of raw) c.close();
  const kb = (x: number) => round(x / 1024 / SESSIONS, 1);
  results.memory = {
    sessions: SESSIONS,
    rss_mib_0: round(before.rss / MiB, 1),
    rss_mib_n: round(withSessions.rss / MiB, 1),
    heap_mib_0: round(before.heap / MiB, 1),
    heap_mib_n: round(withSessions.heap / MiB, 1),
    kb_per_session_rss: kb(withSessions.rss - before.rss),
    kb_per_session_heap: kb(withSessions.heap - before.heap),
    kb_per_unix_conn_rss: kb(withRaw.rss - before2.rss),
    kb_per_unix_conn_heap: kb(withRaw.heap - before2.heap),
  };
  const m = results.memory as Record<string, number>;
  rows.push([`RSS, 0 -> ${SESSIONS} idle serial sessions through the proxy`, `${fmt(m.rss_mib_0)} -> ${fmt(m.rss_mib_n)} MiB: ${fmt(m.kb_per_session_rss)} KB per session`]);
  rows.push([`heapUsed+external after GC, 0 -> ${SESSIONS} sessions`, `${fmt(m.heap_mib_0)} -> ${fmt(m.heap_mib_n)} MiB: ${fmt(m.kb_per_session_heap)} KB per session`]);
  rows.push([`the same count of plain unix-socket connections to the serial backends (no proxy)`, `${fmt(m.kb_per_unix_conn_rss)} KB RSS, ${fmt(m.kb_per_unix_conn_heap)} KB heap per connection`]);

  // 2a. time to the first RFB byte: one session at a time, then many opened at once
  const firstBytes = async (count: number, conc: number) => {
    const open: number[] = [];
    const first: number[] = [];
    const conns: Conn[] = [];
    const { wall } = await drive(count, conc, async (i) => {
      try {
        const c = await wsConn(wsUrl(urls.novnc[i % ids.length]));
        first.push(await c.firstByte);
        open.push(c.openMs);
        await rfbHandshake(c);
        conns.push(c);
      } catch (e) {
        fail(`vnc session: ${(e as Error).message}`);
      }
    });
    for (const c of conns) c.close();
    return { sessions: count, ok: first.length, p50_ms: pct(first, 50), p95_ms: pct(first, 95), max_ms: round(Math.max(...first), 1), open_p50_ms: pct(open, 50), all_handshaken_s: round(wall, 3) };
  };
  const SEQ_OPENS = Math.min(VNC_SESSIONS, 50);
  log(`${SEQ_OPENS} noVNC websockets one at a time, then ${VNC_SESSIONS} at once`);
  const fbSeq = await firstBytes(SEQ_OPENS, 1);
  await sleep(200);
  const fbBurst = await firstBytes(VNC_SESSIONS, VNC_SESSIONS);
  results.first_rfb_byte = { one_at_a_time: fbSeq, at_once: fbBurst };
  rows.push([`new WebSocket -> first RFB byte, one at a time (${SEQ_OPENS}): p50 / p95 (open p50)`, `${fmt(fbSeq.p50_ms, 2)} / ${fmt(fbSeq.p95_ms, 2)} ms (${fmt(fbSeq.open_p50_ms, 2)} ms)`]);
  rows.push([`new WebSocket -> first RFB byte, ${VNC_SESSIONS} at once: p50 / p95 / max (open p50)`, `${fmt(fbBurst.p50_ms)} / ${fmt(fbBurst.p95_ms)} / ${fmt(fbBurst.max_ms)} ms (${fmt(fbBurst.open_p50_ms)} ms); all handshaken in ${fmt(fbBurst.all_handshaken_s, 2)} s`]);

  // 2b. serial keystroke round trip
  log(`${KEYS} serial keystroke round trips`);
  {
    const c = await wsConn(wsUrl(urls.serial[0]));
    const keys: number[] = [];
    for (let i = 0; i < KEYS; i++) {
      const t = performance.now();
      c.send('a');
      const echo = await c.bytes.read(1);
      keys.push(performance.now() - t);
      if (echo[0] !== 0x61) throw new Error(`serial echo ${echo.toString('hex')}`);
      c.send('\x7f');
      await c.bytes.read(3);
    }
    c.close();
    results.serial_keystroke = { samples: KEYS, p50_ms: pct(keys, 50), p95_ms: pct(keys, 95), max_ms: round(Math.max(...keys), 2) };
    rows.push([`serial keystroke round trip through the proxy (${KEYS}): p50 / p95`, `${fmt(pct(keys, 50), 3)} / ${fmt(pct(keys, 95), 3)} ms`]);
  }

  // 3. framebuffer throughput, proxy vs backend socket
  const vncPaths: string[] = [];
  for (let i = 0; i < 10; i++) vncPaths.push(await backendPath(urls.novnc[i % ids.length]));
  if (vncPaths.some((p) => typeof p !== 'string')) throw new Error('os-console-auth-tokens gave no internal_access_path');
  const thr: Record<string, unknown> = {};
  for (const n of [1, 10]) {
    for (const via of ['proxy', 'unix'] as const) {
      const conns = await Promise.all(Array.from({ length: n }, (_, i) => (via === 'proxy' ? wsConn(wsUrl(urls.novnc[i % ids.length])) : unixConn(vncPaths[i]))));
      await Promise.all(conns.map(rfbHandshake));
      await Promise.all(conns.map((c) => rfbUpdates(c, 2))); // warm-up
      const t = performance.now();
      await Promise.all(conns.map((c) => rfbUpdates(c, UPDATES)));
      const s = (performance.now() - t) / 1000;
      for (const c of conns) c.close();
      const updates = n * UPDATES;
      const r = { updates, seconds: round(s, 3), mib_per_s: round((updates * UPDATE_BYTES) / MiB / s, 1), updates_per_s: round(updates / s, 1) };
      thr[`${via}_${n}`] = r;
      log(`framebuffer ${via}, ${n} session(s): ${r.mib_per_s} MiB/s`);
    }
    const p = thr[`proxy_${n}`] as { mib_per_s: number; updates_per_s: number };
    const u = thr[`unix_${n}`] as { mib_per_s: number; updates_per_s: number };
    rows.push([`full-screen updates (1 MiB each), ${n} session${n > 1 ? 's' : ''}: through the proxy / straight to the unix socket`, `${fmt(p.mib_per_s, 0)} / ${fmt(u.mib_per_s, 0)} MiB/s (${fmt(p.updates_per_s, 0)} / ${fmt(u.updates_per_s, 0)} updates/s)`]);
  }
  results.framebuffer = thr;

  // 5. os-certificates
  log(`os-certificates: ${CERTS} one at a time, ${CERTS} from 4 callers`);
  const cert = async () => {
    const r = await admin.req('POST', `${compute}/os-certificates`);
    if (r.status !== 200 || !String(r.body?.certificate?.data).includes('BEGIN CERTIFICATE')) fail(`os-certificates: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
  };
  await cert(); // opens the CA
  const cseq = await drive(CERTS, 1, cert);
  const cpar = await drive(CERTS, 4, cert);
  const keygen = promisify(generateKeyPair);
  const kg = await drive(CERTS, 1, async () => void (await keygen('rsa', { modulusLength: 2048 })));
  results.certificates = { p50_ms: pct(cseq.ms, 50), per_s_sequential: round(CERTS / cseq.wall, 1), per_s_4_callers: round(CERTS / cpar.wall, 1), rsa2048_keygen_p50_ms: pct(kg.ms, 50) };
  const c = results.certificates as Record<string, number>;
  rows.push([`POST /os-certificates, one at a time: p50, certificates/s`, `${fmt(c.p50_ms, 0)} ms, ${fmt(c.per_s_sequential)}/s`]);
  rows.push([`POST /os-certificates, 4 callers at once`, `${fmt(c.per_s_4_callers)}/s`]);
  rows.push([`(a bare RSA-2048 key generation, p50)`, `${fmt(c.rsa2048_keygen_p50_ms, 0)} ms`]);
}

async function main(): Promise<number> {
  setLogLevel('warn');
  const load0 = loadavg()[0];
  const dataDir = mkdtempSync(join(tmpdir(), 'nova-ts-bench-console-'));
  let cloud: Cloud | undefined;
  let admin: Session | undefined;
  const cleanup = async () => {
    for (const s of openSockets) s.close();
    openSockets.clear();
    admin?.close();
    await cloud?.close({ removeNetworkNamespaces: true }).catch((e: Error) => log(`closing the cloud: ${e.message}`));
    cloud = undefined;
    if (!a.keep) rmSync(dataDir, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      log(`${sig}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  try {
    const config = defaultConfig({ dataDir, listenPort: 0 });
    config.databaseUrl = `sqlite:${join(dataDir, 'nova.db')}`;
    config.fake = { ...config.fake, vcpus: Math.max(config.fake.vcpus, SERVERS), memoryMb: Math.max(config.fake.memoryMb, SERVERS * 1024) };
    cloud = await startCloud(config);
    log(`cloud at ${cloud.url}, console proxy at ${cloud.consoleUrl}, data dir ${dataDir}`);
    admin = await login({ authUrl: `${cloud.url}/identity`, username: 'admin', password: cloud.secrets.adminPassword, projectName: 'admin' }, '2.37');
    await run(cloud, admin);
  } finally {
    await cleanup();
  }
  console.log(
    `\nConsole benchmark: ${SERVERS} fake servers, ${cpus().length} cores, load ${load0.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after, Node ${process.versions.node}; clients, API, proxy and fake consoles in one process`,
  );
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(`| ${'what'.padEnd(w)} | figure |\n| ${'-'.repeat(w)} | --- |`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(w)} | ${v} |`);
  console.log(JSON.stringify({ bench: 'console', servers: SERVERS, failures, ...results }));
  return failures ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
