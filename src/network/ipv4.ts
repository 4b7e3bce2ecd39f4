/**
 * IPv4 arithmetic for subnets and IPAM: addresses as unsigned 32-bit numbers. Parsers answer
 * null for anything that is not a canonical dotted quad / CIDR, so callers word their own 400s.
 */

export interface Cidr {
  /** Network address (host bits zero). */
  base: number;
  prefix: number;
  /** Number of addresses, 2^(32-prefix). */
  size: number;
}

export interface Pool {
  start: string;
  end: string;
}

const QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The address as a number, or null when s is not a dotted-quad IPv4 address. */
export function parseIp(s: unknown): number | null {
  if (typeof s !== 'string' || !QUAD.test(s)) return null;
  return s.split('.').reduce((n, p) => n * 256 + Number(p), 0);
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses `a.b.c.d/p`; `strict` also requires the host bits to be zero. */
export function parseCidr(s: unknown, strict = true): Cidr | null {
  if (typeof s !== 'string') return null;
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  if (!m) return null;
  const ip = parseIp(m[1]);
  const prefix = Number(m[2]);
  if (ip === null || prefix > 32) return null;
  const size = 2 ** (32 - prefix);
  const base = ip - (ip % size);
  if (strict && base !== ip) return null;
  return { base, prefix, size };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.prefix}`;
}

export function contains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + c.size;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

/** First and last usable host addresses (network and broadcast excluded; /31 and /32 use all). */
export function hostRange(c: Cidr): [number, number] {
  if (c.prefix >= 31) return [c.base, c.base + c.size - 1];
  return [c.base + 1, c.base + c.size - 2];
}

/** True when ip is a host address of c (not its network or broadcast address). */
export function isHostAddress(c: Cidr, ip: number): boolean {
  const [lo, hi] = hostRange(c);
  return ip >= lo && ip <= hi;
}

/** Neutron's default pools: every host address except the gateway. */
export function defaultPools(c: Cidr, gateway: number | null): Pool[] {
  const [lo, hi] = hostRange(c);
  const pools: Pool[] = [];
  if (gateway === null || gateway < lo || gateway > hi) return lo <= hi ? [{ start: formatIp(lo), end: formatIp(hi) }] : [];
  if (gateway > lo) pools.push({ start: formatIp(lo), end: formatIp(gateway - 1) });
  if (gateway < hi) pools.push({ start: formatIp(gateway + 1), end: formatIp(hi) });
  return pools;
}

/** Pools as numeric ranges, in ascending order. */
export function poolRanges(pools: Pool[]): [number, number][] {
  return pools.map((p) => [parseIp(p.start)!, parseIp(p.end)!] as [number, number]).sort((a, b) => a[0] - b[0]);
}
