/**
 * Rows of the network tables (src/db/migrations/009-network.ts) and the reads every part of
 * the network service shares. Writes live with the resource that owns them.
 */
import { inList, json, type Sql } from '../db/sql.js';
import { NovaError } from '../errors.js';
import type { Pool } from './ipv4.js';

export interface NetworkRow {
  id: string;
  project_id: string;
  name: string;
  description: string;
  admin_state_up: number;
  shared: number;
  external: number;
  status: string;
  mtu: number;
  port_security_enabled: number;
  tags: string;
  revision_number: number;
  created_at: string;
  updated_at: string;
}

export interface SubnetRow {
  id: string;
  network_id: string;
  project_id: string;
  name: string;
  description: string;
  ip_version: number;
  cidr: string;
  gateway_ip: string | null;
  enable_dhcp: number;
  allocation_pools: string;
  dns_nameservers: string;
  host_routes: string;
  tags: string;
  revision_number: number;
  created_at: string;
  updated_at: string;
}

export interface PortRow {
  id: string;
  network_id: string;
  project_id: string;
  name: string;
  description: string;
  mac_address: string;
  admin_state_up: number;
  status: string;
  device_owner: string;
  device_id: string;
  binding_host_id: string;
  port_security_enabled: number;
  tags: string;
  revision_number: number;
  created_at: string;
  updated_at: string;
  /** 1: created by the network service for an instance (deleted with it); 0: the user's. */
  auto_created: number;
  /** Place among the instance's NICs. */
  device_index: number;
}

export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

export const DHCP_OWNER = 'network:dhcp';

export const pools = (s: SubnetRow): Pool[] => json<Pool[]>(s.allocation_pools, []);
export const dnsServers = (s: SubnetRow): string[] => json<string[]>(s.dns_nameservers, []);
export const hostRoutes = (s: SubnetRow): { destination: string; nexthop: string }[] => json(s.host_routes, []);

export const networkNotFound = (id: string) => new NovaError('NotFound', `Network ${id} could not be found.`, { neutronType: 'NetworkNotFound' });
export const subnetNotFound = (id: string) => new NovaError('NotFound', `Subnet ${id} could not be found.`, { neutronType: 'SubnetNotFound' });
export const portNotFound = (id: string) => new NovaError('NotFound', `Port ${id} could not be found.`, { neutronType: 'PortNotFound' });

export async function getNetwork(sql: Sql, id: string): Promise<NetworkRow> {
  const row = await sql.get<NetworkRow>('SELECT * FROM networks WHERE id = ?', [id]);
  if (!row) throw networkNotFound(id);
  return row;
}

export async function getSubnet(sql: Sql, id: string): Promise<SubnetRow> {
  const row = await sql.get<SubnetRow>('SELECT * FROM subnets WHERE id = ?', [id]);
  if (!row) throw subnetNotFound(id);
  return row;
}

export async function getPort(sql: Sql, id: string): Promise<PortRow> {
  const row = await sql.get<PortRow>('SELECT * FROM ports WHERE id = ?', [id]);
  if (!row) throw portNotFound(id);
  return row;
}

/** Subnet ids of each network, in creation order. */
export async function subnetIdsByNetwork(sql: Sql, networkIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(networkIds.map((id) => [id, []]));
  if (!networkIds.length) return out;
  const rows = await sql.all<{ id: string; network_id: string }>(
    `SELECT id, network_id FROM subnets WHERE network_id IN ${inList(networkIds.length)} ORDER BY created_at, id`,
    networkIds,
  );
  for (const r of rows) out.get(r.network_id)?.push(r.id);
  return out;
}

/** Fixed IPs of each port, ordered by subnet then address. */
export async function fixedIpsByPort(sql: Sql, portIds: string[]): Promise<Map<string, FixedIp[]>> {
  const out = new Map<string, FixedIp[]>(portIds.map((id) => [id, []]));
  if (!portIds.length) return out;
  const rows = await sql.all<FixedIp & { port_id: string }>(
    `SELECT port_id, subnet_id, ip_address FROM ip_allocations WHERE port_id IN ${inList(portIds.length)}`,
    portIds,
  );
  for (const r of rows) out.get(r.port_id)?.push({ subnet_id: r.subnet_id, ip_address: r.ip_address });
  return out;
}

/** Fails with NotFound naming the row when it is gone (a racing delete); else the row. */
export function must<T>(row: T | undefined, id: string, what: 'network' | 'subnet' | 'port'): T {
  if (row) return row;
  throw what === 'network' ? networkNotFound(id) : what === 'subnet' ? subnetNotFound(id) : portNotFound(id);
}
