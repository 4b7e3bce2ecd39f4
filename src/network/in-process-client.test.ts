import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startNetFixture, type NetFixture } from './testing.js';
import { bridgeName, tapName } from './types.js';

let fx: NetFixture;
before(async () => {
  fx = await startNetFixture();
});
after(() => fx.close());

const base = { project_id: 'p-cl', hostname: 'vm', host: 'host-a', security_groups: [] as string[] };

async function addInstance(uuid: string, hostname: string) {
  await fx.sql.run(
    `INSERT INTO instances (uuid, project_id, user_id, display_name, hostname, flavor_id, flavor, vm_state, memory_mb, vcpus, root_gb,
       reservation_id, created_at, updated_at)
     VALUES (?, 'p-hs', 'u', ?, ?, 1, '{}', 'building', 64, 1, 1, 'r-1', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')`,
    [uuid, hostname, hostname],
  );
}

describe('NetworkClient', () => {
  test("'auto' with no network is a 400, with one network uses it, with several is a 409", async () => {
    const c = fx.service.client;
    await assert.rejects(c.allocateForInstance({ ...base, instance_uuid: 'i-0', requested: 'auto' }), (e: any) => e.kind === 'Invalid' && /no network/i.test(e.message));
    assert.deepEqual(await c.allocateForInstance({ ...base, instance_uuid: 'i-0', requested: 'none' }), []);
    await fx.service.seed();
    await fx.service.seed();
    const nets = (await fx.call('admin', 'GET', '/v2.0/networks?name=private')).body.networks;
    assert.equal(nets.length, 1, 'seed is idempotent');
    assert.equal(nets[0].shared, true);
    const subnet = (await fx.call('admin', 'GET', `/v2.0/subnets?network_id=${nets[0].id}`)).body.subnets[0];
    assert.equal(subnet.name, 'private-subnet');
    assert.equal(subnet.cidr, '198.18.0.0/20');
    assert.equal(subnet.gateway_ip, '198.18.0.1');

    const vifs = await c.allocateForInstance({ ...base, instance_uuid: 'i-1', requested: 'auto' });
    assert.equal(vifs.length, 1);
    assert.equal(vifs[0].network.label, 'private');
    assert.equal(vifs[0].network.bridge, bridgeName(nets[0].id));
    assert.equal(vifs[0].devname, tapName(vifs[0].id));
    assert.equal(vifs[0].preserve_on_delete, false);
    assert.deepEqual(vifs[0].network.subnets[0].ips, [{ address: '198.18.0.2', type: 'fixed' }]);
    assert.equal(vifs[0].network.subnets[0].gateway, '198.18.0.1');
    assert.equal(vifs[0].network.subnets[0].dhcp_server, '198.18.0.1');

    const again = await c.allocateForInstance({ ...base, instance_uuid: 'i-1', host: 'host-b', requested: 'auto' });
    assert.equal(again[0].id, vifs[0].id, 'allocation is idempotent');
    const port = (await fx.call('admin', 'GET', `/v2.0/ports/${vifs[0].id}`)).body.port;
    assert.equal(port['binding:host_id'], 'host-b', 'a reschedule rebinds to the new host');
    assert.equal(port.device_owner, 'compute:nova');
    assert.equal(port.status, 'ACTIVE');
    assert.ok(fx.notices.some((h) => h?.includes('host-a') && h.includes('host-b')));

    await fx.make('admin', 'network', { name: 'second', project_id: 'p-cl' });
    await assert.rejects(
      c.allocateForInstance({ ...base, instance_uuid: 'i-2', requested: 'auto' }),
      (e: any) => e.kind === 'Conflict' && e.message === 'Multiple possible networks found, use a Network ID to be more specific.',
    );
    await c.deallocateForInstance({ instance_uuid: 'i-1' });
    assert.equal((await fx.call('admin', 'GET', `/v2.0/ports/${vifs[0].id}`)).status, 404);
  });

  test('the list form: networks with fixed IPs and user ports, all or nothing; deallocate unbinds user ports', async () => {
    const c = fx.service.client;
    const n = await fx.make('admin', 'network', { name: 'cl-net', project_id: 'p-cl' });
    await fx.make('admin', 'subnet', { network_id: n.id, project_id: 'p-cl', cidr: '198.18.80.0/24' });
    const userPort = await fx.make('admin', 'port', { network_id: n.id, project_id: 'p-cl', name: 'mine' });
    const foreign = await fx.make('admin', 'port', { network_id: n.id, project_id: 'p-other' });

    await assert.rejects(
      c.allocateForInstance({ ...base, instance_uuid: 'i-3', requested: [{ uuid: n.id, fixed_ip: '198.18.80.50' }, { port: foreign.id }] }),
      (e: any) => e.kind === 'NotFound',
    );
    assert.equal((await fx.call('admin', 'GET', `/v2.0/ports?device_id=i-3`)).body.ports.length, 0, 'nothing half-made');

    const vifs = await c.allocateForInstance({ ...base, instance_uuid: 'i-3', requested: [{ uuid: n.id, fixed_ip: '198.18.80.50' }, { port: userPort.id }] });
    assert.deepEqual(vifs.map((v) => v.network.subnets[0].ips[0].address), ['198.18.80.50', userPort.fixed_ips[0].ip_address]);
    assert.deepEqual(vifs.map((v) => v.preserve_on_delete), [false, true]);
    assert.deepEqual((await c.instanceNetworkInfo({ instance_uuid: 'i-3' })).map((v) => v.id), vifs.map((v) => v.id));
    await assert.rejects(
      c.allocateForInstance({ ...base, instance_uuid: 'i-4', requested: [{ port: userPort.id }] }),
      (e: any) => e.kind === 'Conflict' && /in use/.test(e.message),
    );
    await assert.rejects(
      c.allocateForInstance({ ...base, instance_uuid: 'i-4', requested: [{ uuid: n.id, fixed_ip: '198.18.80.50' }] }),
      (e: any) => e.details.neutronType === 'IpAddressAlreadyAllocated',
    );

    const extra = await c.attachInterface({ ...base, instance_uuid: 'i-3', net_id: n.id });
    assert.equal((await c.instanceNetworkInfo({ instance_uuid: 'i-3' })).at(-1)!.id, extra.id);
    await c.detachInterface({ instance_uuid: 'i-3', port_id: extra.id });
    assert.equal((await fx.call('admin', 'GET', `/v2.0/ports/${extra.id}`)).status, 404);
    await assert.rejects(c.detachInterface({ instance_uuid: 'i-3', port_id: foreign.id }), (e: any) => e.kind === 'NotFound');

    await c.deallocateForInstance({ instance_uuid: 'i-3' });
    await c.deallocateForInstance({ instance_uuid: 'i-3' });
    const kept = (await fx.call('admin', 'GET', `/v2.0/ports/${userPort.id}`)).body.port;
    assert.equal(kept.device_id, '');
    assert.equal(kept['binding:host_id'], '');
    assert.equal(kept.status, 'DOWN');
    assert.equal((await fx.call('admin', 'GET', `/v2.0/ports?network_id=${n.id}&device_id=i-3`)).body.ports.length, 0);
    assert.equal((await fx.service.portByFixedIp('198.18.80.50')), null);
    assert.equal((await fx.service.portByFixedIp(userPort.fixed_ips[0].ip_address))?.port_id, userPort.id);
  });

  test("hostState: the host's networks, bridge addresses, ports with hostnames and rules", async () => {
    const c = fx.service.client;
    const n = await fx.make('admin', 'network', { name: 'hs', project_id: 'p-hs' });
    const s = await fx.make('admin', 'subnet', { network_id: n.id, project_id: 'p-hs', cidr: '198.18.90.0/24', gateway_ip: null });
    const uuid = '0b7c3f7e-1111-4222-8333-944445555666';
    await addInstance(uuid, 'web-1');
    const [vif] = await c.allocateForInstance({ ...base, project_id: 'p-hs', instance_uuid: uuid, host: 'host-hs', requested: [{ uuid: n.id }] });
    assert.equal(vif.network.subnets[0].dhcp_server, '198.18.90.1', 'the DHCP port took the first address');
    assert.equal(vif.network.subnets[0].ips[0].address, '198.18.90.2');
    const st = await fx.service.agentSource.hostState('host-hs');
    assert.equal(st.host, 'host-hs');
    assert.deepEqual(st.networks.map((x) => x.id), [n.id]);
    assert.deepEqual(st.networks[0].subnets[0], {
      id: s.id, cidr: '198.18.90.0/24', gateway_ip: null, bridge_address: '198.18.90.1', enable_dhcp: true, dns_nameservers: [], host_routes: [],
    });
    assert.equal(st.ports.length, 1, 'the DHCP port is not a tap');
    const p = st.ports[0];
    assert.equal(p.id, vif.id);
    assert.equal(p.mac, vif.address);
    assert.equal(p.hostname, 'web-1');
    assert.equal(p.port_security, true);
    assert.ok(p.egress.length > 0, 'the default group lets traffic out');
    assert.ok(p.ingress.some((r) => r.remote?.includes('198.18.90.2/32')), 'the default group admits its members');
    assert.deepEqual((await fx.service.agentSource.hostState('nowhere')).ports, []);
  });
});
