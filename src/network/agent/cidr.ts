/** IPv4 address and CIDR arithmetic for the agent (dnsmasq netmasks, rule aggregation). */

export function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

export const intToIp = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** Parses `a.b.c.d/n` (or a bare address: /32) into its first and last address. */
export function cidrRange(cidr: string): { first: number; last: number; prefix: number } {
  const [ip, len] = cidr.split('/');
  const prefix = len === undefined ? 32 : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`bad prefix length in ${cidr}`);
  const size = 2 ** (32 - prefix);
  const first = Math.floor(ipToInt(ip) / size) * size;
  return { first, last: first + size - 1, prefix };
}

export const prefixLength = (cidr: string) => cidrRange(cidr).prefix;
export const netmask = (prefix: number) => intToIp(prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
export const networkAddress = (cidr: string) => intToIp(cidrRange(cidr).first);
export const isIPv4Cidr = (s: string) => /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/.test(s);

/**
 * The smallest list of CIDRs covering exactly the union of the given IPv4 CIDRs (sorted).
 * Used so that a remote group of 200 consecutive members is a handful of rules, not 200.
 * Non-IPv4 entries are dropped.
 */
export function aggregate(cidrs: string[]): string[] {
  const ranges = cidrs
    .filter(isIPv4Cidr)
    .map(cidrRange)
    .sort((a, b) => a.first - b.first);
  const merged: { first: number; last: number }[] = [];
  for (const r of ranges) {
    const top = merged[merged.length - 1];
    if (top && r.first <= top.last + 1) top.last = Math.max(top.last, r.last);
    else merged.push({ first: r.first, last: r.last });
  }
  const out: string[] = [];
  for (const { first, last } of merged) {
    let cur = first;
    while (cur <= last) {
      let size = 1;
      // Largest aligned block starting at cur that stays within last.
      while (size < 2 ** 32 && cur % (size * 2) === 0 && cur + size * 2 - 1 <= last) size *= 2;
      out.push(`${intToIp(cur)}/${32 - Math.log2(size)}`);
      cur += size;
    }
  }
  return out;
}
