import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentPort, AgentRule } from '../types.js';
import { buildFirewall, egressChain, ingressChain, parseSave, ruleMatch, spoofChain } from './firewall.js';
import { aggregate } from './cidr.js';

const r = (protocol: string | null, min: number | null = null, max: number | null = min, ethertype: 'IPv4' | 'IPv6' = 'IPv4'): AgentRule => ({
  ethertype,
  protocol,
  port_min: min,
  port_max: max,
  remote: null,
});

const port = (id: string, over: Partial<AgentPort> = {}): AgentPort => ({
  id,
  network_id: 'n',
  mac: 'FA:16:3E:00:00:01',
  devname: `tap${id.slice(0, 11)}`,
  fixed_ips: [{ subnet_id: 's', ip_address: '198.18.0.5' }],
  hostname: 'vm',
  device_id: 'd',
  port_security: true,
  ingress: [],
  egress: [],
  ...over,
});

test('security group rules translate to iptables matches', () => {
  const cases: [AgentRule, string | null][] = [
    [r(null), ''],
    [r('tcp', 22), '-p tcp -m tcp --dport 22'],
    [r('tcp', 1000, 2000), '-p tcp -m tcp --dport 1000:2000'],
    [r('6', 80), '-p tcp -m tcp --dport 80'],
    [r('udp'), '-p udp'],
    [r('icmp', 8, 0), '-p icmp -m icmp --icmp-type 8/0'],
    [r('icmp', 8, null), '-p icmp -m icmp --icmp-type 8'],
    [r('icmp'), '-p icmp'],
    [r('gre'), '-p 47'],
    [r('112'), '-p 112'],
    [r('tcp', 22, 22, 'IPv6'), null],
    [r('no-such-protocol'), null],
  ];
  for (const [rule, want] of cases) assert.equal(ruleMatch(rule), want, JSON.stringify(rule));
});

test('remote CIDRs are aggregated without changing what they cover', () => {
  const ips = Array.from({ length: 200 }, (_, i) => `198.18.0.${10 + i}/32`);
  assert.deepEqual(aggregate(ips), ['198.18.0.10/31', '198.18.0.12/30', '198.18.0.16/28', '198.18.0.32/27', '198.18.0.64/26', '198.18.0.128/26', '198.18.0.192/28', '198.18.0.208/31']);
  assert.deepEqual(aggregate(['10.0.0.0/24', '10.0.1.0/24', '10.0.0.7/32', 'fe80::/64']), ['10.0.0.0/23']);
  assert.deepEqual(aggregate(['0.0.0.0/0', '1.2.3.4']), ['0.0.0.0/0']);
});

test('a filtered port gets ingress, egress and anti-spoofing chains; an unfiltered one none', () => {
  const p = port('aaaaaaaa-0000-0000-0000-000000000001', {
    ingress: [{ ...r('tcp', 80), remote: ['198.18.0.7/32', '198.18.0.6/32'] }, { ...r('icmp'), remote: [] }],
    egress: [r(null)],
  });
  const q = port('bbbbbbbb-0000-0000-0000-000000000002', { port_security: false });
  const plan = buildFirewall([p, q], [], { forward: false, input: false });
  const lines = plan.text.split('\n');
  assert.deepEqual(plan.chains, ['nts-FORWARD', 'nts-INPUT', ingressChain(p.id), egressChain(p.id), spoofChain(p.id)]);
  assert.ok(lines.includes('-I FORWARD 1 -j nts-FORWARD'));
  assert.ok(lines.includes(`-A nts-FORWARD -m physdev --physdev-out ${p.devname} --physdev-is-bridged -j ${ingressChain(p.id)}`));
  assert.ok(lines.includes(`-A ${ingressChain(p.id)} -s 198.18.0.6/31 -p tcp -m tcp --dport 80 -j RETURN`), 'members aggregated');
  assert.ok(!lines.some((l) => l.includes('-p icmp') && l.startsWith(`-A ${ingressChain(p.id)}`)), 'empty remote admits nothing');
  assert.ok(lines.includes(`-A ${spoofChain(p.id)} -s 198.18.0.5/32 -m mac --mac-source fa:16:3e:00:00:01 -j RETURN`));
  assert.equal(lines.filter((l) => l.startsWith('-A ')).length + 2, plan.rules);
  assert.equal(lines.at(-2), 'COMMIT');
  assert.ok(!plan.text.includes(q.devname), 'no chain for a port without port security');
});

test('chains no longer wanted are flushed and deleted in the same restore; jumps are inserted once', () => {
  const p = port('aaaaaaaa-0000-0000-0000-000000000001');
  const first = buildFirewall([p], ['nts-i-gone', 'other-chain'], { forward: true, input: true });
  assert.ok(first.text.includes(':nts-i-gone - [0:0]\n'));
  assert.ok(first.text.includes('\n-X nts-i-gone\n'));
  assert.ok(!first.text.includes('other-chain'), 'chains not ours are left alone');
  assert.ok(!first.text.includes('-I FORWARD'));
  const save = `*filter\n:FORWARD ACCEPT [0:0]\n:nts-FORWARD - [0:0]\n-A FORWARD -j nts-FORWARD\n-A nts-FORWARD -j x\n-A OTHER -j y\n`;
  assert.deepEqual(parseSave(save), { chains: new Set(['nts-FORWARD']), rules: 2, jumps: { forward: true, input: false } });
  assert.equal(buildFirewall([p], [], { forward: true, input: true }).key, first.key, 'the key ignores what was there before');
});
