/**
 * A QMP client: QEMU's machine protocol, JSON lines over a unix socket. On connect QEMU sends a
 * greeting ({"QMP": {...}}); the client answers with qmp_capabilities and then may send
 * commands ({"execute", "arguments", "id"}), each answered by {"return"} or {"error"} with the
 * same id, in order. Asynchronous events ({"event", "data", "timestamp"}) may arrive at any
 * time and go to the listeners. QEMU allows one client per socket.
 *
 * Errors: a command QEMU refuses rejects with QmpError (its class and description); a lost
 * connection rejects every pending command and emits 'close' once.
 */
import { connect, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export class QmpError extends Error {
  constructor(
    readonly errorClass: string,
    desc: string,
    readonly command: string,
  ) {
    super(`QMP ${command}: ${desc}`);
  }
}

interface Pending {
  command: string;
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export interface QmpClientEvents {
  event: [QmpEvent];
  close: [];
}

export class QmpClient extends EventEmitter<QmpClientEvents> {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  /** The greeting's version, e.g. { qemu: { major: 7, minor: 2, micro: 0 } }. */
  version: Record<string, unknown> = {};

  private constructor(private readonly socket: Socket) {
    super();
  }

  /**
   * Connects to the socket at path, reads the greeting and negotiates capabilities. Rejects
   * (with the socket error, e.g. ECONNREFUSED when no QEMU listens) within timeoutMs.
   */
  static connect(path: string, timeoutMs = 5000): Promise<QmpClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ path });
      const client = new QmpClient(socket);
      let greeted = false;
      const fail = (e: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(e);
      };
      const timer = setTimeout(() => fail(new Error(`QMP socket ${path} did not greet within ${timeoutMs} ms`)), timeoutMs);
      socket.setEncoding('utf8');
      socket.once('error', fail);
      socket.on('data', (chunk: string) => client.receive(chunk));
      socket.on('close', () => {
        client.closeAll();
        if (!greeted) fail(new Error(`QMP socket ${path} closed before the greeting`));
      });
      client.onGreeting = (g) => {
        greeted = true;
        client.version = (g.version as Record<string, unknown>) ?? {};
        client.execute('qmp_capabilities').then(
          () => {
            clearTimeout(timer);
            socket.off('error', fail);
            socket.on('error', () => socket.destroy());
            resolve(client);
          },
          (e: Error) => fail(e),
        );
      };
    });
  }

  private onGreeting: ((g: Record<string, unknown>) => void) | null = null;

  private receive(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.handle(line);
    }
  }

  private handle(line: string): void {
    let msg: Record<string, any>;
    try {
      msg = JSON.parse(line);
    } catch {
      return; // QEMU only sends JSON; anything else is noise we cannot act on.
    }
    if (msg.QMP) {
      const g = this.onGreeting;
      this.onGreeting = null;
      g?.(msg.QMP);
    } else if (typeof msg.event === 'string') {
      this.emit('event', msg as QmpEvent);
    } else if (typeof msg.id === 'number') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new QmpError(String(msg.error.class), String(msg.error.desc), p.command));
      else p.resolve(msg.return);
    }
  }

  private closeAll(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new Error(`QMP connection closed during ${p.command}`));
    this.pending.clear();
    this.emit('close');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs a command; resolves with its "return" value. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`QMP connection closed; cannot run ${command}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + '\n');
    });
  }

  /** Resolves with the first event named `name` (and matching `match`), or rejects after timeoutMs or on close. */
  waitEvent(name: string, timeoutMs: number, match: (e: QmpEvent) => boolean = () => true): Promise<QmpEvent> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.off('event', onEvent);
        this.off('close', onClose);
      };
      const onEvent = (e: QmpEvent) => {
        if (e.event === name && match(e)) {
          done();
          resolve(e);
        }
      };
      const onClose = () => {
        done();
        reject(new Error(`QMP connection closed while waiting for ${name}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${name} event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('event', onEvent);
      this.on('close', onClose);
    });
  }

  /** Resolves once the connection is closed (QEMU exited or close() was called). */
  closedPromise(): Promise<void> {
    return this.closed ? Promise.resolve() : new Promise((r) => this.once('close', () => r()));
  }

  close(): void {
    this.socket.destroy();
    this.closeAll();
  }
}
