import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startNetFixture, type NetFixture } from './testing.js';

let fx: NetFixture;
before(async () => {
  fx = await startNetFixture();
});
after(() => fx.close());

const names = async (user: string, collection: string) =>
  ((await fx.call(user, 'GET', `/v2.0/${collection}`)).body[collection] as any[]).map((x) => x.name);

describe('native bulk create', () => {
  test('networks: 201 with the list in request order, each visible afterwards', async () => {
    const r = await fx.call('demo', 'POST', '/v2.0/networks', { networks: [{ name: 'bulk-a' }, { name: 'bulk-b', admin_state_up: false }] });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.networks.map((n: any) => [n.name, n.admin_state_up, n.project_id]), [['bulk-a', true, 'p-demo'], ['bulk-b', false, 'p-demo']]);
    const listed = await names('demo', 'networks');
    assert.ok(listed.includes('bulk-a') && listed.includes('bulk-b'));
  });

  test('networks: one bad item creates none, and the message names the item', async () => {
    const schema = await fx.call('demo', 'POST', '/v2.0/networks', { networks: [{ name: 'bulk-c' }, { name: 'bulk-d', bogus: 1 }] });
    assert.equal(schema.status, 400);
    assert.match(schema.body.NeutronError.message, /^networks\[1\]: .*bogus/);
    const policy = await fx.call('demo', 'POST', '/v2.0/networks', { networks: [{ name: 'bulk-e' }, { name: 'bulk-f', shared: true }] });
    assert.equal(policy.status, 403);
    assert.match(policy.body.NeutronError.message, /networks\[1\]: .*create_network:shared/);
    const listed = await names('demo', 'networks');
    for (const n of ['bulk-c', 'bulk-d', 'bulk-e', 'bulk-f']) assert.ok(!listed.includes(n), n);
    for (const body of [{ networks: [] }, { networks: {} }, { networks: [{}], network: {} }]) {
      const r = await fx.call('demo', 'POST', '/v2.0/networks', body);
      assert.equal(r.status, 400, JSON.stringify(body));
    }
  });

  test('the whole batch counts against the quota: all or nothing', async () => {
    assert.equal((await fx.call('admin', 'PUT', '/v2.0/quotas/p-alt', { quota: { network: 3 } })).status, 200);
    await fx.make('alt', 'network', { name: 'q-1' });
    const over = await fx.call('alt', 'POST', '/v2.0/networks', { networks: [{ name: 'q-2' }, { name: 'q-3' }, { name: 'q-4' }] });
    assert.equal(over.status, 409);
    assert.equal(over.body.NeutronError.type, 'OverQuota');
    assert.deepEqual(await names('alt', 'networks'), ['q-1']);
    const fits = await fx.call('alt', 'POST', '/v2.0/networks', { networks: [{ name: 'q-2' }, { name: 'q-3' }] });
    assert.equal(fits.status, 201);
    assert.deepEqual((await names('alt', 'networks')).sort(), ['q-1', 'q-2', 'q-3']);
  });

  test('subnets: created together; an overlap inside the batch rolls back the first one', async () => {
    const a = await fx.make('demo', 'network', { name: 'sb-a' });
    const b = await fx.make('demo', 'network', { name: 'sb-b' });
    const clash = await fx.call('demo', 'POST', '/v2.0/subnets', {
      subnets: [{ network_id: a.id, cidr: '198.18.70.0/28', ip_version: 4, name: 'sb-1' }, { network_id: b.id, cidr: '198.18.70.0/27', ip_version: 4 }],
    });
    assert.equal(clash.status, 400);
    assert.match(clash.body.NeutronError.message, /^subnets\[1\]: /);
    assert.ok(!(await names('demo', 'subnets')).includes('sb-1'));
    const ok = await fx.call('demo', 'POST', '/v2.0/subnets', {
      subnets: [{ network_id: a.id, cidr: '198.18.70.0/28', ip_version: 4, name: 'sb-1' }, { network_id: b.id, cidr: '198.18.70.16/28', ip_version: 4 }],
    });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.deepEqual(ok.body.subnets.map((s: any) => [s.network_id, s.cidr, s.gateway_ip]), [[a.id, '198.18.70.0/28', '198.18.70.1'], [b.id, '198.18.70.16/28', '198.18.70.17']]);
    const alien = await fx.call('alt', 'POST', '/v2.0/subnets', { subnets: [{ network_id: a.id, cidr: '198.18.71.0/28' }] });
    assert.equal(alien.status, 404);
  });

  test('ports: created together on two networks; a taken address in the batch creates none', async () => {
    const a = await fx.make('demo', 'network', { name: 'pb-a' });
    const b = await fx.make('demo', 'network', { name: 'pb-b' });
    await fx.make('demo', 'subnet', { network_id: a.id, cidr: '198.18.72.0/28' });
    await fx.make('demo', 'subnet', { network_id: b.id, cidr: '198.18.72.16/28' });
    const r = await fx.call('demo', 'POST', '/v2.0/ports', { ports: [{ network_id: a.id, name: 'pb-1' }, { network_id: b.id, admin_state_up: false }] });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.ports.map((p: any) => [p.network_id, p.name, p.admin_state_up, p.fixed_ips[0].ip_address]), [
      [a.id, 'pb-1', true, '198.18.72.2'],
      [b.id, '', false, '198.18.72.18'],
    ]);
    assert.equal(r.body.ports[0].security_groups.length, 1);
    const dup = await fx.call('demo', 'POST', '/v2.0/ports', {
      ports: [{ network_id: a.id, name: 'pb-2', fixed_ips: [{ ip_address: '198.18.72.5' }] }, { network_id: a.id, fixed_ips: [{ ip_address: '198.18.72.5' }] }],
    });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.NeutronError.type, 'IpAddressAlreadyAllocated');
    assert.match(dup.body.NeutronError.message, /^ports\[1\]: /);
    const ports = (await fx.call('demo', 'GET', `/v2.0/ports?network_id=${a.id}`)).body.ports;
    assert.deepEqual(ports.map((p: any) => p.name), ['pb-1'], 'the first port of the failed batch was rolled back');
    const free = await fx.make('demo', 'port', { network_id: a.id, fixed_ips: [{ ip_address: '198.18.72.5' }] });
    assert.equal(free.fixed_ips[0].ip_address, '198.18.72.5', 'its address was released too');
  });
});
