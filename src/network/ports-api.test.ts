import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startNetFixture, type NetFixture } from './testing.js';

let fx: NetFixture;
before(async () => {
  fx = await startNetFixture();
});
after(() => fx.close());

async function netWithSubnet(user: string, cidr: string, extra: Record<string, unknown> = {}) {
  const n = await fx.make(user, 'network', { name: `n-${cidr}` });
  const s = await fx.make(user, 'subnet', { network_id: n.id, cidr, ip_version: 4, ...extra });
  return { n, s };
}

describe('ports', () => {
  test('create takes the lowest free address, a fa:16:3e MAC and the default security group', async () => {
    const { n, s } = await netWithSubnet('demo', '198.18.50.0/24');
    const p = await fx.make('demo', 'port', { network_id: n.id, name: 'p1' });
    assert.deepEqual(p.fixed_ips, [{ subnet_id: s.id, ip_address: '198.18.50.2' }]);
    assert.match(p.mac_address, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
    assert.equal(p.status, 'DOWN');
    assert.equal(p.device_owner, '');
    assert.equal(p.port_security_enabled, true);
    assert.equal(p.security_groups.length, 1);
    const groups = (await fx.call('demo', 'GET', '/v2.0/security-groups?name=default')).body.security_groups;
    assert.deepEqual(p.security_groups, [groups[0].id]);
    assert.equal(p['binding:vnic_type'], 'normal');
    assert.equal(p['binding:host_id'], undefined, 'binding details are for admins');
    const p2 = await fx.make('demo', 'port', { network_id: n.id });
    assert.equal(p2.fixed_ips[0].ip_address, '198.18.50.3');
    const asAdmin = (await fx.call('admin', 'GET', `/v2.0/ports/${p.id}`)).body.port;
    assert.equal(asAdmin['binding:vif_type'], 'unbound');
    assert.equal((await fx.call('alt', 'GET', `/v2.0/ports/${p.id}`)).status, 404);
  });

  test('fixed IPs: outside the subnet is 400, taken is 409, a freed address is reused', async () => {
    const { n, s } = await netWithSubnet('demo', '198.18.51.0/24');
    const p = await fx.make('demo', 'port', { network_id: n.id, fixed_ips: [{ ip_address: '198.18.51.77' }] });
    assert.deepEqual(p.fixed_ips, [{ subnet_id: s.id, ip_address: '198.18.51.77' }]);
    const taken = await fx.call('demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, fixed_ips: [{ subnet_id: s.id, ip_address: '198.18.51.77' }] } });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.NeutronError.type, 'IpAddressAlreadyAllocated');
    const gw = await fx.call('demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, fixed_ips: [{ ip_address: '198.18.51.1' }] } });
    assert.equal(gw.status, 409);
    const outside = await fx.call('demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, fixed_ips: [{ subnet_id: s.id, ip_address: '198.18.52.9' }] } });
    assert.equal(outside.status, 400);
    assert.equal(outside.body.NeutronError.type, 'InvalidIpForSubnet');
    assert.match(outside.body.NeutronError.message, /198\.18\.52\.9/);
    const noSubnet = await fx.call('demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, fixed_ips: [{ ip_address: '10.1.1.1' }] } });
    assert.equal(noSubnet.status, 400);
    const broadcast = await fx.call('demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, fixed_ips: [{ ip_address: '198.18.51.255' }] } });
    assert.equal(broadcast.status, 400);
    const moved = await fx.call('demo', 'PUT', `/v2.0/ports/${p.id}`, { port: { fixed_ips: [{ ip_address: '198.18.51.78' }] } });
    assert.equal(moved.status, 200);
    assert.deepEqual(moved.body.port.fixed_ips.map((f: any) => f.ip_address), ['198.18.51.78']);
    const again = await fx.make('demo', 'port', { network_id: n.id, fixed_ips: [{ ip_address: '198.18.51.77' }] });
    assert.equal(again.fixed_ips[0].ip_address, '198.18.51.77');
    const ports = await fx.call('demo', 'GET', `/v2.0/ports?fixed_ips=ip_address%3D198.18.51.78`);
    assert.deepEqual(ports.body.ports.map((x: any) => x.id), [p.id]);
  });

  test('50 concurrent creates on a /26 get 50 distinct addresses; then the pool runs out with 409', async () => {
    const { n } = await netWithSubnet('demo', '198.18.60.0/26');
    const made = await Promise.all(Array.from({ length: 50 }, () => fx.call('demo', 'POST', '/v2.0/ports', { port: { network_id: n.id } })));
    assert.deepEqual([...new Set(made.map((r) => r.status))], [201]);
    const ips = new Set(made.map((r) => r.body.port.fixed_ips[0].ip_address));
    assert.equal(ips.size, 50);
    const rest = await Promise.all(Array.from({ length: 14 }, () => fx.call('demo', 'POST', '/v2.0/ports', { port: { network_id: n.id } })));
    assert.equal(rest.filter((r) => r.status === 201).length, 11, '61 pool addresses in a /26 with a gateway');
    const failed = rest.filter((r) => r.status !== 201);
    assert.ok(failed.every((r) => r.status === 409 && r.body.NeutronError.type === 'IpAddressGenerationFailure'));
    const count = (await fx.call('demo', 'GET', `/v2.0/ports?network_id=${n.id}`)).body.ports.length;
    assert.equal(count, 61, 'failed creates leave no port behind');
  });

  test('admins bind ports; users may not set the host; binding makes the port ACTIVE and tells that host', async () => {
    const { n } = await netWithSubnet('demo', '198.18.53.0/24');
    const denied = await fx.call('demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, 'binding:host_id': 'h1' } });
    assert.equal(denied.status, 403);
    const p = await fx.make('admin', 'port', { network_id: n.id, project_id: 'p-demo', mac_address: 'FA:16:3E:00:00:01', device_id: 'vm-1', 'binding:host_id': 'h1' });
    assert.equal(p.mac_address, 'fa:16:3e:00:00:01');
    assert.equal(p.status, 'ACTIVE');
    assert.equal(p['binding:vif_type'], 'bridge');
    assert.deepEqual(fx.notices.at(-1), ['h1']);
    const dup = await fx.call('admin', 'POST', '/v2.0/ports', { port: { network_id: n.id, mac_address: 'fa:16:3e:00:00:01' } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.NeutronError.type, 'MacAddressInUse');
    const inUse = await fx.call('demo', 'DELETE', `/v2.0/networks/${n.id}`);
    assert.equal(inUse.status, 409);
    assert.equal(inUse.body.NeutronError.type, 'NetworkInUse');
    assert.equal((await fx.call('demo', 'DELETE', `/v2.0/ports/${p.id}`)).status, 204);
    assert.deepEqual(fx.notices.at(-1), ['h1']);
    assert.equal((await fx.call('demo', 'DELETE', `/v2.0/networks/${n.id}`)).status, 204);
  });

  test('port security off means no groups; groups with port security off is a 409', async () => {
    const { n } = await netWithSubnet('demo', '198.18.54.0/24');
    const p = await fx.make('demo', 'port', { network_id: n.id, port_security_enabled: false });
    assert.deepEqual(p.security_groups, []);
    const sg = (await fx.call('demo', 'POST', '/v2.0/security-groups', { security_group: { name: 'web' } })).body.security_group;
    const both = await fx.call('demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, port_security_enabled: false, security_groups: [sg.id] } });
    assert.equal(both.status, 409);
    const withSg = await fx.make('demo', 'port', { network_id: n.id, security_groups: [sg.id] });
    assert.deepEqual(withSg.security_groups, [sg.id]);
    const bogus = await fx.call('demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, security_groups: ['nope'] } });
    assert.equal(bogus.status, 404);
  });

  test('another project may make ports on a shared network but not see others\' ports', async () => {
    const n = await fx.make('admin', 'network', { name: 'shared-p', shared: true });
    await fx.make('admin', 'subnet', { network_id: n.id, cidr: '198.18.55.0/24' });
    const p = await fx.make('alt', 'port', { network_id: n.id });
    assert.equal(p.project_id, 'p-alt');
    assert.ok(!(await fx.call('demo', 'GET', `/v2.0/ports?network_id=${n.id}`)).body.ports.some((x: any) => x.id === p.id));
    const sub = (await fx.call('alt', 'GET', `/v2.0/subnets?network_id=${n.id}`)).body.subnets;
    assert.equal(sub.length, 1);
    assert.equal((await fx.call('alt', 'DELETE', `/v2.0/subnets/${sub[0].id}`)).status, 403);
    const inUse = await fx.call('admin', 'DELETE', `/v2.0/subnets/${sub[0].id}`);
    assert.equal(inUse.status, 409);
    assert.equal(inUse.body.NeutronError.type, 'SubnetInUse');
  });
});

describe('who may set a port\'s MAC and fixed IP addresses (Neutron\'s create_port/update_port policy)', () => {
  test('the network\'s owner may choose the MAC on create; updating a MAC stays admin-only', async () => {
    const { n } = await netWithSubnet('demo', '198.18.56.0/24');
    const first = await fx.make('demo', 'port', { network_id: n.id });
    assert.equal((await fx.call('demo', 'DELETE', `/v2.0/ports/${first.id}`)).status, 204);
    const again = await fx.make('demo', 'port', { network_id: n.id, mac_address: first.mac_address.toUpperCase() });
    assert.equal(again.mac_address, first.mac_address);
    assert.equal((await fx.call('demo', 'GET', `/v2.0/ports/${again.id}`)).body.port.mac_address, first.mac_address);
    const bad = await fx.call('demo', 'POST', '/v2.0/ports', { port: { network_id: n.id, mac_address: 'not-a-mac' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.NeutronError.message, /not-a-mac/);
    const update = await fx.call('demo', 'PUT', `/v2.0/ports/${again.id}`, { port: { mac_address: 'fa:16:3e:00:00:56' } });
    assert.equal(update.status, 403);
    assert.match(update.body.NeutronError.message, /update_port:mac_address/);
  });

  test('on a shared network another project may ask for a subnet but not for a MAC or an address', async () => {
    const n = await fx.make('admin', 'network', { name: 'shared-57', shared: true });
    const s = await fx.make('admin', 'subnet', { network_id: n.id, cidr: '198.18.57.0/24' });
    const mac = await fx.call('alt', 'POST', '/v2.0/ports', { port: { network_id: n.id, mac_address: 'fa:16:3e:00:00:57' } });
    assert.equal(mac.status, 403);
    assert.match(mac.body.NeutronError.message, /create_port:mac_address/);
    const ip = await fx.call('alt', 'POST', '/v2.0/ports', { port: { network_id: n.id, fixed_ips: [{ subnet_id: s.id, ip_address: '198.18.57.9' }] } });
    assert.equal(ip.status, 403);
    assert.match(ip.body.NeutronError.message, /create_port:fixed_ips:ip_address/);
    const bySubnet = await fx.make('alt', 'port', { network_id: n.id, fixed_ips: [{ subnet_id: s.id }] });
    assert.equal(bySubnet.fixed_ips[0].subnet_id, s.id);
    const move = await fx.call('alt', 'PUT', `/v2.0/ports/${bySubnet.id}`, { port: { fixed_ips: [{ subnet_id: s.id, ip_address: '198.18.57.9' }] } });
    assert.equal(move.status, 403);
    const asAdmin = await fx.make('admin', 'port', { network_id: n.id, project_id: 'p-alt', fixed_ips: [{ ip_address: '198.18.57.9' }] });
    assert.equal(asAdmin.fixed_ips[0].ip_address, '198.18.57.9');
    assert.equal((await fx.call('alt', 'DELETE', `/v2.0/ports/${asAdmin.id}`)).status, 204);
    assert.equal((await fx.call('alt', 'DELETE', `/v2.0/ports/${bySubnet.id}`)).status, 204);
  });
});
