/**
 * IP address management in the DB. An address belongs to a port once its row is in
 * ip_allocations; the primary key (subnet_id, ip_address) makes a racing second insert of the
 * same address a no-op (INSERT ... ON CONFLICT DO NOTHING, on SQLite and PostgreSQL alike), and
 * the allocator then tries the next address. Automatic allocation takes the lowest free
 * address of the subnet's pools.
 */
import type { Sql } from '../db/sql.js';
import { NovaError } from '../errors.js';
import { contains, formatIp, isHostAddress, parseCidr, parseIp, poolRanges } from './ipv4.js';
import { pools, type SubnetRow } from './repo.js';

const INSERT = 'INSERT INTO ip_allocations (subnet_id, ip_address, port_id, network_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING';

export const ipInUse = (ip: string, subnetId: string) =>
  new NovaError('Conflict', `IP address ${ip} already allocated in subnet ${subnetId}`, { neutronType: 'IpAddressAlreadyAllocated' });

export const noMoreIps = (networkId: string) =>
  new NovaError('Conflict', `No more IP addresses available on network ${networkId}.`, { neutronType: 'IpAddressGenerationFailure' });

/**
 * Gives portId the address `ip` of subnet: 400 'InvalidIpForSubnet' when it is not a host
 * address of the subnet, 409 'IpAddressAlreadyAllocated' when taken (or the gateway).
 */
export async function allocateSpecific(sql: Sql, subnet: SubnetRow, portId: string, ip: string): Promise<void> {
  const cidr = parseCidr(subnet.cidr)!;
  const n = parseIp(ip);
  if (n === null || !contains(cidr, n) || !isHostAddress(cidr, n))
    throw new NovaError('Invalid', `IP address ${ip} is not a valid IP for the specified subnet ${subnet.id} (${subnet.cidr}).`, { neutronType: 'InvalidIpForSubnet' });
  if (ip === subnet.gateway_ip) throw ipInUse(ip, subnet.id);
  const r = await sql.run(INSERT, [subnet.id, ip, portId, subnet.network_id]);
  if (r.changes === 0) throw ipInUse(ip, subnet.id);
}

/** Gives portId the lowest free pool address of subnet; null when the pools are exhausted. */
export async function allocateNext(sql: Sql, subnet: SubnetRow, portId: string): Promise<string | null> {
  const taken = new Set(
    (await sql.all<{ ip_address: string }>('SELECT ip_address FROM ip_allocations WHERE subnet_id = ?', [subnet.id])).map((r) => parseIp(r.ip_address)),
  );
  for (const [lo, hi] of poolRanges(pools(subnet))) {
    for (let n = lo; n <= hi; n++) {
      if (taken.has(n)) continue;
      const ip = formatIp(n);
      if (ip === subnet.gateway_ip) continue;
      // A concurrent allocator may have taken it since the read: then try the next one.
      if ((await sql.run(INSERT, [subnet.id, ip, portId, subnet.network_id])).changes === 1) return ip;
    }
  }
  return null;
}

/** Releases the port's addresses (all, or those not in keep as "subnet/ip"). */
export async function releaseIps(sql: Sql, portId: string, keep: Set<string> = new Set()): Promise<void> {
  const rows = await sql.all<{ subnet_id: string; ip_address: string }>('SELECT subnet_id, ip_address FROM ip_allocations WHERE port_id = ?', [portId]);
  for (const r of rows)
    if (!keep.has(`${r.subnet_id}/${r.ip_address}`))
      await sql.run('DELETE FROM ip_allocations WHERE subnet_id = ? AND ip_address = ? AND port_id = ?', [r.subnet_id, r.ip_address, portId]);
}
