/**
 * A synthetic host for scale tests and the network benchmark: one network (198.18.4.0/22) and
 * one port per id, each in a default-style group (every member may reach every other, by
 * remote group), plus SSH and ICMP from anywhere. step spaces the addresses: 1 gives
 * consecutive ones (the members merge into a few CIDRs), 2 every other one (they cannot merge).
 */
import { randomUUID } from 'node:crypto';
import { bridgeName, tapName, type AgentPort, type HostNetworkState } from '../types.js';
import { intToIp, ipToInt } from './cidr.js';

export function syntheticHostState(o: { host: string; netId: string; subnetId: string; portIds: string[]; step: number }): HostNetworkState {
  const base = ipToInt('198.18.4.0');
  const ips = o.portIds.map((_, i) => intToIp(base + 10 + i * o.step));
  const members = ips.map((ip) => `${ip}/32`);
  const ports: AgentPort[] = ips.map((ip, i) => ({
    id: o.portIds[i],
    network_id: o.netId,
    mac: `fa:16:3e:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
    devname: tapName(o.portIds[i]),
    fixed_ips: [{ subnet_id: o.subnetId, ip_address: ip }],
    hostname: `vm-${i}`,
    device_id: randomUUID(),
    port_security: true,
    ingress: [
      { ethertype: 'IPv4', protocol: null, port_min: null, port_max: null, remote: members },
      { ethertype: 'IPv6', protocol: null, port_min: null, port_max: null, remote: [] },
      { ethertype: 'IPv4', protocol: 'tcp', port_min: 22, port_max: 22, remote: ['0.0.0.0/0'] },
      { ethertype: 'IPv4', protocol: 'icmp', port_min: null, port_max: null, remote: null },
    ],
    egress: [
      { ethertype: 'IPv4', protocol: null, port_min: null, port_max: null, remote: null },
      { ethertype: 'IPv6', protocol: null, port_min: null, port_max: null, remote: null },
    ],
  }));
  const subnet = { id: o.subnetId, cidr: '198.18.4.0/22', gateway_ip: '198.18.4.1', bridge_address: '198.18.4.1', enable_dhcp: true, dns_nameservers: [], host_routes: [] };
  return { host: o.host, networks: [{ id: o.netId, bridge: bridgeName(o.netId), mtu: 1500, subnets: [subnet] }], ports };
}
