import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentPort, AgentRule } from '../types.js';
import { admitSnapshot, narrowings } from './conntrack.js';

const r = (protocol: string | null, min: number | null = null, remote: string[] | null = null, ethertype: 'IPv4' | 'IPv6' = 'IPv4'): AgentRule => ({
  ethertype,
  protocol,
  port_min: min,
  port_max: min,
  remote,
});
const port = (over: Partial<AgentPort> = {}): AgentPort => ({
  id: 'p1',
  network_id: 'n',
  mac: 'fa:16:3e:00:00:01',
  devname: 'tapp1',
  fixed_ips: [{ subnet_id: 's', ip_address: '198.18.0.5' }],
  hostname: 'vm',
  device_id: 'd',
  port_security: true,
  ingress: [r('tcp', 22), r('icmp', null, ['198.18.0.7/32', '198.18.0.8/32'])],
  egress: [r(null)],
  ...over,
});
const diff = (a: AgentPort[], b: AgentPort[]) => narrowings(admitSnapshot(a), admitSnapshot(b));
const IP = '198.18.0.5';

test('pure additions and unchanged rules delete no flows', () => {
  const p = port();
  assert.deepEqual(diff([p], [p]), []);
  assert.deepEqual(diff([p], [port({ ingress: [...p.ingress, r('udp', 53)] })]), [], 'rule added');
  assert.deepEqual(diff([p], [port({ ingress: [r('tcp', 22), r('icmp', null, ['198.18.0.7/32', '198.18.0.8/32', '198.18.0.9/32'])] })]), [], 'group member added');
  assert.deepEqual(diff([p], [port({ ingress: [...p.ingress, r('tcp', 22, null, 'IPv6')] })]), []);
  assert.deepEqual(diff([p], [port({ ingress: [p.ingress[1], p.ingress[0]] })]), [], 'order does not matter');
  assert.deepEqual(diff([], [p]), [], 'a new port');
  assert.deepEqual(diff([p], [port({ port_security: false })]), [], 'filtering switched off admits more');
});

test('a removed rule deletes the flows of its protocol in its direction', () => {
  const p = port();
  assert.deepEqual(diff([p], [port({ ingress: [r('tcp', 22)] })]), [{ ip: IP, direction: 'ingress', protocols: [1] }]);
  assert.deepEqual(diff([p], [port({ ingress: [r('tcp', 2222), p.ingress[1]] })]), [{ ip: IP, direction: 'ingress', protocols: [6] }], 'a changed rule is a removal');
  assert.deepEqual(diff([p], [port({ egress: [r('tcp', 80)] })]), [{ ip: IP, direction: 'egress', protocols: null }], 'an any-protocol rule: every flow');
  assert.deepEqual(diff([port({ ingress: [r('47')] })], [port({ ingress: [] })]), [{ ip: IP, direction: 'ingress', protocols: [47] }]);
  assert.deepEqual(diff([port({ ingress: [r('tcp', 22, null, 'IPv6')] })], [port({ ingress: [] })]), [], 'an IPv6 rule admitted nothing');
});

test('a remote group member leaving deletes the flows of that protocol', () => {
  const p = port();
  assert.deepEqual(diff([p], [port({ ingress: [r('tcp', 22), r('icmp', null, ['198.18.0.7/32'])] })]), [{ ip: IP, direction: 'ingress', protocols: [1] }]);
  assert.deepEqual(diff([port({ ingress: [r('udp', 53, ['198.18.0.7'])] })], [port({ ingress: [r('udp', 53, ['198.18.0.7/32'])] })]), [], 'CIDRs compared normalised');
});

test('lost addresses, removed ports and filtering switched on delete every flow of the address', () => {
  const p = port();
  const all = (ip: string) => [
    { ip, direction: 'ingress', protocols: null },
    { ip, direction: 'egress', protocols: null },
  ];
  assert.deepEqual(diff([p], []), all(IP));
  assert.deepEqual(diff([p], [port({ fixed_ips: [{ subnet_id: 's', ip_address: '198.18.0.6' }] })]), all(IP));
  assert.deepEqual(diff([port({ port_security: false })], [p]), all(IP));
  assert.deepEqual(diff([port({ port_security: false })], [port({ port_security: false, ingress: [] })]), [], 'unfiltered stays unfiltered');
});
