/**
 * Test fixture of the console proxy (tests only): an in-memory DB with instances, a fake RFB
 * server (RFB 3.8, security type None, a 64x48 desktop) and a serial echo server on unix
 * sockets in a temporary directory, and a running proxy.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../db/open.js';
import type { Sql } from '../../db/sql.js';
import { ConsoleTokenStore } from '../token-store.js';
import type { ConsoleType } from '../types.js';
import { startConsoleProxy, type ConsoleProxy, type ConsoleProxyOptions } from './server.js';

export const HOST = 'compute-1';
export const DESKTOP_NAME = 'fake-desktop';

/** The ServerInit of the fake RFB server: 64x48, 32 bpp true colour, named DESKTOP_NAME. */
function serverInit(): Buffer {
  const name = Buffer.from(DESKTOP_NAME);
  const b = Buffer.alloc(24 + name.length);
  b.writeUInt16BE(64, 0);
  b.writeUInt16BE(48, 2);
  Buffer.from([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]).copy(b, 4);
  b.writeUInt32BE(name.length, 20);
  name.copy(b, 24);
  return b;
}

/** An RFB 3.8 server speaking up to ServerInit; afterwards it reads and ignores client messages. */
function fakeRfb(sock: Socket): void {
  let buf = Buffer.alloc(0);
  let step = 0;
  sock.write('RFB 003.008\n');
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const need = [12, 1, 1][step];
      if (need === undefined || buf.length < need) return;
      buf = buf.subarray(need);
      if (step === 0) sock.write(Buffer.from([1, 1])); // one security type: None
      if (step === 1) sock.write(Buffer.alloc(4)); // SecurityResult OK
      if (step === 2) sock.write(serverInit());
      step++;
    }
  });
  sock.on('error', () => {});
}

function listenUnix(path: string, onConn: (s: Socket) => void): Promise<Server> {
  const srv = createServer(onConn);
  return new Promise((r) => srv.listen(path, () => r(srv)));
}

export interface Fixture {
  sql: Sql;
  proxy: ConsoleProxy;
  /** The instance (display name vm1) whose consoles the fake servers are. */
  uuid: string;
  otherUuid: string;
  vncPath: string;
  serialPath: string;
  /** Sockets the backends accepted (tests watch them close). */
  accepted: Socket[];
  /** Issues a token for `uuid` (default: the fixture's instance); `ageSec` moves the issue time back. */
  issue(type: ConsoleType, o?: { uuid?: string; ageSec?: number; ttlSec?: number; path?: string }): Promise<string>;
  /** Closes the proxy and starts a new one on the same port and DB. */
  restartProxy(o?: Partial<ConsoleProxyOptions>): Promise<void>;
  close(): Promise<void>;
}

export async function addInstance(sql: Sql, o: { uuid?: string; name: string; host?: string | null }): Promise<string> {
  const uuid = o.uuid ?? randomUUID();
  const now = new Date().toISOString();
  await sql.run(
    `INSERT INTO instances (uuid, project_id, user_id, display_name, host, node, flavor_id, flavor, vm_state, power_state,
       memory_mb, vcpus, root_gb, reservation_id, created_at, updated_at)
     VALUES (?, 'p1', 'u1', ?, ?, ?, 1, '{}', 'active', 1, 64, 1, 1, 'r-1', ?, ?)`,
    [uuid, o.name, o.host === undefined ? HOST : o.host, o.host === undefined ? HOST : o.host, now, now],
  );
  return uuid;
}

export async function startFixture(proxyOpts: Partial<ConsoleProxyOptions> = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'console-proxy-'));
  const sql = await openDatabase('sqlite::memory:');
  const accepted: Socket[] = [];
  const vncPath = join(dir, 'vnc.sock');
  const serialPath = join(dir, 'serial.sock');
  const servers = [
    await listenUnix(vncPath, (s) => (accepted.push(s), fakeRfb(s))),
    await listenUnix(serialPath, (s) => {
      accepted.push(s);
      s.on('error', () => {});
      s.pipe(s);
    }),
  ];
  const uuid = await addInstance(sql, { name: 'vm1' });
  const otherUuid = await addInstance(sql, { name: 'vm2' });
  const start = (o: Partial<ConsoleProxyOptions> = {}) => startConsoleProxy({ sql, host: '127.0.0.1', port: 0, ...proxyOpts, ...o });
  const f: Fixture = {
    sql,
    proxy: await start(),
    uuid,
    otherUuid,
    vncPath,
    serialPath,
    accepted,
    async issue(type, o = {}) {
      const now = Math.floor(Date.now() / 1000) - (o.ageSec ?? 0);
      const store = new ConsoleTokenStore(sql, () => now);
      const path = o.path ?? (type === 'novnc' ? vncPath : serialPath);
      const { token } = await store.issue({
        instance_uuid: o.uuid ?? uuid,
        console_type: type,
        connect: { host: HOST, port: null, internal_access_path: path },
        access_url_base: f.proxy.url,
        ttlSec: o.ttlSec ?? 600,
      });
      return token;
    },
    async restartProxy(o = {}) {
      const port = Number(new URL(f.proxy.url).port);
      await f.proxy.close();
      f.proxy = await start({ port, ...o });
    },
    async close() {
      await f.proxy.close();
      for (const s of accepted) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      await sql.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return f;
}
