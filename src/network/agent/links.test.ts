import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostNetworkState } from '../types.js';
import { planLinks, type Link } from './links.js';

const state: HostNetworkState = {
  host: 'h',
  networks: [
    {
      id: 'n1',
      bridge: 'brqn1',
      mtu: 1450,
      subnets: [{ id: 's', cidr: '198.18.0.0/20', gateway_ip: '198.18.0.1', bridge_address: '198.18.0.1', enable_dhcp: true, dns_nameservers: [], host_routes: [] }],
    },
  ],
  ports: [
    { id: 'p1', network_id: 'n1', mac: 'fa:16:3e:00:00:01', devname: 'tapp1', fixed_ips: [], hostname: '', device_id: '', port_security: true, ingress: [], egress: [] },
    { id: 'p2', network_id: 'n1', mac: 'fa:16:3e:00:00:02', devname: 'veth2', fixed_ips: [], hostname: '', device_id: '', port_security: true, ingress: [], egress: [] },
  ],
};
const link = (name: string, over: Partial<Link> = {}): [string, Link] => [name, { name, kind: 'tun', master: 'brqn1', mtu: 1450, up: true, addrs: [], ...over }];

test('an empty namespace gets the bridge, its address and the taps', () => {
  assert.deepEqual(planLinks(state, new Map()), [
    'link add brqn1 type bridge',
    'link set brqn1 mtu 1450 up',
    'addr add 198.18.0.1/20 brd + dev brqn1',
    'tuntap add dev tapp1 mode tap',
    'link set tapp1 master brqn1 mtu 1450 up',
    'tuntap add dev veth2 mode tap',
    'link set veth2 master brqn1 mtu 1450 up',
  ]);
});

test('devices that are right are left alone; existing devices of any kind are not recreated; only our stale devices go', () => {
  const links = new Map([
    link('lo', { kind: null, master: null }),
    link('brqn1', { kind: 'bridge', master: null, addrs: ['198.18.0.1/20', '10.9.9.9/24'] }),
    link('tapp1'),
    link('veth2', { kind: 'veth', master: null, up: false }),
    link('tapold'),
    link('brqold', { kind: 'bridge', master: null }),
    link('eth9', { kind: 'veth', master: null }),
  ]);
  assert.deepEqual(planLinks(state, links, ['eth9']), [
    'link del tapold',
    'link del brqold',
    'link del eth9',
    'addr del 10.9.9.9/24 dev brqn1',
    'link set veth2 master brqn1 mtu 1450 up',
  ]);
  assert.deepEqual(planLinks(state, new Map([link('brqn1', { kind: 'bridge', master: null, addrs: ['198.18.0.1/20'] }), link('tapp1'), link('veth2')])), []);
});
