/** The remote-object cases over RabbitMQ (a private broker; skipped when rabbitmq-server is not installed). */
import { after, before, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AmqpBus } from '../bus/amqp.js';
import { rabbitMqServerBin, startRabbitMq, type RabbitMq } from '../cluster/rabbitmq.js';
import { remoteObjectCases } from './remote-object.cases.js';

const skip = rabbitMqServerBin() ? false : 'rabbitmq-server is not installed (scripts/ensure-system-packages.mjs rabbitmq-server)';
let rmq: RabbitMq | undefined;
let dir = '';

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'nova-ts-rmq-rpc-'));
  rmq = await startRabbitMq({ dir });
});
after(async () => {
  await rmq?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

if (skip) test('remote objects over RabbitMQ', { skip }, () => undefined);
else remoteObjectCases('remote objects over RabbitMQ', () => AmqpBus.connect(rmq!.url, { namespace: `t-${randomUUID()}` }));
