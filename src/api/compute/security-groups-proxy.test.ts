import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IMAGE_ID, placeOnHost, startKit, type Kit } from './server-test-kit.js';
import { fakeNetwork, type FakeNetwork } from './network-test-double.js';
import { mountSecurityGroupsProxy, neutronIngressRule } from './security-groups-proxy.js';
import { mountServerSecurityGroups } from './server-actions-secgroups.js';
import { mountNetworksProxy } from './networks-proxy.js';

const message = (r: { body: any }) => (Object.values(r.body ?? {})[0] as any)?.message;

describe('security groups through the Compute API (router level, network test double)', () => {
  let k: Kit;
  let net: FakeNetwork;
  let priv: { id: string };
  const SG = '/v2.1/os-security-groups';
  const RULES = '/v2.1/os-security-group-rules';

  before(async () => {
    k = await startKit({ mounts: [mountSecurityGroupsProxy, mountServerSecurityGroups, mountNetworksProxy] });
    net = fakeNetwork(k.sql);
    priv = await net.addNetwork({ name: 'demo-net', project_id: 'p-demo', cidr: '198.18.1.0/24' });
  });
  after(async () => k.close());

  it('without a network service: 501; above 2.35 the proxies are 404', async () => {
    assert.equal((await k.call(k.demo, 'GET', SG)).status, 501);
    k.deps.network = net;
    assert.equal((await k.call(k.demo, 'GET', SG, undefined, '2.36')).status, 404);
    assert.equal((await k.call(k.demo, 'POST', RULES, { security_group_rule: {} }, '2.36')).status, 404);
    assert.equal((await k.call(k.demo, 'GET', '/v2.1/os-networks', undefined, '2.36')).status, 404);
  });

  it('list shows the project default group with its ingress rules in Nova shape', async () => {
    const r = await k.call(k.demo, 'GET', SG);
    assert.equal(r.status, 200);
    assert.equal(r.body.security_groups.length, 1);
    const g = r.body.security_groups[0];
    assert.deepEqual(Object.keys(g).sort(), ['description', 'id', 'name', 'rules', 'tenant_id']);
    assert.equal(g.name, 'default');
    assert.equal(g.tenant_id, 'p-demo');
    assert.equal(g.rules.length, 2, 'egress rules are not shown');
    assert.deepEqual(g.rules[0], { id: g.rules[0].id, parent_group_id: g.id, ip_protocol: null, from_port: null, to_port: null, group: { name: 'default', tenant_id: 'p-demo' }, ip_range: {} });
  });

  it('create, show, update, delete; Nova\'s validation of names and descriptions', async () => {
    const bad = [
      [{}, "The request body can't be empty"],
      [{ other: 1 }, 'Missing parameter security_group'],
      [{ security_group: { name: 'x' } }, 'Security group description is not a string or unicode'],
      [{ security_group: { name: '  ', description: 'd' } }, 'name has a minimum character requirement of 1.'],
      [{ security_group: { name: 'x'.repeat(256), description: 'd' } }, 'name has more than 255 characters.'],
    ] as const;
    for (const [body, msg] of bad) {
      const r = await k.call(k.demo, 'POST', SG, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(message(r), msg);
    }
    const r = await k.call(k.demo, 'POST', SG, { security_group: { name: 'web', description: 'web servers' } });
    assert.equal(r.status, 200);
    const g = r.body.security_group;
    assert.deepEqual([g.name, g.description, g.tenant_id, g.rules], ['web', 'web servers', 'p-demo', []]);
    assert.deepEqual((await k.call(k.demo, 'GET', `${SG}/${g.id}`)).body.security_group, g);
    assert.equal((await k.call(k.other, 'GET', `${SG}/${g.id}`)).status, 404);
    assert.equal(message(await k.call(k.demo, 'GET', `${SG}/not-a-uuid`)), 'Security group id should be uuid');
    const spaced = await k.call(k.demo, 'POST', SG, { security_group: { name: ' spaced -1 ', description: ' d ' } });
    assert.deepEqual([spaced.body.security_group.name, spaced.body.security_group.description], [' spaced -1 ', ' d '], 'kept as given');
    assert.equal((await k.call(k.demo, 'DELETE', `${SG}/${spaced.body.security_group.id}`)).status, 202);
    const u = await k.call(k.demo, 'PUT', `${SG}/${g.id}`, { security_group: { name: 'www', description: 'renamed' } });
    assert.equal(u.status, 200);
    assert.equal(u.body.security_group.name, 'www');
    assert.equal((await k.call(k.reader, 'POST', SG, { security_group: { name: 'r', description: 'd' } })).status, 403);
    const list = await k.call(k.demo, 'GET', SG);
    assert.deepEqual(list.body.security_groups.map((x: any) => x.name), ['default', 'www']);
    assert.deepEqual((await k.call(k.demo, 'GET', `${SG}?limit=1&offset=1`)).body.security_groups.map((x: any) => x.name), ['www']);
    assert.equal((await k.call(k.demo, 'DELETE', `${SG}/${g.id}`)).status, 202);
    assert.equal((await k.call(k.demo, 'GET', `${SG}/${g.id}`)).status, 404);
  });

  it('rules: Nova fields become a Neutron ingress rule; Nova\'s checks and messages', async () => {
    const g = (await k.call(k.demo, 'POST', SG, { security_group: { name: 'rules', description: 'd' } })).body.security_group;
    const add = (rule: Record<string, unknown>) => k.call(k.demo, 'POST', RULES, { security_group_rule: { parent_group_id: g.id, ...rule } });
    const ssh = await add({ ip_protocol: 'tcp', from_port: 22, to_port: 22, cidr: '10.0.0.0/24' });
    assert.equal(ssh.status, 200, JSON.stringify(ssh.body));
    assert.deepEqual(ssh.body.security_group_rule, {
      id: ssh.body.security_group_rule.id, parent_group_id: g.id, ip_protocol: 'tcp', from_port: 22, to_port: 22, group: {}, ip_range: { cidr: '10.0.0.0/24' },
    });
    const stored = net.groups.get(g.id)!.security_group_rules.find((r: any) => r.id === ssh.body.security_group_rule.id);
    assert.deepEqual([stored.direction, stored.ethertype, stored.protocol, stored.port_range_min, stored.port_range_max, stored.remote_ip_prefix], ['ingress', 'IPv4', 'tcp', 22, 22, '10.0.0.0/24']);
    const ping = await add({ ip_protocol: 'ICMP', from_port: -1, to_port: -1 });
    assert.deepEqual([ping.body.security_group_rule.ip_protocol, ping.body.security_group_rule.from_port, ping.body.security_group_rule.ip_range], ['icmp', -1, { cidr: '0.0.0.0/0' }]);
    const def = (await k.call(k.demo, 'GET', SG)).body.security_groups.find((x: any) => x.name === 'default');
    const fromGroup = await add({ ip_protocol: 'tcp', group_id: def.id });
    assert.deepEqual(fromGroup.body.security_group_rule.group, { name: 'default', tenant_id: 'p-demo' });
    assert.deepEqual([fromGroup.body.security_group_rule.from_port, fromGroup.body.security_group_rule.to_port], [1, 65535]);
    const cases: [Record<string, unknown>, number, string | RegExp][] = [
      [{ ip_protocol: 'tcp', from_port: 22, to_port: 22, cidr: '10.0.0.0/24' }, 400, `This rule already exists in group ${g.id}`],
      [{ ip_protocol: 'icmp', from_port: -1, to_port: -1 }, 400, `This rule already exists in group ${g.id}`],
      // Nova's _rule_exists never matches group rules (or another protocol spelling): the network service's conflict is 403.
      [{ ip_protocol: 'tcp', group_id: def.id }, 403, /exists/],
      [{ ip_protocol: 'TCP', from_port: 22, to_port: 22, cidr: '10.0.0.0/24' }, 403, /exists/],
      [{ ip_protocol: 'gre', from_port: 1, to_port: 2 }, 400, 'Invalid IP protocol gre.'],
      [{ ip_protocol: 'tcp', from_port: 30, to_port: 20 }, 400, 'Invalid port range 30:20. Former value cannot be greater than the later'],
      [{ ip_protocol: 'udp', from_port: 0, to_port: 20 }, 400, 'Invalid port range 0:20. Valid UDP ports should be between 1-65535'],
      [{ ip_protocol: 'icmp', from_port: 300, to_port: 0 }, 400, 'Invalid port range 300:0. For ICMP, the type:code must be valid'],
      [{ ip_protocol: 'tcp', from_port: 'a', to_port: 2 }, 400, 'To and From ports must be integers'],
      [{ ip_protocol: 'tcp' }, 400, 'Not enough parameters to build a valid rule.'],
      [{ ip_protocol: 'tcp', from_port: 1, to_port: 2, cidr: '10.0.0.1/0' }, 400, 'Bad prefix for network in cidr 10.0.0.1/0'],
      [{ ip_protocol: 'tcp', from_port: 1, to_port: 2, cidr: 'nonsense' }, 400, 'nonsense is not a valid IP network.'],
      [{ ip_protocol: 'tcp', group_id: 'nope' }, 400, 'Security group id should be uuid'],
    ];
    for (const [rule, status, msg] of cases) {
      const r = await add(rule);
      assert.equal(r.status, status, JSON.stringify(rule));
      if (typeof msg === 'string') assert.equal(message(r), msg);
      else assert.match(message(r), msg);
    }
    assert.equal((await k.call(k.demo, 'POST', RULES, { security_group_rule: { parent_group_id: crypto.randomUUID(), ip_protocol: 'tcp' } })).status, 404);
    const shown = (await k.call(k.demo, 'GET', `${SG}/${g.id}`)).body.security_group;
    assert.equal(shown.rules.length, 3);
    assert.equal((await k.call(k.demo, 'DELETE', `${RULES}/${ssh.body.security_group_rule.id}`)).status, 202);
    assert.equal((await k.call(k.demo, 'DELETE', `${RULES}/${ssh.body.security_group_rule.id}`)).status, 404);
    assert.equal((await k.call(k.demo, 'GET', `${SG}/${g.id}`)).body.security_group.rules.length, 2);
  });

  it('neutronIngressRule keeps Nova\'s port mapping (ICMP -1 means any type/code)', () => {
    assert.deepEqual(neutronIngressRule({ ip_protocol: 'icmp', from_port: 8, to_port: -1, cidr: '0.0.0.0/0' }), {
      direction: 'ingress', ethertype: 'IPv4', remote_group_id: null, remote_ip_prefix: '0.0.0.0/0', protocol: 'icmp', port_range_min: 8,
    });
    assert.equal(neutronIngressRule({ ip_protocol: 'tcp', cidr: '::/0' }), null);
    assert.equal(neutronIngressRule({ ip_protocol: 'tcp', from_port: 1, to_port: 1, cidr: '::/0' })!.ethertype, 'IPv6');
  });

  it('addSecurityGroup / removeSecurityGroup change every port of the server and its security_groups', async () => {
    const boot = await k.call(k.demo, 'POST', '/v2.1/servers', { server: { name: 'sg-vm', imageRef: IMAGE_ID, flavorRef: '1' } });
    const id = boot.body.server.id;
    await placeOnHost(k.sql, id);
    const act = (body: unknown, ctx = k.demo) => k.call(ctx, 'POST', `/v2.1/servers/${id}/action`, body);
    await k.call(k.demo, 'POST', SG, { security_group: { name: 'db', description: 'd' } });
    const noPorts = await act({ addSecurityGroup: { name: 'db' } });
    assert.equal(noPorts.status, 404);
    assert.equal(message(noPorts), `instance_id ${id} could not be found as device id on any ports`);
    const p1 = await net.addPort({ network_id: priv.id, project_id: 'p-demo', device_id: id });
    const p2 = await net.addPort({ network_id: priv.id, project_id: 'p-demo', device_id: id });
    const dbId = [...net.groups.values()].find((g) => g.name === 'db' && g.project_id === 'p-demo')!.id;
    assert.equal((await act({ addSecurityGroup: { name: 'db' } })).status, 202);
    assert.ok(net.ports.get(p1.id)!.security_groups.includes(dbId));
    assert.ok(net.ports.get(p2.id)!.security_groups.includes(dbId));
    const show = await k.call(k.demo, 'GET', `/v2.1/servers/${id}`);
    assert.deepEqual(show.body.server.security_groups, [{ name: 'default' }, { name: 'db' }]);
    const listed = await k.call(k.demo, 'GET', `/v2.1/servers/${id}/os-security-groups`);
    assert.deepEqual(listed.body.security_groups.map((g: any) => g.name), ['db', 'default']);
    const again = await act({ addSecurityGroup: { name: 'db' } });
    assert.equal(again.status, 400);
    assert.equal(message(again), `Security group db is already associated with the instance ${id}`);
    const unknown = await act({ addSecurityGroup: { name: 'nope' } });
    assert.equal(unknown.status, 404);
    assert.equal(message(unknown), 'Security group nope is not found for project p-demo');
    assert.equal(message(await act({ addSecurityGroup: {} })), 'Security group not specified');
    assert.equal(message(await act({ addSecurityGroup: { name: ' ' } })), 'Security group name cannot be empty');
    assert.equal((await act({ addSecurityGroup: { name: 'db' } }, k.reader)).status, 403);
    assert.equal((await act({ addSecurityGroup: { name: 'db' } }, k.other)).status, 404);

    assert.equal((await act({ removeSecurityGroup: { name: 'db' } })).status, 202);
    assert.ok(!net.ports.get(p1.id)!.security_groups.includes(dbId));
    assert.deepEqual((await k.call(k.demo, 'GET', `/v2.1/servers/${id}`)).body.server.security_groups, [{ name: 'default' }]);
    const absent = await act({ removeSecurityGroup: { name: 'db' } });
    assert.equal(absent.status, 404);
    assert.equal(message(absent), `Security group db not associated with the instance ${id}`);
    // A group in use by a port cannot be deleted: Nova answers 400.
    const def = (await k.call(k.demo, 'GET', SG)).body.security_groups.find((g: any) => g.name === 'default');
    assert.equal((await k.call(k.demo, 'DELETE', `${SG}/${def.id}`)).status, 400);
  });

  it('os-networks and os-tenant-networks: list and show in Nova\'s Neutron-era shapes; changes are 501', async () => {
    const list = await k.call(k.demo, 'GET', '/v2.1/os-networks');
    assert.equal(list.status, 200);
    const mine = list.body.networks.find((n: any) => n.id === priv.id);
    assert.deepEqual(mine, { id: priv.id, cidr: null, netmask: null, gateway: null, broadcast: null, dns1: null, dns2: null, cidr_v6: null, gateway_v6: null, label: 'demo-net', netmask_v6: null });
    assert.equal((await k.call(k.other, 'GET', `/v2.1/os-networks/${priv.id}`)).status, 404);
    const admin = await k.call(k.admin, 'GET', `/v2.1/os-networks/${priv.id}`);
    assert.equal(Object.keys(admin.body.network).length, 32);
    assert.equal(admin.body.network.label, 'demo-net');
    assert.equal((await k.call(k.demo, 'GET', '/v2.1/os-networks/nope')).body.itemNotFound.message, 'Network not found');
    const tenant = await k.call(k.demo, 'GET', '/v2.1/os-tenant-networks');
    assert.deepEqual(tenant.body.networks.find((n: any) => n.id === priv.id), { id: priv.id, cidr: 'None', label: 'demo-net' });
    assert.equal((await k.call(k.admin, 'POST', '/v2.1/os-networks', { network: { label: 'x' } })).status, 501);
    assert.equal((await k.call(k.admin, 'DELETE', `/v2.1/os-networks/${priv.id}`)).status, 501);
    assert.equal((await k.call(k.demo, 'POST', '/v2.1/os-tenant-networks', { network: { label: 'x' } })).status, 501);
  });
});
