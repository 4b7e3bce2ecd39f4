import { invalid } from '../errors.js';
import { AmqpBus, type AmqpBusOptions } from './amqp.js';
import type { Bus } from './bus.js';
import { InProcessBus } from './in-process.js';

/**
 * Opens the bus a transport URL names:
 * - `inprocess` (or empty): the all-in-one bus, within this process;
 * - `amqp://user:pass@host:port/vhost` or `rabbit://...` (Nova's transport_url scheme):
 *   RabbitMQ. Waits for the first connection (ServiceUnavailable when the broker stays
 *   unreachable), then reconnects by itself.
 */
export async function openBus(url: string, opts: AmqpBusOptions = {}): Promise<Bus> {
  const u = url.trim();
  if (u === '' || u === 'inprocess' || u === 'inprocess://') return new InProcessBus();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(u)?.[1]?.toLowerCase();
  if (scheme === 'amqp' || scheme === 'amqps') return AmqpBus.connect(u, opts);
  if (scheme === 'rabbit') return AmqpBus.connect('amqp' + u.slice('rabbit'.length), opts);
  throw invalid(
    `Unsupported transport_url '${u.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')}': use 'inprocess' or amqp://user:password@host:port/vhost (or rabbit://...).`,
  );
}
