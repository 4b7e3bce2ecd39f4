import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startNetFixture, type NetFixture } from './testing.js';

let fx: NetFixture;
before(async () => {
  fx = await startNetFixture();
});
after(() => fx.close());

test('defaults, admin-only updates, details with usage, and 409 OverQuota past the limit', async () => {
  const q = await fx.call('demo', 'GET', '/v2.0/quotas/p-demo');
  assert.deepEqual(q.body.quota, { network: 100, subnet: 100, port: 500, security_group: 10, security_group_rule: 100 });
  assert.equal((await fx.call('demo', 'GET', '/v2.0/quotas/p-alt')).status, 403);
  assert.equal((await fx.call('demo', 'PUT', '/v2.0/quotas/p-demo', { quota: { network: 1 } })).status, 403);
  const bad = await fx.call('admin', 'PUT', '/v2.0/quotas/p-demo', { quota: { networks: 1 } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.NeutronError.message, /networks/);
  const set = await fx.call('admin', 'PUT', '/v2.0/quotas/p-demo', { quota: { network: 1, port: 2 } });
  assert.equal(set.status, 200);
  assert.equal(set.body.quota.network, 1);
  assert.equal(set.body.quota.subnet, 100);

  const n = await fx.make('demo', 'network', { name: 'q1' });
  const over = await fx.call('demo', 'POST', '/v2.0/networks', { network: { name: 'q2' } });
  assert.equal(over.status, 409);
  assert.equal(over.body.NeutronError.type, 'OverQuota');
  assert.match(over.body.NeutronError.message, /network/);
  await fx.make('demo', 'subnet', { network_id: n.id, cidr: '198.18.70.0/24' });
  await fx.make('demo', 'port', { network_id: n.id });
  await fx.make('demo', 'port', { network_id: n.id });
  assert.equal((await fx.call('demo', 'POST', '/v2.0/ports', { port: { network_id: n.id } })).status, 409);

  const details = await fx.call('demo', 'GET', '/v2.0/quotas/p-demo/details');
  assert.deepEqual(details.body.quota.network, { limit: 1, used: 1, reserved: 0 });
  assert.deepEqual(details.body.quota.port, { limit: 2, used: 2, reserved: 0 });
  const all = await fx.call('admin', 'GET', '/v2.0/quotas');
  assert.deepEqual(all.body.quotas.map((x: any) => x.project_id), ['p-demo']);

  assert.equal((await fx.call('admin', 'DELETE', '/v2.0/quotas/p-demo')).status, 204);
  assert.equal((await fx.call('demo', 'GET', '/v2.0/quotas/p-demo')).body.quota.network, 100);
  assert.equal((await fx.call('demo', 'POST', '/v2.0/networks', { network: { name: 'q2' } })).status, 201);
  const unlimited = await fx.call('admin', 'PUT', '/v2.0/quotas/p-alt', { quota: { network: -1 } });
  assert.equal(unlimited.body.quota.network, -1);
});
