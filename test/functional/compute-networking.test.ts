/**
 * The Compute API's networking against a whole cloud (fake driver, real network service):
 * servers get ports and addresses, os-interface attaches and detaches through the compute
 * host, security groups follow the server's ports, and Nova's proxies (≤ 2.35) speak to the
 * same groups and networks the Network API shows.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, waitFor, type Client, type TestCloud } from '../helpers/cloud.js';

const C = '/compute/v2.1';
const N = '/network/v2.0';

describe('compute API networking (whole cloud)', () => {
  let tc: TestCloud;
  let imageId: string;
  let wired = false;
  let demoNet: string;
  const mv = (v: string) => ({ 'openstack-api-version': `compute ${v}` });
  const server = async (id: string) => (await tc.demo.get(`${C}/servers/${id}`)).body.server;
  const boot = async (c: Client, extra: Record<string, unknown>, version = '2.37') =>
    c.post(`${C}/servers`, { server: { name: 'net-vm', imageRef: imageId, flavorRef: '1', ...extra } }, mv(version));
  const active = (id: string) => waitFor(async () => (await server(id))?.status === 'ACTIVE', `server ${id} ACTIVE`);
  const needsNetwork = (t: TestContext) => {
    if (!wired) t.skip('the network service is not wired into this cloud yet (no /network/v2.0)');
    return !wired;
  };

  before(async () => {
    tc = await startTestCloud();
    imageId = (await tc.demo.get('/image/v2/images')).body.images.find((i: any) => i.status === 'active').id;
    wired = (await tc.demo.get(`${N}/networks`)).status === 200;
  });
  after(async () => tc?.close());

  it('a server booted without naming a network gets a port on the shared network; addresses and os-interface show it', async (t) => {
    if (needsNetwork(t)) return;
    const r = await boot(tc.demo, { networks: 'auto' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.server.id;
    await active(id);
    const s = await server(id);
    const [addr] = s.addresses.private;
    assert.match(addr.addr, /^198\.1[89]\./);
    assert.equal(addr['OS-EXT-IPS:type'], 'fixed');
    const ifs = (await tc.demo.get(`${C}/servers/${id}/os-interface`)).body.interfaceAttachments;
    assert.equal(ifs.length, 1);
    assert.equal(ifs[0].mac_addr, addr['OS-EXT-IPS-MAC:mac_addr']);
    assert.deepEqual(ifs[0].fixed_ips.map((f: any) => f.ip_address), [addr.addr]);
    assert.equal(ifs[0].port_state, 'ACTIVE');
    const groups = (await tc.demo.get(`${C}/servers/${id}/os-security-groups`)).body.security_groups;
    assert.deepEqual(groups.map((g: any) => g.name), ['default']);
  });

  it('a project network with a fixed IP; taken addresses, unknown networks and used ports are refused before anything is made', async (t) => {
    if (needsNetwork(t)) return;
    const n = await tc.demo.post(`${N}/networks`, { network: { name: 'demo-net' } });
    assert.equal(n.status, 201, JSON.stringify(n.body));
    demoNet = n.body.network.id;
    assert.equal((await tc.demo.post(`${N}/subnets`, { subnet: { network_id: demoNet, cidr: '198.18.64.0/24', ip_version: 4 } })).status, 201);
    const r = await boot(tc.demo, { networks: [{ uuid: demoNet, fixed_ip: '198.18.64.50' }] });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await active(r.body.server.id);
    assert.equal((await server(r.body.server.id)).addresses['demo-net'][0].addr, '198.18.64.50');
    const before = (await tc.demo.get(`${C}/servers`)).body.servers.length;
    const taken = await boot(tc.demo, { networks: [{ uuid: demoNet, fixed_ip: '198.18.64.50' }] });
    assert.equal(taken.status, 400);
    assert.match(taken.body.badRequest.message, /198\.18\.64\.50 is already in use on instance/);
    const ambiguous = await boot(tc.demo, { networks: 'auto' });
    assert.equal(ambiguous.status, 409);
    const unknown = await boot(tc.demo, { networks: [{ uuid: '5a1d0c3e-7f6b-4e2a-9c8d-1b2a3c4d5e6f' }] });
    assert.equal(unknown.status, 400);
    const port = (await tc.demo.get(`${N}/ports?device_id=${r.body.server.id}`)).body.ports[0];
    const used = await boot(tc.demo, { networks: [{ port: port.id }] });
    assert.equal(used.status, 409);
    assert.equal((await tc.demo.get(`${C}/servers`)).body.servers.length, before);
  });

  it('os-interface attach and detach through the compute host', async (t) => {
    if (needsNetwork(t)) return;
    const r = await boot(tc.demo, { networks: 'none' });
    const id = r.body.server.id;
    await active(id);
    const P = `${C}/servers/${id}/os-interface`;
    const att = await tc.demo.post(P, { interfaceAttachment: { net_id: demoNet, fixed_ips: [{ ip_address: '198.18.64.77' }] } });
    assert.equal(att.status, 200, JSON.stringify(att.body));
    const portId = att.body.interfaceAttachment.port_id;
    assert.deepEqual((await server(id)).addresses['demo-net'].map((a: any) => a.addr), ['198.18.64.77']);
    const actions = (await tc.demo.get(`${C}/servers/${id}/os-instance-actions`)).body.instanceActions.map((a: any) => a.action);
    assert.ok(actions.includes('attach_interface'));
    assert.equal((await tc.demo.delete(`${P}/${portId}`)).status, 202);
    assert.deepEqual((await tc.demo.get(P)).body.interfaceAttachments, []);
    assert.deepEqual((await server(id)).addresses, {});
    assert.equal((await tc.demo.get(`${N}/ports/${portId}`)).status, 404);
  });

  it('security groups: made through the 2.35 proxy, added to and removed from a server\'s ports', async (t) => {
    if (needsNetwork(t)) return;
    const r = await boot(tc.demo, { networks: [{ uuid: demoNet }] });
    const id = r.body.server.id;
    await active(id);
    const web = await tc.demo.post(`${C}/os-security-groups`, { security_group: { name: 'web', description: 'http' } }, mv('2.35'));
    assert.equal(web.status, 200, JSON.stringify(web.body));
    const g = web.body.security_group;
    const rule = await tc.demo.post(`${C}/os-security-group-rules`, { security_group_rule: { parent_group_id: g.id, ip_protocol: 'tcp', from_port: 80, to_port: 80, cidr: '0.0.0.0/0' } }, mv('2.35'));
    assert.equal(rule.status, 200, JSON.stringify(rule.body));
    const neutronRules = (await tc.demo.get(`${N}/security-groups/${g.id}`)).body.security_group.security_group_rules;
    assert.ok(neutronRules.some((x: any) => x.direction === 'ingress' && x.protocol === 'tcp' && x.port_range_min === 80 && x.port_range_max === 80));
    assert.equal((await tc.demo.get(`${C}/os-security-groups`, mv('2.36'))).status, 404);

    assert.equal((await tc.demo.post(`${C}/servers/${id}/action`, { addSecurityGroup: { name: 'web' } })).status, 202);
    const ports = (await tc.demo.get(`${N}/ports?device_id=${id}`)).body.ports;
    assert.ok(ports.length >= 1 && ports.every((p: any) => p.security_groups.includes(g.id)));
    assert.deepEqual((await server(id)).security_groups.map((x: any) => x.name).sort(), ['default', 'web']);
    assert.equal((await tc.demo.delete(`${C}/os-security-groups/${g.id}`, mv('2.35'))).status, 400, 'in use');
    assert.equal((await tc.demo.post(`${C}/servers/${id}/action`, { removeSecurityGroup: { name: 'web' } })).status, 202);
    assert.deepEqual((await server(id)).security_groups, [{ name: 'default' }]);
    assert.equal((await tc.demo.delete(`${C}/os-security-groups/${g.id}`, mv('2.35'))).status, 202);
  });

  it('os-networks and os-tenant-networks list what the Network API shows', async (t) => {
    if (needsNetwork(t)) return;
    const neutron = (await tc.demo.get(`${N}/networks`)).body.networks.map((n: any) => n.id).sort();
    const nova = (await tc.demo.get(`${C}/os-networks`)).body.networks.map((n: any) => n.id).sort();
    assert.deepEqual(nova, neutron);
    const tenant = (await tc.demo.get(`${C}/os-tenant-networks`)).body.networks;
    assert.ok(tenant.some((n: any) => n.label === 'private' && n.cidr === 'None'));
  });
});
