import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startNetFixture, type NetFixture } from './testing.js';

let fx: NetFixture;
before(async () => {
  fx = await startNetFixture();
});
after(() => fx.close());

describe('discovery', () => {
  test('versions and resources need no token; extensions list only what is implemented', async () => {
    const root = await fetch(`${fx.url}/network/`);
    assert.equal(root.status, 200);
    const doc: any = await root.json();
    assert.equal(doc.versions[0].id, 'v2.0');
    assert.equal(doc.versions[0].links[0].href, `${fx.url}/network/v2.0/`);
    const res: any = await (await fetch(`${fx.url}/network/v2.0`)).json();
    assert.ok(res.resources.some((r: any) => r.collection === 'networks'));
    const ext = await fx.call('demo', 'GET', '/v2.0/extensions');
    const aliases = ext.body.extensions.map((e: any) => e.alias);
    for (const a of ['security-group', 'quotas', 'binding', 'port-security', 'project-id']) assert.ok(aliases.includes(a), a);
    assert.ok(!aliases.includes('router'));
    assert.equal((await fx.call('demo', 'GET', '/v2.0/extensions/quotas')).body.extension.alias, 'quotas');
    const missing = await fx.call('demo', 'GET', '/v2.0/extensions/router');
    assert.equal(missing.status, 404);
    assert.ok(missing.body.NeutronError.message.includes('router'));
  });
});

describe('networks', () => {
  test('create, show, update, delete with Neutron field names', async () => {
    const n = await fx.make('demo', 'network', { name: 'net-a', description: 'first' });
    assert.equal(n.tenant_id, 'p-demo');
    assert.equal(n.project_id, 'p-demo');
    assert.equal(n.admin_state_up, true);
    assert.equal(n.shared, false);
    assert.equal(n.status, 'ACTIVE');
    assert.equal(n.mtu, 1500);
    assert.equal(n.port_security_enabled, true);
    assert.deepEqual(n.subnets, []);
    assert.equal(n['router:external'], false);
    assert.equal(n.revision_number, 1);
    assert.match(n.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const up = await fx.call('demo', 'PUT', `/v2.0/networks/${n.id}`, { network: { name: 'net-a2' } });
    assert.equal(up.status, 200);
    assert.equal(up.body.network.name, 'net-a2');
    assert.equal(up.body.network.revision_number, 2);
    const shown = await fx.call('demo', 'GET', `/v2.0/networks/${n.id}?fields=id&fields=name`);
    assert.deepEqual(shown.body.network, { id: n.id, name: 'net-a2' });
    assert.equal((await fx.call('alt', 'GET', `/v2.0/networks/${n.id}`)).status, 404);
    assert.equal((await fx.call('reader', 'DELETE', `/v2.0/networks/${n.id}`)).status, 403);
    assert.equal((await fx.call('demo', 'DELETE', `/v2.0/networks/${n.id}`)).status, 204);
    const gone = await fx.call('demo', 'GET', `/v2.0/networks/${n.id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.NeutronError.type, 'NetworkNotFound');
  });

  test('bad bodies are 400s naming the problem; shared is for admins', async () => {
    const r = await fx.call('demo', 'POST', '/v2.0/networks', { network: { name: 'x', colour: 'red' } });
    assert.equal(r.status, 400);
    assert.match(r.body.NeutronError.message, /colour/);
    assert.equal((await fx.call('demo', 'POST', '/v2.0/networks', { network: { admin_state_up: 'yes' } })).status, 400);
    assert.equal((await fx.call('demo', 'POST', '/v2.0/networks', { network: { shared: true } })).status, 403);
    const other = await fx.call('demo', 'POST', '/v2.0/networks', { network: { project_id: 'p-alt' } });
    assert.equal(other.status, 400);
    assert.match(other.body.NeutronError.message, /admin/);
  });

  test('shared networks are visible to other projects, and filters, sorting and paging work', async () => {
    const shared = await fx.make('admin', 'network', { name: 'pub', shared: true });
    const mine = [];
    for (const name of ['p1', 'p2', 'p3']) mine.push(await fx.make('alt', 'network', { name }));
    const list = (await fx.call('alt', 'GET', '/v2.0/networks')).body.networks.map((n: any) => n.name);
    assert.ok(list.includes('pub'));
    assert.ok(list.includes('p1'));
    assert.ok(!(await fx.call('demo', 'GET', '/v2.0/networks')).body.networks.some((n: any) => n.name === 'p1'));
    const byName = await fx.call('alt', 'GET', '/v2.0/networks?name=p1&name=p3');
    assert.deepEqual(byName.body.networks.map((n: any) => n.name).sort(), ['p1', 'p3']);
    const sharedOnly = await fx.call('alt', 'GET', '/v2.0/networks?shared=True');
    assert.deepEqual(sharedOnly.body.networks.map((n: any) => n.id), [shared.id]);
    const bad = await fx.call('alt', 'GET', '/v2.0/networks?colour=red');
    assert.equal(bad.status, 400);
    assert.match(bad.body.NeutronError.message, /colour/);

    const sorted = await fx.call('alt', 'GET', '/v2.0/networks?project_id=p-alt&sort_key=name&sort_dir=desc');
    assert.deepEqual(sorted.body.networks.map((n: any) => n.name), ['p3', 'p2', 'p1']);
    const page1 = await fx.call('alt', 'GET', '/v2.0/networks?project_id=p-alt&sort_key=name&sort_dir=asc&limit=2');
    assert.deepEqual(page1.body.networks.map((n: any) => n.name), ['p1', 'p2']);
    const next = page1.body.networks_links.find((l: any) => l.rel === 'next');
    assert.ok(next);
    const page2 = await fx.call('alt', 'GET', next.href.slice(next.href.indexOf('/v2.0')));
    assert.deepEqual(page2.body.networks.map((n: any) => n.name), ['p3']);
    assert.ok(!page2.body.networks_links.some((l: any) => l.rel === 'next'));
    const prev = page2.body.networks_links.find((l: any) => l.rel === 'previous');
    const back = await fx.call('alt', 'GET', prev.href.slice(prev.href.indexOf('/v2.0')));
    assert.deepEqual(back.body.networks.map((n: any) => n.name), ['p1', 'p2']);
    assert.equal((await fx.call('alt', 'GET', '/v2.0/networks?limit=x')).status, 400);
    assert.equal((await fx.call('alt', 'GET', '/v2.0/networks?sort_key=colour')).status, 400);
    assert.equal((await fx.call('alt', 'GET', `/v2.0/networks?marker=${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`)).status, 404);
  });
});

describe('subnets', () => {
  test('defaults: gateway is the first host, pools the rest; the network lists the subnet', async () => {
    const n = await fx.make('demo', 'network', { name: 'sn' });
    const s = await fx.make('demo', 'subnet', { network_id: n.id, cidr: '198.18.16.0/24', ip_version: 4, name: 's1', dns_nameservers: ['198.18.16.53'] });
    assert.equal(s.gateway_ip, '198.18.16.1');
    assert.deepEqual(s.allocation_pools, [{ start: '198.18.16.2', end: '198.18.16.254' }]);
    assert.equal(s.enable_dhcp, true);
    assert.equal(s.ip_version, 4);
    assert.deepEqual(s.dns_nameservers, ['198.18.16.53']);
    assert.deepEqual(s.host_routes, []);
    assert.equal(s.subnetpool_id, null);
    assert.deepEqual((await fx.call('demo', 'GET', `/v2.0/networks/${n.id}`)).body.network.subnets, [s.id]);
    const up = await fx.call('demo', 'PUT', `/v2.0/subnets/${s.id}`, { subnet: { name: 's1b', dns_nameservers: [] } });
    assert.equal(up.body.subnet.name, 's1b');
    assert.equal((await fx.call('demo', 'PUT', `/v2.0/subnets/${s.id}`, { subnet: { cidr: '10.0.0.0/24' } })).status, 400);
    assert.equal((await fx.call('demo', 'GET', `/v2.0/subnets?network_id=${n.id}`)).body.subnets.length, 1);
  });

  test('overlapping, invalid and IPv6 CIDRs are 400s that say what is wrong', async () => {
    const n = await fx.make('demo', 'network', { name: 'ov' });
    const first = await fx.make('demo', 'subnet', { network_id: n.id, cidr: '198.18.32.0/24', ip_version: 4 });
    const other = await fx.make('alt', 'network', { name: 'ov-alt' });
    const overlap = await fx.call('alt', 'POST', '/v2.0/subnets', { subnet: { network_id: other.id, cidr: '198.18.32.128/25', ip_version: 4 } });
    assert.equal(overlap.status, 400);
    assert.match(overlap.body.NeutronError.message, new RegExp(`overlaps with another subnet ${first.id}`));
    const hostBits = await fx.call('demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, cidr: '198.18.33.5/24', ip_version: 4 } });
    assert.equal(hostBits.status, 400);
    assert.match(hostBits.body.NeutronError.message, /198\.18\.33\.0\/24/);
    const garbage = await fx.call('demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, cidr: 'not-a-cidr', ip_version: 4 } });
    assert.equal(garbage.status, 400);
    assert.match(garbage.body.NeutronError.message, /not-a-cidr/);
    const v6 = await fx.call('demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, cidr: 'fd00::/64', ip_version: 6 } });
    assert.equal(v6.status, 400);
    assert.match(v6.body.NeutronError.message, /IPv6/);
    const gw = await fx.call('demo', 'POST', '/v2.0/subnets', {
      subnet: { network_id: n.id, cidr: '198.18.34.0/24', gateway_ip: '198.18.34.10', allocation_pools: [{ start: '198.18.34.5', end: '198.18.34.20' }] },
    });
    assert.equal(gw.status, 409);
    assert.equal(gw.body.NeutronError.type, 'GatewayConflictWithAllocationPools');
    const outside = await fx.call('demo', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, cidr: '198.18.35.0/24', gateway_ip: '10.0.0.1' } });
    assert.equal(outside.status, 400);
    assert.match(outside.body.NeutronError.message, /10\.0\.0\.1/);
    assert.equal((await fx.call('alt', 'POST', '/v2.0/subnets', { subnet: { network_id: n.id, cidr: '198.18.36.0/24' } })).status, 404);
  });

  test('DHCP without a gateway gets a network:dhcp port; deleting the network takes it along', async () => {
    const n = await fx.make('demo', 'network', { name: 'nogw' });
    const s = await fx.make('demo', 'subnet', { network_id: n.id, cidr: '198.18.40.0/28', gateway_ip: null });
    assert.equal(s.gateway_ip, null);
    assert.deepEqual(s.allocation_pools, [{ start: '198.18.40.1', end: '198.18.40.14' }]);
    const ports = (await fx.call('demo', 'GET', `/v2.0/ports?network_id=${n.id}`)).body.ports;
    assert.equal(ports.length, 1);
    assert.equal(ports[0].device_owner, 'network:dhcp');
    assert.equal(ports[0].device_id, `dhcp-${s.id}`);
    assert.deepEqual(ports[0].fixed_ips, [{ subnet_id: s.id, ip_address: '198.18.40.1' }]);
    assert.equal((await fx.call('demo', 'DELETE', `/v2.0/networks/${n.id}`)).status, 204);
    assert.equal((await fx.call('demo', 'GET', `/v2.0/ports?network_id=${n.id}`)).body.ports.length, 0);
  });
});
