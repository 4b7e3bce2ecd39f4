/**
 * Validation of a subnet's addressing (IPv4 only): CIDR, gateway, allocation pools, DNS
 * servers and host routes, and the nova-network rule that no two subnets of any networks
 * overlap (the metadata service tells guests apart by fixed IP). Each failure names what to fix.
 */
import type { Sql } from '../db/sql.js';
import { NovaError, invalid } from '../errors.js';
import { contains, defaultPools, formatCidr, formatIp, hostRange, overlaps, parseCidr, parseIp, poolRanges, type Cidr, type Pool } from './ipv4.js';

export interface Addressing {
  cidr: Cidr;
  gateway_ip: string | null;
  allocation_pools: Pool[];
  dns_nameservers: string[];
  host_routes: { destination: string; nexthop: string }[];
}

const bad = (msg: string) => new NovaError('Invalid', `Invalid input for operation: ${msg}`, { neutronType: 'InvalidInput' });

export function checkCidr(text: string): Cidr {
  const strict = parseCidr(text);
  if (!strict) {
    const loose = parseCidr(text, false);
    if (loose) throw invalid(`Invalid input for cidr. Reason: '${text}' isn't a recognized IP subnet cidr, '${formatCidr(loose)}' is recommended.`);
    throw invalid(`Invalid input for cidr. Reason: '${text}' is not a valid IPv4 subnet (expected a.b.c.d/prefix).`);
  }
  if (strict.prefix > 30) throw invalid(`Invalid input for cidr. Reason: '${text}' leaves no addresses for hosts; use a prefix length of 30 or less.`);
  return strict;
}

export function checkGateway(c: Cidr, gateway: string | null | undefined): string | null {
  if (gateway === undefined) return formatIp(hostRange(c)[0]);
  if (gateway === null) return null;
  const n = parseIp(gateway);
  if (n === null) throw invalid(`Invalid input for gateway_ip. Reason: '${gateway}' is not a valid IP address.`);
  const [lo, hi] = hostRange(c);
  if (n < lo || n > hi) throw bad(`Gateway IP ${gateway} is not a host address of subnet ${formatCidr(c)}.`);
  return gateway;
}

export function checkPools(c: Cidr, pools: Pool[] | undefined, gateway: string | null): Pool[] {
  const gw = gateway === null ? null : parseIp(gateway);
  if (pools === undefined) return defaultPools(c, gw);
  const [lo, hi] = hostRange(c);
  for (const p of pools) {
    const s = parseIp(p.start);
    const e = parseIp(p.end);
    if (s === null || e === null) throw invalid(`Invalid input for allocation_pools. Reason: '${p.start}-${p.end}' is not a range of IPv4 addresses.`);
    if (s > e) throw bad(`The allocation pool ${p.start}-${p.end} ends before it starts.`);
    if (s < lo || e > hi) throw bad(`The allocation pool ${p.start}-${p.end} spans beyond the host addresses of subnet ${formatCidr(c)}.`);
    if (gw !== null && gw >= s && gw <= e)
      throw new NovaError('Conflict', `Gateway ip ${gateway} conflicts with allocation pool ${p.start}-${p.end}`, { neutronType: 'GatewayConflictWithAllocationPools' });
  }
  const ranges = poolRanges(pools);
  for (let i = 1; i < ranges.length; i++)
    if (ranges[i][0] <= ranges[i - 1][1]) throw bad(`Found overlapping allocation pools: ${formatIp(ranges[i - 1][0])}-${formatIp(ranges[i - 1][1])} and ${formatIp(ranges[i][0])}-${formatIp(ranges[i][1])}.`);
  return pools.map((p) => ({ start: p.start, end: p.end }));
}

export function checkDns(list: string[] | undefined): string[] {
  const out = list ?? [];
  if (out.length > 5) throw bad(`A subnet takes at most 5 DNS nameservers (${out.length} given).`);
  const seen = new Set<string>();
  for (const d of out) {
    if (parseIp(d) === null) throw invalid(`Invalid input for dns_nameservers. Reason: '${d}' is not a valid IPv4 nameserver.`);
    if (seen.has(d)) throw invalid(`Invalid input for dns_nameservers. Reason: Duplicate nameserver '${d}'.`);
    seen.add(d);
  }
  return out;
}

export function checkRoutes(routes: { destination: string; nexthop: string }[] | undefined): { destination: string; nexthop: string }[] {
  const out = routes ?? [];
  if (out.length > 20) throw bad(`A subnet takes at most 20 host routes (${out.length} given).`);
  for (const r of out) {
    if (!parseCidr(r.destination)) throw invalid(`Invalid input for host_routes. Reason: destination '${r.destination}' is not a valid IPv4 CIDR.`);
    if (parseIp(r.nexthop) === null) throw invalid(`Invalid input for host_routes. Reason: nexthop '${r.nexthop}' is not a valid IPv4 address.`);
  }
  return out;
}

/** 400 naming the subnet (of any network) that c would overlap. */
export async function checkNoOverlap(sql: Sql, c: Cidr, networkId: string, exceptId?: string): Promise<void> {
  const rows = await sql.all<{ id: string; cidr: string; network_id: string }>('SELECT id, cidr, network_id FROM subnets');
  for (const r of rows) {
    if (r.id === exceptId) continue;
    const other = parseCidr(r.cidr, false);
    if (other && overlaps(c, other))
      throw bad(`Requested subnet with cidr: ${formatCidr(c)} for network: ${networkId} overlaps with another subnet ${r.id} (cidr ${r.cidr}${r.network_id === networkId ? '' : `, network ${r.network_id}`}).`);
  }
}

/** True when ip lies inside the subnet. */
export function inSubnet(c: Cidr, ip: string): boolean {
  const n = parseIp(ip);
  return n !== null && contains(c, n);
}
