/**
 * Test helper: a client of a console unix socket that reads either the next chunk the server
 * wrote (as the console proxy forwards it in one websocket frame) or exactly n bytes.
 */
import { connect, createServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ConsoleClient {
  socket: Socket;
  /** The next bytes received (everything buffered, or the next chunk). */
  chunk(timeoutMs?: number): Promise<Buffer>;
  /** Exactly n bytes. */
  read(n: number, timeoutMs?: number): Promise<Buffer>;
  /** Reads until text appears in what was received since the last call; returns it all. */
  until(text: string, timeoutMs?: number): Promise<string>;
  /** Resolves when the server closes the connection. */
  closed(timeoutMs?: number): Promise<void>;
  send(data: Buffer | string | number[]): void;
  end(): void;
}

export async function connectConsole(path: string): Promise<ConsoleClient> {
  const socket = connect(path);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let buf = Buffer.alloc(0);
  let waiter: (() => void) | null = null;
  let ended = false;
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    waiter?.();
  });
  const onEnd = () => {
    ended = true;
    waiter?.();
  };
  socket.on('close', onEnd);
  socket.on('end', onEnd);
  socket.on('error', onEnd);
  const wait = (ok: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (ok()) {
          clearTimeout(t);
          waiter = null;
          resolve();
        } else if (ended) {
          clearTimeout(t);
          waiter = null;
          reject(new Error(`connection closed while waiting for ${what} (got ${JSON.stringify(buf.toString('latin1'))})`));
        }
      };
      const t = setTimeout(() => {
        waiter = null;
        reject(new Error(`timed out waiting for ${what} (got ${JSON.stringify(buf.toString('latin1'))})`));
      }, timeoutMs);
      waiter = check;
      check();
    });
  const take = (n: number) => {
    const out = buf.subarray(0, n);
    buf = buf.subarray(n);
    return out;
  };
  return {
    socket,
    async chunk(timeoutMs = 2000) {
      await wait(() => buf.length > 0, timeoutMs, 'data');
      return take(buf.length);
    },
    async read(n, timeoutMs = 2000) {
      await wait(() => buf.length >= n, timeoutMs, `${n} bytes`);
      return take(n);
    },
    async until(text, timeoutMs = 2000) {
      await wait(() => buf.toString('latin1').includes(text), timeoutMs, JSON.stringify(text));
      return take(buf.length).toString('latin1');
    },
    async closed(timeoutMs = 2000) {
      await new Promise<void>((resolve, reject) => {
        if (ended) return resolve();
        const t = setTimeout(() => reject(new Error('connection still open')), timeoutMs);
        waiter = () => {
          if (ended) {
            clearTimeout(t);
            resolve();
          }
        };
      });
    },
    send(data) {
      socket.write(Array.isArray(data) ? Buffer.from(data) : data);
    },
    end() {
      socket.destroy();
    },
  };
}

/** A unix socket server in a fresh temp dir that hands each connection to serve. */
export async function serveOnTempSocket(serve: (s: Socket) => void): Promise<{ path: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'nova-ts-ct-'));
  const path = join(dir, 's');
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    serve(s);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
