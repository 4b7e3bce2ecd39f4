/**
 * What the dataplane is made of, read from the DB: instances' network_info (Vif) and each
 * host's desired state for its network agent (HostStateSource), with security group rules
 * already resolved by the security group half.
 */
import { inList, type Sql } from '../db/sql.js';
import { DHCP_OWNER, dnsServers, fixedIpsByPort, hostRoutes, type NetworkRow, type PortRow, type SubnetRow } from './repo.js';
import type { SecurityGroupLink } from './sg-link.js';
import { bridgeName, tapName, type AgentNetwork, type AgentSubnet, type HostNetworkState, type HostStateSource, type Vif } from './types.js';

interface Loaded {
  networks: Map<string, NetworkRow>;
  subnets: Map<string, SubnetRow[]>;
  /** bridge address per subnet: the gateway, else its DHCP port's address. */
  bridge: Map<string, string | null>;
}

async function loadNetworks(sql: Sql, networkIds: string[]): Promise<Loaded> {
  const ids = [...new Set(networkIds)];
  const nets = ids.length ? await sql.all<NetworkRow>(`SELECT * FROM networks WHERE id IN ${inList(ids.length)}`, ids) : [];
  const subs = ids.length ? await sql.all<SubnetRow>(`SELECT * FROM subnets WHERE network_id IN ${inList(ids.length)} ORDER BY created_at, id`, ids) : [];
  const dhcp = ids.length
    ? await sql.all<{ subnet_id: string; ip_address: string }>(
        `SELECT a.subnet_id, a.ip_address FROM ip_allocations a JOIN ports p ON p.id = a.port_id
          WHERE p.device_owner = ? AND a.network_id IN ${inList(ids.length)}`,
        [DHCP_OWNER, ...ids],
      )
    : [];
  const dhcpIp = new Map(dhcp.map((d) => [d.subnet_id, d.ip_address]));
  const subnets = new Map<string, SubnetRow[]>(ids.map((id) => [id, []]));
  const bridge = new Map<string, string | null>();
  for (const s of subs) {
    subnets.get(s.network_id)?.push(s);
    bridge.set(s.id, s.gateway_ip ?? dhcpIp.get(s.id) ?? null);
  }
  return { networks: new Map(nets.map((n) => [n.id, n])), subnets, bridge };
}

/** network_info of the given ports (in the given order); ports whose network is gone are left out. */
export async function buildVifs(sql: Sql, ports: PortRow[]): Promise<Vif[]> {
  const loaded = await loadNetworks(sql, ports.map((p) => p.network_id));
  const ips = await fixedIpsByPort(sql, ports.map((p) => p.id));
  const out: Vif[] = [];
  for (const p of ports) {
    const n = loaded.networks.get(p.network_id);
    if (!n) continue;
    const mine = ips.get(p.id) ?? [];
    out.push({
      id: p.id,
      address: p.mac_address,
      devname: tapName(p.id),
      type: 'bridge',
      preserve_on_delete: !p.auto_created,
      network: {
        id: n.id,
        label: n.name,
        bridge: bridgeName(n.id),
        mtu: n.mtu,
        subnets: (loaded.subnets.get(n.id) ?? [])
          .filter((s) => mine.some((f) => f.subnet_id === s.id))
          .map((s) => ({
            cidr: s.cidr,
            gateway: s.gateway_ip,
            dns: dnsServers(s),
            ips: mine.filter((f) => f.subnet_id === s.id).map((f) => ({ address: f.ip_address, type: 'fixed' as const })),
            dhcp_server: s.enable_dhcp ? (loaded.bridge.get(s.id) ?? null) : null,
            routes: hostRoutes(s).map((r) => ({ cidr: r.destination, gateway: r.nexthop })),
          })),
      },
    });
  }
  return out;
}

/** The desired dataplane of each host: its bound ports (not DHCP ports), their networks and rules. */
export function hostStateSource(sql: Sql, sg: SecurityGroupLink): HostStateSource {
  return {
    async hostState(host: string): Promise<HostNetworkState> {
      const ports = await sql.all<PortRow>(
        'SELECT * FROM ports WHERE binding_host_id = ? AND device_owner <> ? ORDER BY created_at, id',
        [host, DHCP_OWNER],
      );
      const loaded = await loadNetworks(sql, ports.map((p) => p.network_id));
      const ips = await fixedIpsByPort(sql, ports.map((p) => p.id));
      const devices = [...new Set(ports.map((p) => p.device_id).filter(Boolean))];
      const names = devices.length
        ? await sql.all<{ uuid: string; hostname: string | null }>(`SELECT uuid, hostname FROM instances WHERE uuid IN ${inList(devices.length)}`, devices)
        : [];
      const hostname = new Map(names.map((r) => [r.uuid, r.hostname ?? '']));
      const rules = await sg.agentRules(sql, ports.map((p) => ({ id: p.id, project_id: p.project_id, fixed_ips: ips.get(p.id) ?? [] })));
      const networks: AgentNetwork[] = [...loaded.networks.values()].map((n) => ({
        id: n.id,
        bridge: bridgeName(n.id),
        mtu: n.mtu,
        subnets: (loaded.subnets.get(n.id) ?? []).map(
          (s): AgentSubnet => ({
            id: s.id,
            cidr: s.cidr,
            gateway_ip: s.gateway_ip,
            bridge_address: loaded.bridge.get(s.id) ?? null,
            enable_dhcp: !!s.enable_dhcp,
            dns_nameservers: dnsServers(s),
            host_routes: hostRoutes(s),
          }),
        ),
      }));
      return {
        host,
        networks,
        ports: ports
          .filter((p) => loaded.networks.has(p.network_id))
          .map((p) => ({
            id: p.id,
            network_id: p.network_id,
            mac: p.mac_address,
            devname: tapName(p.id),
            fixed_ips: ips.get(p.id) ?? [],
            hostname: hostname.get(p.device_id) ?? '',
            device_id: p.device_id,
            port_security: !!p.port_security_enabled,
            ingress: p.port_security_enabled ? (rules.get(p.id)?.ingress ?? []) : [],
            egress: p.port_security_enabled ? (rules.get(p.id)?.egress ?? []) : [],
          })),
      };
    },
  };
}
