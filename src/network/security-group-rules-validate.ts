/**
 * Security group rule input, checked as Neutron checks it: protocol names or numbers, port
 * ranges only for port protocols, ICMP type/code, remote_ip_prefix a CIDR of the rule's
 * ethertype, never both remote fields. Every error is a 400 whose message says what to fix.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { NovaError } from '../errors.js';

/** Protocol names Neutron accepts and their IP protocol numbers. */
export const PROTOCOLS: Readonly<Record<string, number>> = {
  ah: 51, dccp: 33, egp: 8, esp: 50, gre: 47, hopopt: 0, icmp: 1, icmpv6: 58, igmp: 2, ipip: 4,
  'ipv6-encap': 41, 'ipv6-frag': 44, 'ipv6-icmp': 58, 'ipv6-nonxt': 59, 'ipv6-opts': 60, 'ipv6-route': 43,
  ospf: 89, pgm: 113, rsvp: 46, sctp: 132, tcp: 6, udp: 17, udplite: 136, vrrp: 112,
};
/** Protocols whose rules may carry a port range (by number). */
const PORT_PROTOCOLS = new Set([6, 17, 33, 132, 136]);
const ICMP_PROTOCOLS = new Set([1, 58]);
const IPV6_ONLY = new Set(['icmpv6', 'ipv6-icmp', 'ipv6-encap', 'ipv6-frag', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', '58', '43', '44', '59', '60']);

export const badRule = (msg: string, type = 'InvalidInput') => new NovaError('Invalid', msg, { neutronType: type });

/** A rule's fields after validation, as stored. */
export interface RuleFields {
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  description: string;
}

/** The IP protocol number of a stored protocol (name or number string); null for any. */
export function protocolNumber(protocol: string | null): number | null {
  if (protocol === null) return null;
  return /^\d+$/.test(protocol) ? Number(protocol) : (PROTOCOLS[protocol] ?? null);
}

function parseProtocol(value: unknown): string | null {
  if (value === null || value === undefined || value === '' || value === 'any') return null;
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  if (text !== undefined && /^\d+$/.test(text) && Number(text) <= 255) return String(Number(text));
  if (text !== undefined && text in PROTOCOLS) return text;
  throw badRule(
    `Security group rule protocol ${JSON.stringify(value)} not supported. Only protocol values ${Object.keys(PROTOCOLS).sort().join(', ')} and integer representations [0 to 255] are supported.`,
    'SecurityGroupRuleInvalidProtocol',
  );
}

function parsePort(value: unknown, attr: string): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw badRule(`Invalid value for port ${JSON.stringify(value)} (${attr}): it must be an integer from 0 to 65535.`, 'SecurityGroupInvalidPortValue');
  return n;
}

function parseEthertype(value: unknown): 'IPv4' | 'IPv6' {
  if (value === undefined || value === null) return 'IPv4';
  if (typeof value === 'string' && value.toLowerCase() === 'ipv4') return 'IPv4';
  if (typeof value === 'string' && value.toLowerCase() === 'ipv6') return 'IPv6';
  throw badRule(`Invalid input for ethertype. Reason: ${JSON.stringify(value)} is not in ['IPv4', 'IPv6'].`);
}

/** Parses a CIDR or a bare address (taken as /32 or /128); null when it is neither. */
export function parseCidr(text: string): { version: 4 | 6; address: string; prefix: number } | null {
  const [address, prefixText, ...rest] = text.trim().split('/');
  if (rest.length) return null;
  const version = isIPv4(address) ? 4 : isIPv6(address) ? 6 : null;
  if (!version) return null;
  const max = version === 4 ? 32 : 128;
  if (prefixText === undefined) return { version, address, prefix: max };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return null;
  return { version, address, prefix: Number(prefixText) };
}

function ipv4ToInt(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function ipv6ToBigInt(a: string): bigint {
  let text = a;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipv4ToInt(v4[1]);
    text = text.slice(0, -v4[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function bigIntToIpv6(n: bigint): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  // Compress the longest run of zero groups (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** The network of a CIDR with host bits cleared (Neutron's normalized_cidr). */
export function normalizeCidr(text: string): string | null {
  const c = parseCidr(text);
  if (!c) return null;
  if (c.version === 4) {
    const mask = c.prefix === 0 ? 0 : (0xffffffff << (32 - c.prefix)) >>> 0;
    const n = (ipv4ToInt(c.address) & mask) >>> 0;
    return `${[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')}/${c.prefix}`;
  }
  const mask = c.prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - c.prefix)) - 1n);
  return `${bigIntToIpv6(ipv6ToBigInt(c.address) & mask)}/${c.prefix}`;
}

/** Checks port_range_min/max against the protocol (Neutron's port range rules). */
function checkPorts(protocol: string | null, min: number | null, max: number | null): void {
  if (min === null && max === null) return;
  if (protocol === null)
    throw badRule('Must also specify protocol if port range is given.', 'SecurityGroupProtocolRequiredWithPorts');
  const num = protocolNumber(protocol)!;
  if (PORT_PROTOCOLS.has(num)) {
    if (min === 0 || max === 0) throw badRule('Invalid value for port 0: ports of TCP, UDP, SCTP, DCCP and UDP-Lite rules run from 1 to 65535.', 'SecurityGroupInvalidPortValue');
    // Neutron answers one message for a missing end and for min > max; the rest says which it was.
    if (min === null || max === null)
      throw badRule(
        `For TCP/UDP protocols, port_range_min must be <= port_range_max: ${min === null ? 'port_range_min' : 'port_range_max'} is missing; for ${protocol} rules give both port_range_min and port_range_max (the same value for a single port).`,
        'SecurityGroupInvalidPortRange',
      );
    if (min > max)
      throw badRule(`For TCP/UDP protocols, port_range_min must be <= port_range_max (got ${min} > ${max}).`, 'SecurityGroupInvalidPortRange');
    return;
  }
  if (ICMP_PROTOCOLS.has(num)) {
    for (const [attr, field, v] of [['port_range_min', 'type', min], ['port_range_max', 'code', max]] as const)
      if (v !== null && v > 255)
        throw badRule(`Invalid value for ICMP ${field} (${attr}) ${v}. It must be 0 to 255.`, 'SecurityGroupInvalidIcmpValue');
    if (min === null)
      throw badRule(`ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`, 'SecurityGroupMissingIcmpType');
    return;
  }
  throw badRule(
    `Invalid protocol ${protocol} for port range: port ranges are only supported for TCP, UDP, UDP-Lite, SCTP and DCCP (and ICMP type/code).`,
    'SecurityGroupInvalidProtocolForPort',
  );
}

/**
 * Validates and normalises a rule body (fields already known to be the allowed ones; the
 * group ids' existence is checked by the caller). Throws a 400 naming what is wrong.
 */
export function parseRuleFields(body: Record<string, unknown>): RuleFields {
  const direction = body.direction;
  if (direction !== 'ingress' && direction !== 'egress')
    throw badRule(`Invalid input for direction. Reason: ${JSON.stringify(direction ?? null)} is not in ['ingress', 'egress'].`);
  const ethertype = parseEthertype(body.ethertype);
  const protocol = parseProtocol(body.protocol);
  const port_range_min = parsePort(body.port_range_min, 'port_range_min');
  const port_range_max = parsePort(body.port_range_max, 'port_range_max');
  checkPorts(protocol, port_range_min, port_range_max);
  if (protocol !== null && ethertype === 'IPv4' && IPV6_ONLY.has(protocol))
    throw badRule(`Invalid ethertype IPv4 for protocol ${protocol}: use ethertype IPv6.`, 'SecurityGroupEthertypeConflictWithProtocol');
  const remoteGroup = body.remote_group_id ?? null;
  if (remoteGroup !== null && typeof remoteGroup !== 'string')
    throw badRule(`Invalid input for remote_group_id. Reason: ${JSON.stringify(remoteGroup)} is not a security group id.`);
  let remote_ip_prefix: string | null = null;
  const prefix = body.remote_ip_prefix ?? null;
  if (prefix !== null && prefix !== '') {
    const c = typeof prefix === 'string' ? parseCidr(prefix) : null;
    if (!c) throw badRule(`Invalid input for remote_ip_prefix. Reason: ${JSON.stringify(prefix)} is not a valid IP subnet (CIDR like 10.0.0.0/24).`, 'InvalidCIDR');
    remote_ip_prefix = `${c.address}/${c.prefix}`;
    if ((c.version === 4) !== (ethertype === 'IPv4'))
      throw badRule(`Conflicting value ethertype ${ethertype} for CIDR ${remote_ip_prefix}: set ethertype to IPv${c.version}.`, 'SecurityGroupRuleParameterConflict');
  }
  if (remote_ip_prefix !== null && remoteGroup !== null)
    throw badRule('Only remote_ip_prefix or remote_group_id may be provided.', 'SecurityGroupRemoteGroupAndRemoteIpPrefix');
  const description = body.description ?? '';
  if (typeof description !== 'string' || description.length > 255)
    throw badRule('Invalid input for description. Reason: it must be a string of at most 255 characters.');
  return { direction, ethertype, protocol, port_range_min, port_range_max, remote_ip_prefix, remote_group_id: remoteGroup, description };
}

/** The key two rules share when they are the same rule (Neutron's duplicate check). */
export function ruleKey(r: Omit<RuleFields, 'description'>): string {
  return JSON.stringify([
    r.direction,
    r.ethertype,
    protocolNumber(r.protocol),
    r.port_range_min,
    r.port_range_max,
    // A /0 prefix admits everyone, as no prefix does.
    r.remote_ip_prefix === null || r.remote_ip_prefix.endsWith('/0') ? null : normalizeCidr(r.remote_ip_prefix),
    r.remote_group_id,
  ]);
}
