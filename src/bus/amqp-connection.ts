/**
 * One AMQP connection that heals itself: when the broker goes away it reconnects with backoff
 * (logging once per outage), and on every (re)connection runs the setup hooks (declare the
 * reply queue, re-create consumers) before anyone may publish again. Publishing waits for a
 * connection up to a deadline and retries a publish the broker did not confirm.
 */
import amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';
import { unavailable } from '../errors.js';
import { logger } from '../util/log.js';

const log = logger('bus');

/** A live connection; `generation` changes on every reconnect. */
export interface Link {
  conn: ChannelModel;
  pub: ConfirmChannel;
  generation: number;
}

export type SetupHook = (link: Link) => Promise<void>;

/** Adds `heartbeat=<sec>` to the URL unless it says otherwise (dead peers are noticed in ~2 beats). */
function withHeartbeat(url: string, sec: number): string {
  if (/[?&]heartbeat=/.test(url)) return url;
  return url + (url.includes('?') ? '&' : '?') + `heartbeat=${sec}`;
}

/** Shows a URL without its password. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

export class BrokerConnection {
  private link: Link | null = null;
  private generation = 0;
  private closed = false;
  private connecting: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private waiters = new Set<() => void>();
  private downSince: number | null = null;
  private readonly hooks: SetupHook[] = [];

  constructor(
    private readonly url: string,
    private readonly opts: { heartbeatSec?: number } = {},
  ) {}

  /** Registers a hook run on every (re)connection, before publishing resumes. */
  onConnect(hook: SetupHook): void {
    this.hooks.push(hook);
  }

  get current(): Link | null {
    return this.link;
  }

  /** Connects for the first time; rejects with ServiceUnavailable when the broker stays unreachable until `deadline`. */
  async start(timeoutMs: number): Promise<void> {
    this.kick();
    await this.ready(Date.now() + timeoutMs, () =>
      unavailable(`Cannot connect to the message broker at ${redact(this.url)} (tried for ${Math.round(timeoutMs / 1000)} s).`),
    );
  }

  /** The live link, waiting for a reconnect until `deadline` (then rejects with `onTimeout()`). */
  async ready(deadline: number, onTimeout: () => Error): Promise<Link> {
    for (;;) {
      if (this.closed) throw unavailable('The message bus is closed.');
      if (this.link) return this.link;
      const left = deadline - Date.now();
      if (left <= 0) throw onTimeout();
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(t);
          this.waiters.delete(wake);
          resolve();
        };
        const t = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  /**
   * Publishes and waits for the broker's confirm; when the connection fails first, waits for
   * the next one and publishes again (so a message may arrive twice, never zero times) until
   * `deadline`, then rejects with `onTimeout()`. `prepare` runs on each link first (declare
   * the target); `options` may depend on the link (its reply queue).
   */
  async publish(
    exchange: string,
    key: string,
    body: Buffer,
    p: {
      options: Options.Publish | ((link: Link) => Options.Publish);
      prepare?: (link: Link) => Promise<void>;
      deadline: number;
      onTimeout: () => Error;
    },
  ): Promise<void> {
    for (;;) {
      const link = await this.ready(p.deadline, p.onTimeout);
      try {
        await p.prepare?.(link);
        const opts = typeof p.options === 'function' ? p.options(link) : p.options;
        await new Promise<void>((resolve, reject) => {
          link.pub.publish(exchange, key, body, opts, (err) => (err ? reject(err) : resolve()));
        });
        return;
      } catch (e) {
        if (this.closed) throw unavailable('The message bus is closed.');
        // The link broke under us (or the channel failed): drop it and try the next one.
        if (this.link === link) this.lost(link, e);
        if (Date.now() >= p.deadline) throw p.onTimeout();
      }
    }
  }

  private wakeAll(): void {
    for (const w of [...this.waiters]) w();
  }

  private kick(): void {
    if (this.closed || this.link || this.connecting) return;
    this.connecting = this.connectOnce().finally(() => (this.connecting = null));
  }

  private async connectOnce(): Promise<void> {
    let conn: ChannelModel | null = null;
    try {
      conn = await amqp.connect(withHeartbeat(this.url, this.opts.heartbeatSec ?? 10), { timeout: 5000 });
      if (this.closed) {
        await conn.close().catch(() => undefined);
        return;
      }
      const c = conn;
      c.on('error', () => undefined); // 'close' follows; handled there
      const pub = await c.createConfirmChannel();
      pub.on('error', () => undefined);
      const link: Link = { conn: c, pub, generation: ++this.generation };
      let dead = false;
      c.on('close', (err?: unknown) => {
        dead = true;
        this.lost(link, err);
      });
      pub.on('close', () => {
        // A publish channel closed by a channel error: the connection is still up; reconnect anyway.
        if (this.link === link) void c.close().catch(() => undefined);
      });
      for (const h of this.hooks) await h(link);
      if (dead) throw new Error('connection closed during setup');
      if (this.closed) {
        await c.close().catch(() => undefined);
        return;
      }
      this.link = link;
      if (this.downSince !== null) log.info(`reconnected to the message broker at ${redact(this.url)} after ${((Date.now() - this.downSince) / 1000).toFixed(1)} s`);
      this.downSince = null;
      this.wakeAll();
    } catch (e) {
      if (conn) await conn.close().catch(() => undefined);
      if (this.closed) return;
      if (this.downSince === null) {
        this.downSince = Date.now();
        log.warn(`cannot reach the message broker at ${redact(this.url)}: ${(e as Error).message}; retrying`);
      }
      this.scheduleRetry();
    }
  }

  private retryDelay(): number {
    const down = this.downSince === null ? 0 : Date.now() - this.downSince;
    return down < 2000 ? 200 : down < 30_000 ? 500 : 2000;
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, this.retryDelay());
  }

  private lost(link: Link, err: unknown): void {
    if (this.link !== link) return;
    this.link = null;
    if (this.closed) return;
    if (this.downSince === null) {
      this.downSince = Date.now();
      log.warn(`lost the connection to the message broker at ${redact(this.url)}${err ? `: ${(err as Error).message}` : ''}; reconnecting`);
    }
    void link.conn.close().catch(() => undefined);
    this.scheduleRetry();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.wakeAll();
    await this.connecting?.catch(() => undefined);
    const link = this.link;
    this.link = null;
    if (link) await link.conn.close().catch(() => undefined);
  }
}
