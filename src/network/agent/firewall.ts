import type { AgentPort, AgentRule } from '../types.js';
import { aggregate } from './cidr.js';
import { inNetns } from './exec.js';

/**
 * The namespace's iptables filter rules for bridged guest traffic (Neutron's iptables firewall
 * driver, reduced). Everything of ours lives in chains named `nts-*`:
 *
 *   FORWARD -> nts-FORWARD: per filtered port, `--physdev-out <dev>` -> nts-i-<port> (ingress)
 *                           and `--physdev-in <dev>` -> nts-o-<port> (egress)
 *   INPUT   -> nts-INPUT:   per filtered port, `--physdev-in <dev>` -> nts-o-<port> (what a guest
 *                           sends to the host itself); then, from any guest (filtered or not),
 *                           only replies, DHCP, metadata and ICMP reach the namespace's own
 *                           processes (QEMU lives there too): the rest is dropped.
 *   nts-i-*: RELATED,ESTABLISHED return, INVALID drop, DHCP replies return, one rule per
 *            (rule x aggregated remote CIDR) returning, then DROP.
 *   nts-o-*: DHCP requests from the port's MAC return, anti-spoofing (nts-s-*: only the port's MAC
 *            with one of its fixed IPs), no DHCP server replies, RELATED,ESTABLISHED return,
 *            INVALID drop, metadata (169.254.169.254 tcp/80) return, the egress rules, then DROP.
 * A packet that returns from every chain it meets is accepted by the built-in policy (ACCEPT in
 * the namespace). Ports with port_security false get no chain at all. IPv6 rules are ignored
 * (subnets are IPv4 only; applyIpv6Lockdown keeps all IPv6 off the bridges).
 */

const PROTOCOL_NUMBERS: Record<string, number> = {
  icmp: 1, igmp: 2, ipip: 4, tcp: 6, egp: 8, udp: 17, dccp: 33, rsvp: 46, gre: 47, esp: 50, ah: 51,
  ospf: 89, encap: 98, pim: 103, vrrp: 112, pgm: 113, l2tp: 115, sctp: 132, udplite: 136,
};
/** Protocols iptables knows by name and whose ports (or ICMP type/code) we match. */
const NAMED: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 132: 'sctp' };

const key = (portId: string) => portId.replace(/-/g, '').slice(0, 16);
export const ingressChain = (portId: string) => `nts-i-${key(portId)}`;
export const egressChain = (portId: string) => `nts-o-${key(portId)}`;
export const spoofChain = (portId: string) => `nts-s-${key(portId)}`;
export const TOP_FORWARD = 'nts-FORWARD';
export const TOP_INPUT = 'nts-INPUT';
export const CHAIN_PREFIX = 'nts-';

/** The IP protocol number a rule matches, 'any' for every protocol, null when unknown. */
export function ruleProtocol(r: AgentRule): number | 'any' | null {
  if (r.protocol === null || r.protocol === 'any' || r.protocol === '') return 'any';
  const p = r.protocol.toLowerCase();
  const num = /^\d+$/.test(p) ? Number(p) : PROTOCOL_NUMBERS[p];
  return num === undefined || num > 255 ? null : num;
}

/**
 * The match part of one security group rule (without -s/-d), or null when the rule can never
 * match an IPv4 packet or names a protocol we cannot express (the rule then admits nothing).
 */
export function ruleMatch(r: AgentRule): string | null {
  if (r.ethertype !== 'IPv4') return null;
  const num = ruleProtocol(r);
  if (num === 'any') return '';
  if (num === null) return null;
  const name = NAMED[num];
  if (!name) return `-p ${num}`;
  if (name === 'icmp') {
    if (r.port_min === null) return '-p icmp';
    return `-p icmp -m icmp --icmp-type ${r.port_min}${r.port_max === null ? '' : `/${r.port_max}`}`;
  }
  if (r.port_min === null && r.port_max === null) return `-p ${name}`;
  const lo = r.port_min ?? 1;
  const hi = r.port_max ?? 65535;
  return `-p ${name} -m ${name} --dport ${lo === hi ? lo : `${lo}:${hi}`}`;
}

function ruleLines(chain: string, rules: AgentRule[], remoteFlag: '-s' | '-d'): string[] {
  const out = new Set<string>();
  for (const r of rules) {
    const m = ruleMatch(r);
    if (m === null) continue;
    const match = m ? ` ${m}` : '';
    if (r.remote === null) out.add(`-A ${chain}${match} -j RETURN`);
    else for (const cidr of aggregate(r.remote)) out.add(`-A ${chain} ${remoteFlag} ${cidr}${match} -j RETURN`);
  }
  return [...out];
}

export interface FirewallPlan {
  /** iptables-restore --noflush input (filter table). */
  text: string;
  /** Our chains after the restore. */
  chains: string[];
  /** Rules in our chains after the restore (plus the jumps into them from FORWARD/INPUT). */
  rules: number;
  /** What the chains hold, independent of what was there before (compare with the last one). */
  key: string;
}

/**
 * The whole restore input that makes our chains exactly those the ports need: every wanted
 * chain is declared (which flushes it) and refilled, each chain of ours that is no longer
 * wanted (`existing` minus wanted) is flushed and deleted, and the jumps from FORWARD and
 * INPUT are inserted when `jumps` says they are missing. Deterministic for a given input.
 */
export function buildFirewall(ports: AgentPort[], existing: Iterable<string>, jumps: { forward: boolean; input: boolean }): FirewallPlan {
  const filtered = ports.filter((p) => p.port_security).sort((a, b) => a.id.localeCompare(b.id));
  const chains = [TOP_FORWARD, TOP_INPUT];
  const body: string[] = [];
  const fwd: string[] = [];
  const inp: string[] = [];
  for (const p of filtered) {
    const [i, o, s] = [ingressChain(p.id), egressChain(p.id), spoofChain(p.id)];
    chains.push(i, o, s);
    const dev = p.devname;
    const mac = p.mac.toLowerCase();
    fwd.push(`-A ${TOP_FORWARD} -m physdev --physdev-out ${dev} --physdev-is-bridged -j ${i}`);
    fwd.push(`-A ${TOP_FORWARD} -m physdev --physdev-in ${dev} --physdev-is-bridged -j ${o}`);
    inp.push(`-A ${TOP_INPUT} -m physdev --physdev-in ${dev} -j ${o}`);
    body.push(
      `-A ${i} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
      `-A ${i} -m conntrack --ctstate INVALID -j DROP`,
      `-A ${i} -p udp -m udp --sport 67 --dport 68 -j RETURN`,
      ...ruleLines(i, p.ingress, '-s'),
      `-A ${i} -j DROP`,
    );
    const ips = [...new Set(p.fixed_ips.map((f) => f.ip_address).filter((a) => !a.includes(':')))].sort();
    body.push(
      ...ips.map((ip) => `-A ${s} -s ${ip}/32 -m mac --mac-source ${mac} -j RETURN`),
      `-A ${s} -j DROP`,
    );
    body.push(
      `-A ${o} -s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp --sport 68 --dport 67 -m mac --mac-source ${mac} -j RETURN`,
      `-A ${o} -p udp -m udp --sport 68 --dport 67 -m mac --mac-source ${mac} -j RETURN`,
      `-A ${o} -j ${s}`,
      `-A ${o} -p udp -m udp --sport 67 --dport 68 -j DROP`,
      `-A ${o} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
      `-A ${o} -m conntrack --ctstate INVALID -j DROP`,
      `-A ${o} -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j RETURN`,
      ...ruleLines(o, p.egress, '-d'),
      `-A ${o} -j DROP`,
    );
  }
  inp.push(
    `-A ${TOP_INPUT} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
    `-A ${TOP_INPUT} -p udp -m udp --dport 67 -j RETURN`,
    `-A ${TOP_INPUT} -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j RETURN`,
    `-A ${TOP_INPUT} -p icmp -j RETURN`,
    `-A ${TOP_INPUT} -m physdev --physdev-is-in -j DROP`,
  );
  const wanted = new Set(chains);
  const stale = [...existing].filter((c) => c.startsWith(CHAIN_PREFIX) && !wanted.has(c)).sort();
  const lines = ['*filter', ...chains.map((c) => `:${c} - [0:0]`), ...stale.map((c) => `:${c} - [0:0]`)];
  if (!jumps.forward) lines.push(`-I FORWARD 1 -j ${TOP_FORWARD}`);
  if (!jumps.input) lines.push(`-I INPUT 1 -j ${TOP_INPUT}`);
  lines.push(...fwd, ...inp, ...body, ...stale.map((c) => `-X ${c}`), 'COMMIT', '');
  const key = [...fwd, ...inp, ...body].join('\n');
  return { text: lines.join('\n'), chains, rules: fwd.length + inp.length + body.length + 2, key };
}

export interface Current {
  chains: Set<string>;
  /** `-A` lines in our chains plus the jumps into them. */
  rules: number;
  jumps: { forward: boolean; input: boolean };
}

/** Our part of `iptables-save -t filter` output. */
export function parseSave(save: string): Current {
  const chains = new Set<string>();
  let rules = 0;
  const jumps = { forward: false, input: false };
  for (const line of save.split('\n')) {
    if (line.startsWith(`:${CHAIN_PREFIX}`)) chains.add(line.slice(1).split(' ')[0]);
    else if (line.startsWith(`-A ${CHAIN_PREFIX}`)) rules++;
    else if (line === `-A FORWARD -j ${TOP_FORWARD}`) {
      jumps.forward = true;
      rules++;
    } else if (line === `-A INPUT -j ${TOP_INPUT}`) {
      jumps.input = true;
      rules++;
    }
  }
  return { chains, rules, jumps };
}

/**
 * Makes the namespace's chains match the ports with one iptables-save and, when anything
 * differs from what we last applied, one atomic `iptables-restore --noflush`. `last` is the
 * key (FirewallPlan.key) applied by the previous call (or null); returns the new one. Idempotent.
 */
export async function applyFirewall(
  netns: string,
  ports: AgentPort[],
  last: string | null,
): Promise<{ key: string; rules: number; applied: boolean }> {
  const cur = parseSave((await inNetns(netns, 'iptables-save', ['-t', 'filter'])).stdout);
  const plan = buildFirewall(ports, cur.chains, cur.jumps);
  const same =
    last === plan.key &&
    cur.jumps.forward &&
    cur.jumps.input &&
    cur.rules === plan.rules &&
    cur.chains.size === plan.chains.length &&
    plan.chains.every((c) => cur.chains.has(c));
  if (!same) await inNetns(netns, 'iptables-restore', ['--noflush', '-w'], { input: plan.text });
  return { key: plan.key, rules: plan.rules, applied: !same };
}

/**
 * IPv6 (subnets are IPv4 only, so guests have only link-local addresses): no IPv6 is bridged
 * between guests and none reaches the namespace's own processes, whatever the rules say.
 * Static; applied once per start, idempotently (our chains refilled, jumps inserted once).
 */
export async function applyIpv6Lockdown(netns: string): Promise<void> {
  const cur = parseSave((await inNetns(netns, 'ip6tables-save', ['-t', 'filter'])).stdout);
  const lines = ['*filter', `:${TOP_FORWARD} - [0:0]`, `:${TOP_INPUT} - [0:0]`];
  if (!cur.jumps.forward) lines.push(`-I FORWARD 1 -j ${TOP_FORWARD}`);
  if (!cur.jumps.input) lines.push(`-I INPUT 1 -j ${TOP_INPUT}`);
  lines.push(`-A ${TOP_FORWARD} -m physdev --physdev-is-bridged -j DROP`, `-A ${TOP_INPUT} -m physdev --physdev-is-in -j DROP`, 'COMMIT', '');
  await inNetns(netns, 'ip6tables-restore', ['--noflush', '-w'], { input: lines.join('\n') });
}
