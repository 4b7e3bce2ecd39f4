/** The Network API (Neutron v2.0 subset) as the dashboard uses it; base = session.endpoints.network. */
import { getJson, query, request } from './http';

export interface Network {
  id: string;
  name: string;
  status: string;
  shared: boolean;
  'router:external'?: boolean;
  subnets: string[];
  project_id: string;
  admin_state_up: boolean;
}

export interface Subnet {
  id: string;
  name: string;
  network_id: string;
  cidr: string;
  ip_version: number;
  gateway_ip: string | null;
  enable_dhcp: boolean;
}

export interface Port {
  id: string;
  name: string;
  network_id: string;
  device_id: string;
  device_owner: string;
  mac_address: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
  status: string;
}

export interface SecurityGroupRule {
  id: string;
  direction: 'ingress' | 'egress';
  ethertype: string;
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  security_group_id: string;
}

export interface SecurityGroup {
  id: string;
  name: string;
  description: string;
  project_id: string;
  security_group_rules: SecurityGroupRule[];
}

export async function listNetworks(base: string, filters: Record<string, string> = {}): Promise<Network[]> {
  return (await getJson<{ networks: Network[] }>(`${base}/v2.0/networks${query(filters)}`)).networks;
}

export async function listSubnets(base: string, filters: Record<string, string> = {}): Promise<Subnet[]> {
  return (await getJson<{ subnets: Subnet[] }>(`${base}/v2.0/subnets${query(filters)}`)).subnets;
}

export async function listPorts(base: string, filters: Record<string, string | string[]> = {}): Promise<Port[]> {
  return (await getJson<{ ports: Port[] }>(`${base}/v2.0/ports${query(filters)}`)).ports;
}

export async function listSecurityGroups(base: string, filters: Record<string, string> = {}): Promise<SecurityGroup[]> {
  return (await getJson<{ security_groups: SecurityGroup[] }>(`${base}/v2.0/security-groups${query(filters)}`)).security_groups;
}

/** Neutron's quota of a project with its usage (GET /v2.0/quotas/{id}/details). */
export async function networkQuotaDetails(base: string, projectId: string): Promise<Record<string, { limit: number; used: number; reserved: number }>> {
  return (await getJson<{ quota: Record<string, { limit: number; used: number; reserved: number }> }>(`${base}/v2.0/quotas/${encodeURIComponent(projectId)}/details`)).quota;
}

export async function createSecurityGroup(base: string, name: string, description = ''): Promise<SecurityGroup> {
  return (await request<{ security_group: SecurityGroup }>(`${base}/v2.0/security-groups`, { method: 'POST', body: { security_group: { name, description } } })).body.security_group;
}

export async function deleteSecurityGroup(base: string, id: string): Promise<void> {
  await request(`${base}/v2.0/security-groups/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

export interface NewSecurityGroupRule {
  security_group_id: string;
  direction: 'ingress' | 'egress';
  ethertype?: 'IPv4' | 'IPv6';
  protocol?: string | null;
  port_range_min?: number | null;
  port_range_max?: number | null;
  remote_ip_prefix?: string | null;
  remote_group_id?: string | null;
}

export async function createSecurityGroupRule(base: string, rule: NewSecurityGroupRule): Promise<SecurityGroupRule> {
  return (await request<{ security_group_rule: SecurityGroupRule }>(`${base}/v2.0/security-group-rules`, { method: 'POST', body: { security_group_rule: rule } })).body.security_group_rule;
}

export async function deleteSecurityGroupRule(base: string, id: string): Promise<void> {
  await request(`${base}/v2.0/security-group-rules/${encodeURIComponent(id)}`, { method: 'DELETE' });
}
