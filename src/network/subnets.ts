/**
 * Subnet writes. A subnet with DHCP on and no gateway gets a port (device_owner network:dhcp,
 * device_id dhcp-<subnet>) whose address the hosts' bridges take; it is created and removed
 * with the subnet's settings, in the same transaction.
 */
import type { Sql } from '../db/sql.js';
import { NovaError } from '../errors.js';
import { uuid } from '../util/ids.js';
import { nowIso } from '../util/time.js';
import { formatCidr, parseCidr, type Pool } from './ipv4.js';
import { createPort, deletePort } from './ports.js';
import { checkQuota } from './quotas.js';
import { DHCP_OWNER, dnsServers, getNetwork, getSubnet, hostRoutes, pools, type NetworkRow, type SubnetRow } from './repo.js';
import type { SecurityGroupLink } from './sg-link.js';
import { checkCidr, checkDns, checkGateway, checkNoOverlap, checkPools, checkRoutes } from './subnet-checks.js';

export interface SubnetInput {
  name?: string;
  description?: string;
  cidr: string;
  gateway_ip?: string | null;
  enable_dhcp?: boolean;
  allocation_pools?: Pool[];
  dns_nameservers?: string[];
  host_routes?: { destination: string; nexthop: string }[];
}

export type SubnetChanges = Partial<Omit<SubnetInput, 'cidr'>>;

export const dhcpDeviceId = (subnetId: string) => `dhcp-${subnetId}`;

/** Makes the subnet's DHCP port exist exactly when DHCP is on and there is no gateway. */
async function reconcileDhcpPort(sql: Sql, sg: SecurityGroupLink, network: NetworkRow, s: SubnetRow): Promise<void> {
  const port = await sql.get<{ id: string }>('SELECT id FROM ports WHERE device_owner = ? AND device_id = ?', [DHCP_OWNER, dhcpDeviceId(s.id)]);
  const wanted = !!s.enable_dhcp && s.gateway_ip === null;
  if (wanted && !port)
    await createPort(sql, sg, network, {
      project_id: s.project_id, device_owner: DHCP_OWNER, device_id: dhcpDeviceId(s.id), fixed_ips: [{ subnet_id: s.id }], port_security_enabled: false,
    });
  if (!wanted && port) await deletePort(sql, port.id);
}

export async function createSubnet(sql: Sql, sg: SecurityGroupLink, network: NetworkRow, projectId: string, input: SubnetInput): Promise<SubnetRow> {
  const cidr = checkCidr(input.cidr);
  const gateway = checkGateway(cidr, input.gateway_ip);
  const allocation = checkPools(cidr, input.allocation_pools, gateway);
  const dns = checkDns(input.dns_nameservers);
  const routes = checkRoutes(input.host_routes);
  return sql.tx(async (tx) => {
    await checkQuota(tx, projectId, 'subnet');
    await checkNoOverlap(tx, cidr, network.id);
    const now = nowIso();
    const row: SubnetRow = {
      id: uuid(), network_id: network.id, project_id: projectId, name: input.name ?? '', description: input.description ?? '', ip_version: 4,
      cidr: formatCidr(cidr), gateway_ip: gateway, enable_dhcp: input.enable_dhcp === false ? 0 : 1, allocation_pools: JSON.stringify(allocation),
      dns_nameservers: JSON.stringify(dns), host_routes: JSON.stringify(routes), tags: '[]', revision_number: 1, created_at: now, updated_at: now,
    };
    await tx.run(
      `INSERT INTO subnets (id, network_id, project_id, name, description, ip_version, cidr, gateway_ip, enable_dhcp, allocation_pools,
        dns_nameservers, host_routes, tags, revision_number, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [row.id, row.network_id, row.project_id, row.name, row.description, row.ip_version, row.cidr, row.gateway_ip, row.enable_dhcp,
        row.allocation_pools, row.dns_nameservers, row.host_routes, row.tags, row.revision_number, row.created_at, row.updated_at],
    );
    await reconcileDhcpPort(tx, sg, network, row);
    return row;
  });
}

export async function updateSubnet(sql: Sql, sg: SecurityGroupLink, id: string, ch: SubnetChanges): Promise<SubnetRow> {
  return sql.tx(async (tx) => {
    const row = await getSubnet(tx, id);
    const cidr = parseCidr(row.cidr)!;
    const gateway = ch.gateway_ip === undefined ? row.gateway_ip : checkGateway(cidr, ch.gateway_ip);
    if (gateway !== null && gateway !== row.gateway_ip) {
      const holder = await tx.get<{ port_id: string }>('SELECT port_id FROM ip_allocations WHERE subnet_id = ? AND ip_address = ?', [id, gateway]);
      if (holder)
        throw new NovaError('Conflict', `Gateway IP ${gateway} is already allocated to port ${holder.port_id} in subnet ${id}.`, { neutronType: 'IpAddressInUse' });
    }
    const allocation = ch.allocation_pools !== undefined ? checkPools(cidr, ch.allocation_pools, gateway) : checkPools(cidr, pools(row), gateway);
    const next: SubnetRow = {
      ...row,
      name: ch.name ?? row.name,
      description: ch.description ?? row.description,
      gateway_ip: gateway,
      enable_dhcp: ch.enable_dhcp === undefined ? row.enable_dhcp : ch.enable_dhcp ? 1 : 0,
      allocation_pools: JSON.stringify(allocation),
      dns_nameservers: JSON.stringify(ch.dns_nameservers !== undefined ? checkDns(ch.dns_nameservers) : dnsServers(row)),
      host_routes: JSON.stringify(ch.host_routes !== undefined ? checkRoutes(ch.host_routes) : hostRoutes(row)),
      revision_number: row.revision_number + 1,
      updated_at: nowIso(),
    };
    await tx.run(
      `UPDATE subnets SET name = ?, description = ?, gateway_ip = ?, enable_dhcp = ?, allocation_pools = ?, dns_nameservers = ?, host_routes = ?,
        revision_number = ?, updated_at = ? WHERE id = ?`,
      [next.name, next.description, next.gateway_ip, next.enable_dhcp, next.allocation_pools, next.dns_nameservers, next.host_routes,
        next.revision_number, next.updated_at, id],
    );
    await reconcileDhcpPort(tx, sg, await getNetwork(tx, row.network_id), next);
    return next;
  });
}

/** Deletes a subnet (and its DHCP port); 409 'SubnetInUse' while other ports hold addresses in it. */
export async function deleteSubnet(sql: Sql, id: string): Promise<void> {
  await sql.tx(async (tx) => {
    const used = await tx.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM ip_allocations a JOIN ports p ON p.id = a.port_id WHERE a.subnet_id = ? AND p.device_owner <> ?`,
      [id, DHCP_OWNER],
    );
    if (Number(used?.n) > 0)
      throw new NovaError('Conflict', `Unable to complete operation on subnet ${id}: One or more ports have an IP allocation from this subnet.`, { neutronType: 'SubnetInUse' });
    const dhcp = await tx.get<{ id: string }>('SELECT id FROM ports WHERE device_owner = ? AND device_id = ?', [DHCP_OWNER, dhcpDeviceId(id)]);
    if (dhcp) await deletePort(tx, dhcp.id);
    await tx.run('DELETE FROM ip_allocations WHERE subnet_id = ?', [id]);
    await tx.run('DELETE FROM subnets WHERE id = ?', [id]);
  });
}
