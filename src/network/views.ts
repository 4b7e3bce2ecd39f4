/**
 * Neutron's JSON views of networks, subnets and ports (field names and defaults of the v2.0
 * API with the extensions src/network/extensions.ts announces). `*_FIELDS` list every field a
 * view may show: the attributes a list may filter and sort on.
 */
import { json } from '../db/sql.js';
import type { RequestContext } from '../http/types.js';
import { apiTime } from '../util/time.js';
import type { NeutronView } from './client.js';
import { dnsServers, hostRoutes, pools, type FixedIp, type NetworkRow, type PortRow, type SubnetRow } from './repo.js';

export const NETWORK_FIELDS = [
  'id', 'name', 'tenant_id', 'project_id', 'admin_state_up', 'mtu', 'status', 'subnets', 'shared', 'availability_zone_hints',
  'availability_zones', 'ipv4_address_scope', 'ipv6_address_scope', 'router:external', 'description', 'port_security_enabled',
  'tags', 'created_at', 'updated_at', 'revision_number', 'l2_adjacency',
] as const;

export const SUBNET_FIELDS = [
  'id', 'name', 'tenant_id', 'project_id', 'network_id', 'ip_version', 'subnetpool_id', 'enable_dhcp', 'ipv6_ra_mode',
  'ipv6_address_mode', 'gateway_ip', 'cidr', 'allocation_pools', 'host_routes', 'dns_nameservers', 'description',
  'service_types', 'tags', 'created_at', 'updated_at', 'revision_number',
] as const;

export const PORT_FIELDS = [
  'id', 'name', 'network_id', 'tenant_id', 'project_id', 'mac_address', 'admin_state_up', 'status', 'device_id', 'device_owner',
  'fixed_ips', 'security_groups', 'description', 'binding:vnic_type',
  'binding:host_id', 'binding:vif_type', 'binding:vif_details', 'binding:profile', 'port_security_enabled', 'tags',
  'created_at', 'updated_at', 'revision_number',
] as const;

const common = (r: { project_id: string; tags: string; created_at: string; updated_at: string; revision_number: number }) => ({
  tenant_id: r.project_id,
  project_id: r.project_id,
  tags: json<string[]>(r.tags, []),
  created_at: apiTime(r.created_at),
  updated_at: apiTime(r.updated_at),
  revision_number: r.revision_number,
});

export function networkView(r: NetworkRow, subnetIds: string[]): NeutronView {
  return {
    id: r.id,
    name: r.name,
    ...common(r),
    admin_state_up: !!r.admin_state_up,
    mtu: r.mtu,
    status: r.status,
    subnets: subnetIds,
    shared: !!r.shared,
    availability_zone_hints: [],
    availability_zones: ['nova'],
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    'router:external': !!r.external,
    description: r.description,
    port_security_enabled: !!r.port_security_enabled,
    l2_adjacency: true,
  };
}

export function subnetView(r: SubnetRow): NeutronView {
  return {
    id: r.id,
    name: r.name,
    ...common(r),
    network_id: r.network_id,
    ip_version: r.ip_version,
    subnetpool_id: null,
    enable_dhcp: !!r.enable_dhcp,
    ipv6_ra_mode: null,
    ipv6_address_mode: null,
    gateway_ip: r.gateway_ip,
    cidr: r.cidr,
    allocation_pools: pools(r),
    host_routes: hostRoutes(r),
    dns_nameservers: dnsServers(r),
    description: r.description,
    service_types: [],
  };
}

/** A port is ACTIVE once bound to a host for a device (an instance), else DOWN. */
export const portStatus = (r: Pick<PortRow, 'binding_host_id' | 'device_id'>): string => (r.binding_host_id && r.device_id ? 'ACTIVE' : 'DOWN');

/** Binding details other than vnic_type are shown to admins only (Neutron's policy). */
export function portView(r: PortRow, fixedIps: FixedIp[], groups: string[], ctx: RequestContext | null): NeutronView {
  const admin = !ctx || ctx.isAdmin;
  return {
    id: r.id,
    name: r.name,
    network_id: r.network_id,
    ...common(r),
    mac_address: r.mac_address,
    admin_state_up: !!r.admin_state_up,
    status: portStatus(r),
    device_id: r.device_id,
    device_owner: r.device_owner,
    fixed_ips: fixedIps,
    security_groups: groups,
    description: r.description,
    'binding:vnic_type': 'normal',
    ...(admin
      ? {
          'binding:host_id': r.binding_host_id,
          'binding:vif_type': r.binding_host_id ? 'bridge' : 'unbound',
          'binding:vif_details': r.binding_host_id ? { port_filter: true } : {},
          'binding:profile': {},
        }
      : {}),
    port_security_enabled: !!r.port_security_enabled,
  };
}
