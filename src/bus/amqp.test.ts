import { after, before, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { busContract } from './bus.contract.js';
import { AmqpBus } from './amqp.js';
import { rabbitMqServerBin, startRabbitMq, type RabbitMq } from '../cluster/rabbitmq.js';

const skip = rabbitMqServerBin() ? false : 'rabbitmq-server is not installed (scripts/ensure-system-packages.mjs rabbitmq-server)';
let rmq: RabbitMq | undefined;
let dir = '';

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'nova-ts-rmq-'));
  rmq = await startRabbitMq({ dir });
});
after(async () => {
  await rmq?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Every bus of the contract gets names of its own, so leftovers of one case never reach another.
if (!skip) busContract('amqp bus', () => AmqpBus.connect(rmq!.url, { namespace: `t-${randomUUID()}` }));
else test('amqp bus', { skip }, () => undefined);
