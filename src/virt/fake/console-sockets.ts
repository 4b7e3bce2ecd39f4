/**
 * The unix sockets of the fake driver's consoles: one listening socket per (instance, console
 * kind), started on first request only (10,000 fake guests cost nothing until someone asks for
 * a console), in a directory of this driver's own under the system temp dir with a short name
 * (a unix socket path is limited to 107 bytes). Closing an instance's consoles also drops their
 * open connections and removes the socket files; closeAll removes the directory.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriverConsoleKind } from '../../console/types.js';

interface Listener {
  server: Server;
  sockets: Set<Socket>;
  path: string;
}

/** Longest unix socket path Linux accepts (sun_path is 108 bytes with the NUL). */
const MAX_SOCKET_PATH = 107;

let seq = 0;
/** Directories still present, removed when the process exits without close(). */
const liveDirs = new Set<string>();
let exitHook = false;

export class FakeConsoleSockets {
  readonly dir: string;
  private readonly listeners = new Map<string, Promise<Listener>>();

  constructor(host: string) {
    const hash = createHash('sha256').update(`${host}\0${process.pid}\0${seq++}`).digest('hex').slice(0, 12);
    this.dir = join(tmpdir(), `nova-ts-fake-${hash}`);
  }

  /**
   * The socket path of uuid's console of kind, listening (serve gets each connection). Idempotent:
   * concurrent and repeated calls share one listener.
   */
  open(uuid: string, kind: DriverConsoleKind, serve: (socket: Socket) => void): Promise<string> {
    const key = `${uuid}.${kind}`;
    let l = this.listeners.get(key);
    if (!l) {
      l = this.listen(key, serve);
      this.listeners.set(key, l);
      l.catch(() => this.listeners.delete(key));
    }
    return l.then((x) => x.path);
  }

  private async listen(key: string, serve: (socket: Socket) => void): Promise<Listener> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    liveDirs.add(this.dir);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
      });
    }
    let path = join(this.dir, key);
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH)
      path = join(this.dir, createHash('sha256').update(key).digest('hex').slice(0, 16));
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH)
      throw new Error(`The fake driver's console socket path ${path} is too long: set TMPDIR to a shorter directory.`);
    rmSync(path, { force: true });
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      serve(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.unref();
    return { server, sockets, path };
  }

  /** Stops uuid's consoles, drops their connections and removes their sockets. Idempotent. */
  async closeInstance(uuid: string): Promise<void> {
    const mine = [...this.listeners.keys()].filter((k) => k.startsWith(`${uuid}.`));
    await Promise.all(mine.map((k) => this.closeOne(k)));
  }

  private async closeOne(key: string): Promise<void> {
    const p = this.listeners.get(key);
    this.listeners.delete(key);
    const l = await p?.catch(() => null);
    if (!l) return;
    for (const s of l.sockets) s.destroy();
    // net.Server.close removes the socket file of a unix listener.
    await new Promise<void>((resolve) => l.server.close(() => resolve()));
    rmSync(l.path, { force: true });
  }

  /** Stops every console and removes the directory. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.listeners.keys()].map((k) => this.closeOne(k)));
    rmSync(this.dir, { recursive: true, force: true });
    liveDirs.delete(this.dir);
  }

  /** How many consoles are listening (tests). */
  get size(): number {
    return this.listeners.size;
  }
}
