/**
 * What the network service hands to the rest of nova-ts. Plain JSON (it crosses the bus).
 *
 * - Vif: one port of an instance as compute hosts and views see it (Nova's network_info entry).
 * - HostNetworkState: everything one host's network agent must realise: the networks with ports
 *   on that host and each port with its security group rules already resolved (remote groups
 *   expanded to their members' IPs), so the agent needs no DB and no further lookups.
 */

/** Device names inside a host's network namespace (Linux allows 15 characters). */
export const bridgeName = (networkId: string) => `brq${networkId.slice(0, 11)}`;
export const tapName = (portId: string) => `tap${portId.slice(0, 11)}`;

export interface VifIp {
  address: string;
  type: 'fixed';
}

export interface VifSubnet {
  cidr: string;
  gateway: string | null;
  dns: string[];
  ips: VifIp[];
  /** The address guests get DHCP from (null when the subnet has DHCP off). */
  dhcp_server: string | null;
  routes: { cidr: string; gateway: string }[];
}

/** One port of an instance (Nova's network_info VIF). */
export interface Vif {
  /** Port id. */
  id: string;
  /** MAC address. */
  address: string;
  /** The tap device in the host's network namespace. */
  devname: string;
  type: 'bridge';
  /** True when nova-ts created the port for the instance (deleted with it); false for a port the user made (only unbound). */
  preserve_on_delete: boolean;
  network: {
    id: string;
    /** The network's name: the key of the server's `addresses`. */
    label: string;
    bridge: string;
    mtu: number;
    subnets: VifSubnet[];
  };
}

/** A security group rule as the agent applies it. */
export interface AgentRule {
  ethertype: 'IPv4' | 'IPv6';
  /** Lower-case name (tcp, udp, icmp) or a protocol number as a string; null for any. */
  protocol: string | null;
  port_min: number | null;
  port_max: number | null;
  /** CIDRs the rule admits (remote_ip_prefix, or each member IP of remote_group_id as /32); null for any. */
  remote: string[] | null;
}

export interface AgentSubnet {
  id: string;
  cidr: string;
  gateway_ip: string | null;
  /**
   * The address the host's bridge takes in this subnet: the gateway, else the subnet's DHCP
   * port (device_owner network:dhcp); DHCP and the metadata service are served from it. null
   * when the subnet has neither (no gateway and DHCP off).
   */
  bridge_address: string | null;
  enable_dhcp: boolean;
  dns_nameservers: string[];
  host_routes: { destination: string; nexthop: string }[];
}

export interface AgentNetwork {
  id: string;
  bridge: string;
  mtu: number;
  subnets: AgentSubnet[];
}

export interface AgentPort {
  id: string;
  network_id: string;
  mac: string;
  devname: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
  /** The instance's hostname (DHCP host entry); '' for ports of no instance. */
  hostname: string;
  device_id: string;
  /** false: no filtering at all for this port (port_security_enabled false). */
  port_security: boolean;
  /** What may reach the port (besides replies to its own traffic and DHCP). */
  ingress: AgentRule[];
  /** What the port may send (besides DHCP and, always, only from its own MAC and IPs). */
  egress: AgentRule[];
}

/** The whole desired dataplane of one host. */
export interface HostNetworkState {
  host: string;
  networks: AgentNetwork[];
  ports: AgentPort[];
}

/** Where the agent reads its host's desired state (the network service; over the bus later). */
export interface HostStateSource {
  hostState(host: string): Promise<HostNetworkState>;
}

/** Bus topic the network service fans `changed` out on when ports, groups or rules change. */
export const AGENT_TOPIC = 'network-agent';
