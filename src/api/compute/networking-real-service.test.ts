/**
 * The Compute API's networking parts against the real network service (createNetworkService
 * over the kit's database): server create checks, os-interface with the real NetworkClient
 * standing in for the compute host, security group actions and the Nova proxies.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IMAGE_ID, placeOnHost, startKit, type Kit } from './server-test-kit.js';
import { createNetworkService, type NetworkService } from '../../network/service.js';
import { faultBody } from '../../http/faults.js';
import { Microversion } from '../../http/microversion.js';
import type { ApiRequest, RequestContext } from '../../http/types.js';
import { mountServerInterfaces } from './server-interfaces.js';
import { mountServerSecurityGroups } from './server-actions-secgroups.js';
import { mountSecurityGroupsProxy } from './security-groups-proxy.js';
import { mountNetworksProxy } from './networks-proxy.js';

const message = (r: { body: any }) => (Object.values(r.body ?? {})[0] as any)?.message;

describe('Compute API networking over the real network service', () => {
  let k: Kit;
  let svc: NetworkService;
  let demoNet: string;
  /** A Network API (/v2.0) request as ctx, straight to the service's router. */
  const neutron = async (ctx: RequestContext, method: string, path: string, body?: unknown) => {
    const url = new URL(path, 'http://x');
    const m = svc.router.match(method, url.pathname);
    assert.ok(m && m !== 'method-not-allowed', `${method} ${path}`);
    const req = { method, path: url.pathname, params: m.params, query: url.searchParams, headers: {}, body, raw: undefined as never, ctx, mv: new Microversion(2, 1), baseUrl: 'http://cloud/network', requestId: 'r' } as ApiRequest;
    try {
      const out = await m.handler(req);
      return { status: out.status, body: out.body as any };
    } catch (e) {
      const f = faultBody('neutron', e);
      if (f.status === 500) throw e;
      return { status: f.status, body: f.body as any };
    }
  };
  const boot = async (server: Record<string, unknown>, mv = '2.37') =>
    k.call(k.demo, 'POST', '/v2.1/servers', { server: { name: 'vm', imageRef: IMAGE_ID, flavorRef: '1', ...server } }, mv);

  before(async () => {
    k = await startKit({ mounts: [mountServerInterfaces, mountServerSecurityGroups, mountSecurityGroupsProxy, mountNetworksProxy] });
    await k.sql.run("INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('p-demo', 'instances', 100), ('p-demo', 'cores', 100)");
    svc = createNetworkService({ sql: k.sql, bus: k.deps.bus });
    await svc.seed();
    k.deps.network = { api: svc.api, client: svc.client };
    // The recording compute host does what the real one does with the network client.
    const record = async (uuid: string) => {
      const vifs = await svc.client.instanceNetworkInfo({ instance_uuid: uuid });
      await k.sql.run('UPDATE instances SET network_info = ? WHERE uuid = ?', [JSON.stringify(vifs), uuid]);
    };
    k.replies.set('attach_interface', async (a) => {
      const vif = await svc.client.attachInterface({ instance_uuid: a.instance.uuid, project_id: a.instance.project_id, hostname: 'vm', host: 'host1', net_id: a.net_id, port_id: a.port_id, fixed_ip: a.fixed_ip });
      await record(a.instance.uuid);
      return vif;
    });
    k.replies.set('detach_interface', async (a) => {
      await svc.client.detachInterface({ instance_uuid: a.instance.uuid, port_id: a.port_id });
      await record(a.instance.uuid);
    });
  });
  after(async () => k.close());

  it('server create: auto on the only (shared) network; ambiguity, unknown networks, taken fixed IPs', async () => {
    assert.equal((await boot({ networks: 'auto' })).status, 202);
    const n = await neutron(k.demo, 'POST', '/v2.0/networks', { network: { name: 'demo-net' } });
    assert.equal(n.status, 201, JSON.stringify(n.body));
    demoNet = n.body.network.id;
    const bare = await boot({ networks: [{ uuid: demoNet }] });
    assert.equal(message(bare), `Network ${demoNet} requires a subnet in order to boot instances on.`);
    assert.equal((await neutron(k.demo, 'POST', '/v2.0/subnets', { subnet: { network_id: demoNet, cidr: '198.18.16.0/24', ip_version: 4 } })).status, 201);
    assert.equal((await boot({ networks: 'auto' })).status, 409);
    assert.equal((await boot({ networks: [{ uuid: demoNet, fixed_ip: '198.18.16.20' }] })).status, 202);
    const port = await neutron(k.demo, 'POST', '/v2.0/ports', { port: { network_id: demoNet, fixed_ips: [{ ip_address: '198.18.16.30' }] } });
    assert.equal(port.status, 201, JSON.stringify(port.body));
    const taken = await boot({ networks: [{ uuid: demoNet, fixed_ip: '198.18.16.30' }] });
    assert.equal(taken.status, 400);
    assert.equal(message(taken), 'Fixed IP address 198.18.16.30 is already in use on instance .');
    assert.equal((await boot({ networks: [{ uuid: demoNet, fixed_ip: '198.18.17.1' }] })).status, 400);
    assert.equal((await boot({ networks: [{ port: port.body.port.id }] })).status, 202);
    const other = await neutron(k.other, 'POST', '/v2.0/networks', { network: { name: 'theirs' } });
    assert.equal(message(await boot({ networks: [{ uuid: other.body.network.id }] })), `Network ${other.body.network.id} could not be found.`);
    assert.equal(message(await boot({ networks: 'none', security_groups: [{ name: 'nope' }] })), 'Security group nope not found for project p-demo.');
  });

  it('os-interface: attach on a network with a fixed IP, list, tag, detach; the port is gone afterwards', async () => {
    const id = (await boot({ networks: 'none' })).body.server.id;
    await placeOnHost(k.sql, id);
    const P = `/v2.1/servers/${id}/os-interface`;
    const r = await k.call(k.demo, 'POST', P, { interfaceAttachment: { net_id: demoNet, fixed_ips: [{ ip_address: '198.18.16.44' }], tag: 'nic1' } }, '2.70');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const att = r.body.interfaceAttachment;
    assert.equal(att.net_id, demoNet);
    assert.deepEqual(att.fixed_ips.map((f: any) => f.ip_address), ['198.18.16.44']);
    assert.match(att.mac_addr, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
    assert.equal(att.port_state, 'ACTIVE');
    assert.equal(att.tag, 'nic1');
    const again = await k.call(k.demo, 'POST', P, { interfaceAttachment: { net_id: demoNet, fixed_ips: [{ ip_address: '198.18.16.44' }] } });
    assert.equal(again.status, 409);
    const show = await k.call(k.demo, 'GET', `/v2.1/servers/${id}`);
    assert.deepEqual(show.body.server.addresses['demo-net'], [{ version: 4, addr: '198.18.16.44', 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': att.mac_addr }]);
    assert.equal((await k.call(k.demo, 'GET', P)).body.interfaceAttachments.length, 1);
    assert.equal((await k.call(k.demo, 'DELETE', `${P}/${att.port_id}`)).status, 202);
    assert.deepEqual((await k.call(k.demo, 'GET', P)).body.interfaceAttachments, []);
    assert.equal((await neutron(k.demo, 'GET', `/v2.0/ports/${att.port_id}`)).status, 404, 'the port nova-ts made is deleted');
  });

  it('security groups: actions change the ports, the proxies speak Nova over the real groups', async () => {
    const id = (await boot({ networks: [{ uuid: demoNet }] })).body.server.id;
    await placeOnHost(k.sql, id);
    await k.call(k.demo, 'POST', `/v2.1/servers/${id}/os-interface`, { interfaceAttachment: { net_id: demoNet } });
    const web = await k.call(k.demo, 'POST', '/v2.1/os-security-groups', { security_group: { name: 'web', description: 'http' } });
    assert.equal(web.status, 200, JSON.stringify(web.body));
    const rule = { parent_group_id: web.body.security_group.id, ip_protocol: 'tcp', from_port: 80, to_port: 80, cidr: '0.0.0.0/0' };
    const made = await k.call(k.demo, 'POST', '/v2.1/os-security-group-rules', { security_group_rule: rule });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    assert.deepEqual(made.body.security_group_rule.ip_range, { cidr: '0.0.0.0/0' });
    const dup = await k.call(k.demo, 'POST', '/v2.1/os-security-group-rules', { security_group_rule: rule });
    assert.equal(dup.status, 400, 'Nova finds the same rule in the group first: 400');
    assert.equal(dup.body.badRequest.message, `This rule already exists in group ${web.body.security_group.id}`);
    assert.equal((await k.call(k.demo, 'POST', `/v2.1/servers/${id}/action`, { addSecurityGroup: { name: 'web' } })).status, 202);
    const ports = await neutron(k.demo, 'GET', `/v2.0/ports?device_id=${id}`);
    assert.equal(ports.body.ports.length, 1);
    assert.ok(ports.body.ports.every((p: any) => p.security_groups.includes(web.body.security_group.id)));
    const groups = await k.call(k.demo, 'GET', `/v2.1/servers/${id}/os-security-groups`);
    assert.deepEqual(groups.body.security_groups.map((g: any) => g.name), ['default', 'web']);
    assert.deepEqual(groups.body.security_groups[1].rules.map((r: any) => [r.ip_protocol, r.from_port, r.to_port]), [['tcp', 80, 80]]);
    const inUse = await k.call(k.demo, 'DELETE', `/v2.1/os-security-groups/${web.body.security_group.id}`);
    assert.equal(inUse.status, 400);
    assert.equal((await k.call(k.demo, 'POST', `/v2.1/servers/${id}/action`, { removeSecurityGroup: { name: 'web' } })).status, 202);
    assert.equal((await k.call(k.demo, 'DELETE', `/v2.1/os-security-groups/${web.body.security_group.id}`)).status, 202);
    const nets = await k.call(k.demo, 'GET', '/v2.1/os-networks');
    assert.deepEqual(nets.body.networks.map((n: any) => n.label).sort(), ['demo-net', 'private']);
  });
});
