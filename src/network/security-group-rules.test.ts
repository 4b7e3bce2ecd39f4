import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSgFixture, type SgFixture } from './security-groups-testing.js';
import { normalizeCidr } from './security-group-rules-validate.js';

let fx: SgFixture;
let group: string;
let altGroup: string;
before(async () => {
  fx = await startSgFixture();
  await fx.sql.run("INSERT INTO network_quotas (project_id, resource, hard_limit) VALUES ('p-demo', 'security_group_rule', -1)");
  group = (await fx.call('demo', 'POST', '/v2.0/security-groups', { security_group: { name: 'rules' } })).body.security_group.id;
  altGroup = (await fx.call('alt', 'POST', '/v2.0/security-groups', { security_group: { name: 'alts' } })).body.security_group.id;
});
after(() => fx.close());

const post = (user: string, rule: Record<string, unknown>) =>
  fx.call(user, 'POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: group, direction: 'ingress', ...rule } });

async function created(rule: Record<string, unknown>): Promise<any> {
  const r = await post('demo', rule);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.security_group_rule;
}

describe('validation', () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['min above max', { protocol: 'tcp', port_range_min: 90, port_range_max: 80 }, 'SecurityGroupInvalidPortRange', /port_range_min must be <= port_range_max/],
    ['only one end of a tcp range', { protocol: 'udp', port_range_min: 53 }, 'SecurityGroupInvalidPortRange', /both port_range_min and port_range_max/],
    ['port 0 for tcp', { protocol: 'tcp', port_range_min: 0, port_range_max: 10 }, 'SecurityGroupInvalidPortValue', /port 0/],
    ['port past 65535', { protocol: 'tcp', port_range_min: 1, port_range_max: 70000 }, 'SecurityGroupInvalidPortValue', /70000/],
    ['port not a number', { protocol: 'tcp', port_range_min: 'ssh', port_range_max: 22 }, 'SecurityGroupInvalidPortValue', /ssh/],
    ['ports without protocol', { port_range_min: 22, port_range_max: 22 }, 'SecurityGroupProtocolRequiredWithPorts', /specify protocol/],
    ['ports for gre', { protocol: 'gre', port_range_min: 1, port_range_max: 2 }, 'SecurityGroupInvalidProtocolForPort', /gre/],
    ['icmp type past 255', { protocol: 'icmp', port_range_min: 300 }, 'SecurityGroupInvalidIcmpValue', /type \(port_range_min\) 300/],
    ['icmp code without type', { protocol: 'icmp', port_range_max: 0 }, 'SecurityGroupMissingIcmpType', /ICMP type/],
    ['unknown protocol', { protocol: 'carrier-pigeon' }, 'SecurityGroupRuleInvalidProtocol', /carrier-pigeon/],
    ['protocol number past 255', { protocol: 256 }, 'SecurityGroupRuleInvalidProtocol', /256/],
    ['bad CIDR', { remote_ip_prefix: '10.0.0.0/33' }, 'InvalidCIDR', /10\.0\.0\.0\/33/],
    ['not an address', { remote_ip_prefix: 'example.com' }, 'InvalidCIDR', /example\.com/],
    ['IPv6 CIDR on an IPv4 rule', { remote_ip_prefix: '2001:db8::/32' }, 'SecurityGroupRuleParameterConflict', /IPv6/],
    ['IPv4 CIDR on an IPv6 rule', { ethertype: 'IPv6', remote_ip_prefix: '10.0.0.0/8' }, 'SecurityGroupRuleParameterConflict', /IPv4/],
    ['icmpv6 on IPv4', { protocol: 'ipv6-icmp' }, 'SecurityGroupEthertypeConflictWithProtocol', /IPv6/],
    ['both remotes', { remote_ip_prefix: '10.0.0.0/8', remote_group_id: 'x' }, 'SecurityGroupRemoteGroupAndRemoteIpPrefix', /Only remote_ip_prefix or remote_group_id/],
    ['bad direction', { direction: 'sideways' }, 'InvalidInput', /sideways/],
    ['bad ethertype', { ethertype: 'IPX' }, 'InvalidInput', /IPX/],
  ];
  for (const [name, rule, type, message] of cases)
    test(`${name} is a 400 saying so`, async () => {
      const r = await post('demo', rule);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.NeutronError.type, type);
      assert.match(r.body.NeutronError.message, message);
    });

  test('unknown fields and missing required ones are 400s', async () => {
    const r = await post('demo', { colour: 'red' });
    assert.equal(r.status, 400);
    assert.match(r.body.NeutronError.message, /colour/);
    const noGroup = await fx.call('demo', 'POST', '/v2.0/security-group-rules', { security_group_rule: { direction: 'ingress' } });
    assert.equal(noGroup.status, 400);
    assert.match(noGroup.body.NeutronError.message, /security_group_id/);
  });

  test('an unknown or foreign group (or remote group) is a 404', async () => {
    assert.equal((await post('demo', { security_group_id: 'nope' })).body.NeutronError.type, 'SecurityGroupNotFound');
    assert.equal((await post('demo', { security_group_id: altGroup })).status, 404);
    assert.equal((await post('demo', { remote_group_id: altGroup })).status, 404);
    assert.equal((await post('reader', { protocol: 'tcp' })).status, 403);
  });
});

describe('create, show, list, delete', () => {
  test('values are normalised as Neutron does', async () => {
    const r = await created({ protocol: 'TCP', port_range_min: '8000', port_range_max: 8080, remote_ip_prefix: '10.1.2.3/16', description: 'web' });
    assert.equal(r.protocol, 'tcp');
    assert.equal(r.port_range_min, 8000);
    assert.equal(r.ethertype, 'IPv4');
    assert.equal(r.remote_ip_prefix, '10.1.2.3/16');
    assert.equal(r.normalized_cidr, '10.1.0.0/16');
    assert.equal(r.project_id, 'p-demo');
    assert.equal(r.description, 'web');
    const host = await created({ protocol: 6, port_range_min: 22, port_range_max: 22, remote_ip_prefix: '192.0.2.7' });
    assert.equal(host.protocol, '6');
    assert.equal(host.remote_ip_prefix, '192.0.2.7/32');
    const v6 = await created({ ethertype: 'ipv6', protocol: 'icmpv6', port_range_min: 128, remote_ip_prefix: '2001:DB8:0:0:1::5/64' });
    assert.equal(v6.ethertype, 'IPv6');
    assert.equal(v6.normalized_cidr, '2001:db8::/64');
    const any = await created({ protocol: 'any', remote_group_id: group });
    assert.equal(any.protocol, null);

    const shown = await fx.call('demo', 'GET', `/v2.0/security-group-rules/${r.id}`);
    assert.deepEqual(shown.body.security_group_rule, r);
    const inGroup = await fx.call('demo', 'GET', `/v2.0/security-groups/${group}`);
    assert.ok(inGroup.body.security_group.security_group_rules.some((x: any) => x.id === r.id));
  });

  test('duplicates are 409s naming the existing rule, however they are spelled', async () => {
    const r = await created({ protocol: 'udp', port_range_min: 53, port_range_max: 53, remote_ip_prefix: '198.51.100.0/24' });
    const again = await post('demo', { protocol: '17', port_range_min: 53, port_range_max: 53, remote_ip_prefix: '198.51.100.9/24' });
    assert.equal(again.status, 409);
    assert.equal(again.body.NeutronError.type, 'SecurityGroupRuleExists');
    assert.match(again.body.NeutronError.message, new RegExp(r.id));
    // The group's own egress rule to anywhere, given as 0.0.0.0/0.
    const egress = await post('demo', { direction: 'egress', remote_ip_prefix: '0.0.0.0/0' });
    assert.equal(egress.status, 409);
  });

  test('bulk create is all or nothing', async () => {
    const before = (await fx.call('demo', 'GET', `/v2.0/security-group-rules?security_group_id=${group}`)).body.security_group_rules.length;
    const rule = (p: number) => ({ security_group_id: group, direction: 'ingress', protocol: 'tcp', port_range_min: p, port_range_max: p });
    const bad = await fx.call('demo', 'POST', '/v2.0/security-group-rules', { security_group_rules: [rule(1001), { ...rule(1002), port_range_min: 9999 }] });
    assert.equal(bad.status, 400);
    const dup = await fx.call('demo', 'POST', '/v2.0/security-group-rules', { security_group_rules: [rule(1001), rule(1001)] });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.NeutronError.type, 'DuplicateSecurityGroupRuleInPost');
    const after = (await fx.call('demo', 'GET', `/v2.0/security-group-rules?security_group_id=${group}`)).body.security_group_rules.length;
    assert.equal(after, before);
    const ok = await fx.call('demo', 'POST', '/v2.0/security-group-rules', { security_group_rules: [rule(1001), rule(1002)] });
    assert.equal(ok.status, 201);
    assert.equal(ok.body.security_group_rules.length, 2);
  });

  test('lists filter by any field; other projects see none of them', async () => {
    const r = await fx.call('demo', 'GET', `/v2.0/security-group-rules?security_group_id=${group}&direction=egress&fields=id&fields=ethertype`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.security_group_rules.map((x: any) => x.ethertype).sort(), ['IPv4', 'IPv6']);
    assert.deepEqual(Object.keys(r.body.security_group_rules[0]).sort(), ['ethertype', 'id']);
    const alt = await fx.call('alt', 'GET', '/v2.0/security-group-rules');
    assert.ok(alt.body.security_group_rules.length > 0);
    assert.ok(alt.body.security_group_rules.every((x: any) => x.project_id === 'p-alt'));
    const admin = await fx.call('admin', 'GET', `/v2.0/security-group-rules?security_group_id=${group}`);
    assert.ok(admin.body.security_group_rules.length >= 2);
  });

  test('delete: 204, then gone; others cannot see or delete it', async () => {
    const r = await created({ protocol: 'tcp', port_range_min: 443, port_range_max: 443 });
    assert.equal((await fx.call('alt', 'GET', `/v2.0/security-group-rules/${r.id}`)).status, 404);
    assert.equal((await fx.call('alt', 'DELETE', `/v2.0/security-group-rules/${r.id}`)).status, 404);
    assert.equal((await fx.call('reader', 'DELETE', `/v2.0/security-group-rules/${r.id}`)).status, 403);
    assert.equal((await fx.call('demo', 'DELETE', `/v2.0/security-group-rules/${r.id}`)).status, 204);
    const gone = await fx.call('demo', 'GET', `/v2.0/security-group-rules/${r.id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.NeutronError.type, 'SecurityGroupRuleNotFound');
  });
});

test('rule quota counts the project rules, default group included', async () => {
  // p-alt has its default group (4 rules) and `alts` (2 egress rules): 6 in use.
  await fx.sql.run("INSERT INTO network_quotas (project_id, resource, hard_limit) VALUES ('p-alt', 'security_group_rule', 7)");
  const rule = (p: number) => ({ security_group_rule: { security_group_id: altGroup, direction: 'ingress', protocol: 'tcp', port_range_min: p, port_range_max: p } });
  assert.equal((await fx.call('alt', 'POST', '/v2.0/security-group-rules', rule(22))).status, 201);
  const over = await fx.call('alt', 'POST', '/v2.0/security-group-rules', rule(23));
  assert.equal(over.status, 409);
  assert.equal(over.body.NeutronError.type, 'OverQuota');
  assert.match(over.body.NeutronError.message, /security_group_rule/);
});

test('normalizeCidr clears host bits for IPv4 and IPv6', () => {
  assert.equal(normalizeCidr('10.1.2.3/8'), '10.0.0.0/8');
  assert.equal(normalizeCidr('0.0.0.0/0'), '0.0.0.0/0');
  assert.equal(normalizeCidr('192.0.2.7'), '192.0.2.7/32');
  assert.equal(normalizeCidr('2001:db8:1:2::9/48'), '2001:db8:1::/48');
  assert.equal(normalizeCidr('::ffff:10.1.2.3/120'), '::ffff:a01:200/120');
  assert.equal(normalizeCidr('fe80::1'), 'fe80::1/128');
  assert.equal(normalizeCidr('::/0'), '::/0');
  assert.equal(normalizeCidr('10.0.0.0/33'), null);
});
