import { NovaError, timeout as timeoutError, unavailable } from '../errors.js';
import { logger } from '../util/log.js';
import { DEFAULT_CALL_TIMEOUT_MS, type Bus, type CallOptions, type Handler } from './bus.js';

const log = logger('bus');

/**
 * The all-in-one bus: delivery in the same process, asynchronously (never re-entrant), with
 * arguments and results copied through JSON so that nothing shares objects across services,
 * just as over AMQP.
 */
export class InProcessBus implements Bus {
  private readonly topics = new Map<string, { handlers: Handler[]; next: number }>();
  private closed = false;

  private pick(topic: string): Handler | undefined {
    const t = this.topics.get(topic);
    if (!t || t.handlers.length === 0) return undefined;
    const h = t.handlers[t.next % t.handlers.length];
    t.next = (t.next + 1) % t.handlers.length;
    return h;
  }

  async call<T>(topic: string, method: string, args: Record<string, unknown>, opts: CallOptions = {}): Promise<T> {
    if (this.closed) throw unavailable('The message bus is closed.');
    const handler = this.pick(topic);
    const ms = opts.timeout ?? DEFAULT_CALL_TIMEOUT_MS;
    if (!handler) throw timeoutError(`Timed out waiting for a reply to ${method} on ${topic}: no service is listening.`);
    const payload = JSON.stringify(args);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(timeoutError(`Timed out after ${ms} ms waiting for a reply to ${method} on ${topic}.`)),
        ms,
      );
      setImmediate(() => {
        Promise.resolve()
          .then(() => handler(method, JSON.parse(payload)))
          .then(
            (r) => {
              clearTimeout(timer);
              resolve(r === undefined ? (undefined as T) : (JSON.parse(JSON.stringify(r)) as T));
            },
            (e: unknown) => {
              clearTimeout(timer);
              reject(e instanceof NovaError ? new NovaError(e.kind, e.message, e.details) : e);
            },
          );
      });
    });
  }

  async cast(topic: string, method: string, args: Record<string, unknown>): Promise<void> {
    if (this.closed) throw unavailable('The message bus is closed.');
    const handler = this.pick(topic);
    if (!handler) {
      log.warn(`cast ${method} to ${topic} dropped: no service is listening`);
      return;
    }
    this.deliver(topic, method, handler, JSON.stringify(args));
  }

  async fanout(topic: string, method: string, args: Record<string, unknown>): Promise<void> {
    if (this.closed) throw unavailable('The message bus is closed.');
    const payload = JSON.stringify(args);
    for (const h of this.topics.get(topic)?.handlers ?? []) this.deliver(topic, method, h, payload);
  }

  private deliver(topic: string, method: string, handler: Handler, payload: string): void {
    setImmediate(() => {
      Promise.resolve()
        .then(() => handler(method, JSON.parse(payload)))
        .catch((e: unknown) => log.error(`${method} on ${topic} failed`, e));
    });
  }

  async serve(topic: string, handler: Handler): Promise<() => Promise<void>> {
    let t = this.topics.get(topic);
    if (!t) this.topics.set(topic, (t = { handlers: [], next: 0 }));
    t.handlers.push(handler);
    return async () => {
      const cur = this.topics.get(topic);
      if (!cur) return;
      cur.handlers = cur.handlers.filter((h) => h !== handler);
      if (cur.handlers.length === 0) this.topics.delete(topic);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.topics.clear();
  }
}
