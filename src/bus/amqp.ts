/**
 * The bus over RabbitMQ (AMQP 0-9-1), for services in separate processes and machines.
 *
 * - Topic `t` is the durable queue `<ns>.t` on the default exchange. Calls and casts go there
 *   and are shared round robin among the topic's servers (each consumer has a prefetch limit,
 *   so one slow server does not hoard messages). The sender declares the queue too, so a
 *   message sent before its first server starts waits for it.
 * - cast: persistent message, publisher confirm; the server acks only after its handler
 *   settled, so a server that dies mid-handler has the message redelivered to another server
 *   (at-least-once: cast handlers must be idempotent). A handler error is logged and acked.
 * - call: non-persistent, expires with the call's timeout; the server acks it on receipt (a
 *   call runs at most once) and answers on the caller's reply queue `<ns>.reply.<uuid>`, matched
 *   by correlation id. The reply queue keeps its name for the bus's life and is declared again
 *   on every (re)connection, so the answer to a call that was running when the broker went
 *   away still reaches the caller once both are back (with a per-connection queue it was lost
 *   and the caller waited its whole timeout); unused for REPLY_QUEUE_EXPIRES_MS, it expires. NovaErrors keep their kind and message across the wire.
 * - fanout: the fanout exchange `<ns>.t.fanout`; each server binds an exclusive auto-delete queue.
 * - The connection reconnects when the broker goes away and re-declares everything; publishing
 *   waits for it (a call until its timeout, a cast up to `castWaitMs`, then ServiceUnavailable).
 */
import { randomUUID } from 'node:crypto';
import type { Channel, ConsumeMessage } from 'amqplib';
import { NovaError, timeout as timeoutError, unavailable, type ErrorKind } from '../errors.js';
import { logger } from '../util/log.js';
import { BrokerConnection, redact, type Link } from './amqp-connection.js';
import { DEFAULT_CALL_TIMEOUT_MS, type Bus, type CallOptions, type Handler } from './bus.js';

const log = logger('bus');
/** A caller's reply queue goes away this long after its last use (the caller died or closed). */
const REPLY_QUEUE_EXPIRES_MS = 10 * 60_000;

export interface AmqpBusOptions {
  /** Prefix of every queue and exchange name (default `nova`); separates clouds sharing a vhost. */
  namespace?: string;
  /** Messages a server works on at once per topic (default 16). */
  prefetch?: number;
  /** How long a cast or fanout waits for a broker before failing (default 30 s). */
  castWaitMs?: number;
  /** How long `connect` waits for the first connection (default 30 s). */
  connectTimeoutMs?: number;
  /** How long stopping a server waits for its running cast handlers before leaving them to redelivery (default 10 s). */
  drainMs?: number;
}

interface Server {
  topic: string;
  handler: Handler;
  stopped: boolean;
  ch: Channel | null;
  tags: string[];
  setup: { gen: number; done: Promise<void> } | null;
  inFlight: Set<Promise<void>>;
}

interface Pending {
  resolve: (v: any) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
}

/** Wire form of a reply. */
type Reply = { r?: unknown; e?: { kind: ErrorKind; message: string; details?: Record<string, unknown> }; x?: string };

export class AmqpBus implements Bus {
  private readonly ns: string;
  private readonly pending = new Map<string, Pending>();
  private readonly servers = new Set<Server>();
  private readonly replyQueue: string;
  private declared: { gen: number; names: Set<string> } = { gen: -1, names: new Set() };
  private closed = false;

  private constructor(
    private readonly conn: BrokerConnection,
    private readonly opts: AmqpBusOptions,
  ) {
    this.ns = opts.namespace ?? 'nova';
    this.replyQueue = `${this.ns}.reply.${randomUUID()}`;
    conn.onConnect((link) => this.onConnect(link));
  }

  /** Connects to the broker at `url` (amqp://user:pass@host:port/vhost). */
  static async connect(url: string, opts: AmqpBusOptions = {}): Promise<AmqpBus> {
    const bus = new AmqpBus(new BrokerConnection(url), opts);
    try {
      await bus.conn.start(opts.connectTimeoutMs ?? 30_000);
    } catch (e) {
      await bus.conn.close();
      throw e;
    }
    log.debug(`connected to ${redact(url)}`);
    return bus;
  }

  private queue(topic: string): string {
    return `${this.ns}.${topic}`;
  }

  private exchange(topic: string): string {
    return `${this.ns}.${topic}.fanout`;
  }

  /** Runs on every (re)connection before publishing resumes. */
  private async onConnect(link: Link): Promise<void> {
    const ch = await link.conn.createChannel();
    ch.on('error', () => undefined);
    // Not exclusive: re-declaring it must not race the broker's clean-up of a lost connection.
    await ch.assertQueue(this.replyQueue, { durable: false, autoDelete: false, arguments: { 'x-expires': REPLY_QUEUE_EXPIRES_MS } });
    await ch.consume(this.replyQueue, (m) => m && this.onReply(m), { noAck: true });
    for (const s of this.servers) await this.ensureServer(s, link);
  }

  private async declareQueue(link: Link, name: string, kind: 'queue' | 'exchange'): Promise<void> {
    if (this.declared.gen !== link.generation) this.declared = { gen: link.generation, names: new Set() };
    const key = `${kind}:${name}`;
    if (this.declared.names.has(key)) return;
    if (kind === 'queue') await link.pub.assertQueue(name, { durable: true });
    else await link.pub.assertExchange(name, 'fanout', { durable: true });
    this.declared.names.add(key);
  }

  async call<T>(topic: string, method: string, args: Record<string, unknown>, opts: CallOptions = {}): Promise<T> {
    if (this.closed) throw unavailable('The message bus is closed.');
    const ms = opts.timeout ?? DEFAULT_CALL_TIMEOUT_MS;
    const id = randomUUID();
    const body = Buffer.from(JSON.stringify(args));
    const timedOut = () => timeoutError(`Timed out after ${ms} ms waiting for a reply to ${method} on ${topic}.`);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(timedOut());
      }, ms);
      this.pending.set(id, { resolve, reject, timer });
      const q = this.queue(topic);
      this.conn
        .publish('', q, body, {
          options: () => ({
            correlationId: id,
            replyTo: this.replyQueue,
            expiration: String(ms),
            contentType: 'application/json',
            headers: { method },
          }),
          prepare: (link) => this.declareQueue(link, q, 'queue'),
          deadline: Date.now() + ms,
          onTimeout: timedOut,
        })
        .catch((e: unknown) => {
          const p = this.pending.get(id);
          if (!p) return;
          clearTimeout(p.timer);
          this.pending.delete(id);
          reject(e);
        });
    });
  }

  private onReply(m: ConsumeMessage): void {
    const id = m.properties.correlationId as string | undefined;
    const p = id ? this.pending.get(id) : undefined;
    if (!p || !id) return; // late reply to a call that timed out
    clearTimeout(p.timer);
    this.pending.delete(id);
    let reply: Reply;
    try {
      reply = JSON.parse(m.content.toString('utf8')) as Reply;
    } catch {
      p.reject(unavailable('Malformed reply on the message bus.'));
      return;
    }
    if (reply.e) p.reject(new NovaError(reply.e.kind, reply.e.message, reply.e.details ?? {}));
    else if (reply.x !== undefined) p.reject(new Error(reply.x));
    else p.resolve(reply.r);
  }

  private unreachable(what: string) {
    return () =>
      unavailable(`The message broker is unreachable: ${what} not sent after ${Math.round((this.opts.castWaitMs ?? 30_000) / 1000)} s.`);
  }

  async cast(topic: string, method: string, args: Record<string, unknown>): Promise<void> {
    if (this.closed) throw unavailable('The message bus is closed.');
    const q = this.queue(topic);
    await this.conn.publish('', q, Buffer.from(JSON.stringify(args)), {
      options: { persistent: true, contentType: 'application/json', headers: { method }, messageId: randomUUID() },
      prepare: (link) => this.declareQueue(link, q, 'queue'),
      deadline: Date.now() + (this.opts.castWaitMs ?? 30_000),
      onTimeout: this.unreachable(`cast ${method} to ${topic}`),
    });
  }

  async fanout(topic: string, method: string, args: Record<string, unknown>): Promise<void> {
    if (this.closed) throw unavailable('The message bus is closed.');
    const x = this.exchange(topic);
    await this.conn.publish(x, '', Buffer.from(JSON.stringify(args)), {
      options: { contentType: 'application/json', headers: { method } },
      prepare: (link) => this.declareQueue(link, x, 'exchange'),
      deadline: Date.now() + (this.opts.castWaitMs ?? 30_000),
      onTimeout: this.unreachable(`fanout ${method} to ${topic}`),
    });
  }

  async serve(topic: string, handler: Handler): Promise<() => Promise<void>> {
    if (this.closed) throw unavailable('The message bus is closed.');
    const s: Server = { topic, handler, stopped: false, ch: null, tags: [], setup: null, inFlight: new Set() };
    this.servers.add(s);
    // Consumers exist when serve resolves (or, during an outage, as soon as the broker is back).
    const link = this.conn.current;
    if (link) await this.ensureServer(s, link).catch(() => undefined);
    return () => this.stopServer(s);
  }

  /** Creates the server's consumers on `link` once per connection. */
  private ensureServer(s: Server, link: Link): Promise<void> {
    if (s.setup?.gen === link.generation) return s.setup.done;
    const done = this.setupServer(s, link);
    s.setup = { gen: link.generation, done };
    return done;
  }

  private async setupServer(s: Server, link: Link): Promise<void> {
    if (s.stopped) return;
    const ch = await link.conn.createChannel();
    ch.on('error', () => undefined);
    ch.on('close', () => {
      if (s.ch === ch) s.ch = null;
      // A channel-level failure while the connection lives on: set the server up again.
      if (!s.stopped && !this.closed && this.conn.current === link) {
        s.setup = null;
        setTimeout(() => {
          if (!s.stopped && this.conn.current === link) void this.ensureServer(s, link).catch(() => undefined);
        }, 1000).unref();
      }
    });
    s.ch = ch;
    s.tags = [];
    await ch.prefetch(this.opts.prefetch ?? 16);
    // Fanouts first: once a call was answered, this server also receives fanouts.
    const x = this.exchange(s.topic);
    await ch.assertExchange(x, 'fanout', { durable: true });
    const fq = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(fq.queue, x, '');
    s.tags.push((await ch.consume(fq.queue, (m) => m && this.onFanout(s, m), { noAck: true })).consumerTag);
    const q = this.queue(s.topic);
    await ch.assertQueue(q, { durable: true });
    s.tags.push((await ch.consume(q, (m) => m && this.onMessage(s, ch, m), { noAck: false })).consumerTag);
    if (s.stopped) await ch.close().catch(() => undefined);
  }

  private parse(s: Server, m: ConsumeMessage): { method: string; args: any } | null {
    const method = String(m.properties.headers?.method ?? '');
    try {
      return { method, args: JSON.parse(m.content.toString('utf8')) };
    } catch {
      log.error(`dropped a malformed message for ${method} on ${s.topic}`);
      return null;
    }
  }

  private track(s: Server, work: Promise<void>): void {
    s.inFlight.add(work);
    void work.finally(() => s.inFlight.delete(work));
  }

  private onMessage(s: Server, ch: Channel, m: ConsumeMessage): void {
    const msg = this.parse(s, m);
    const replyTo = m.properties.replyTo as string | undefined;
    if (!msg || replyTo) safeAck(ch, m); // calls run at most once
    if (!msg) return;
    const run = Promise.resolve().then(() => s.handler(msg.method, msg.args));
    if (replyTo) {
      this.track(
        s,
        run.then(
          (r) => this.reply(replyTo, m.properties.correlationId as string, { r }),
          (e: unknown) =>
            this.reply(
              replyTo,
              m.properties.correlationId as string,
              e instanceof NovaError ? { e: { kind: e.kind, message: e.message, details: e.details } } : { x: (e as Error)?.message ?? String(e) },
            ),
        ),
      );
      return;
    }
    if (m.fields.redelivered) log.info(`${msg.method} on ${s.topic} redelivered (a server died before finishing it)`);
    this.track(
      s,
      run.then(
        () => safeAck(ch, m),
        (e: unknown) => {
          log.error(`${msg.method} on ${s.topic} failed`, e);
          safeAck(ch, m); // on a channel since closed the broker redelivers it instead
        },
      ), // on a channel since closed the broker redelivers it
    );
  }

  private onFanout(s: Server, m: ConsumeMessage): void {
    const msg = this.parse(s, m);
    if (!msg) return;
    this.track(
      s,
      Promise.resolve()
        .then(() => s.handler(msg.method, msg.args))
        .then(
          () => undefined,
          (e: unknown) => log.error(`${msg.method} on ${s.topic} failed`, e),
        ),
    );
  }

  private async reply(to: string, id: string, reply: Reply): Promise<void> {
    let body: Buffer;
    try {
      body = Buffer.from(JSON.stringify(reply));
    } catch (e) {
      body = Buffer.from(JSON.stringify({ x: `Unserializable reply: ${(e as Error).message}` }));
    }
    await this.conn
      .publish('', to, body, {
        options: { correlationId: id, contentType: 'application/json' },
        deadline: Date.now() + 5000,
        onTimeout: () => unavailable('reply not sent'),
      })
      .catch((e: unknown) => log.debug(`reply to ${to} lost: ${(e as Error).message}`));
  }

  private async stopServer(s: Server): Promise<void> {
    if (s.stopped) return;
    s.stopped = true;
    this.servers.delete(s);
    await s.setup?.done.catch(() => undefined);
    const ch = s.ch;
    if (ch) for (const t of s.tags) await ch.cancel(t).catch(() => undefined);
    await this.drain(s);
    s.ch = null;
    if (ch) await ch.close().catch(() => undefined);
  }

  /** Waits (bounded) for the server's running handlers; unfinished casts are redelivered. */
  private async drain(s: Server): Promise<void> {
    if (s.inFlight.size === 0) return;
    let t: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...s.inFlight]),
      new Promise((r) => (t = setTimeout(r, this.opts.drainMs ?? 10_000))),
    ]);
    clearTimeout(t);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.servers) s.stopped = true;
    this.servers.clear();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(unavailable('The message bus is closed.'));
      this.pending.delete(id);
    }
    await this.conn.close();
  }
}

function safeAck(ch: Channel, m: ConsumeMessage): void {
  try {
    ch.ack(m);
  } catch {
    /* channel gone: the broker requeues the message */
  }
}
