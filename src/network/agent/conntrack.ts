import type { AgentPort, AgentRule } from '../types.js';
import { cidrRange, intToIp } from './cidr.js';
import { unavailable } from '../../errors.js';
import { inNetns } from './exec.js';
import { ruleMatch, ruleProtocol } from './firewall.js';

/**
 * Tracked flows after a firewall change (Neutron deletes them too). The chains accept
 * RELATED,ESTABLISHED first, so a flow admitted before a rule went away would keep flowing.
 * After each applied sync the agent compares what every port admitted before with what it
 * admits now and deletes, with `conntrack -D`, the tracked flows of each port whose admission
 * shrank. Flows that are still allowed survive: their next packet is tracked again as a new
 * flow (nf_conntrack_tcp_loose=1 picks up TCP mid-stream) and passes the new rules.
 *
 * "Shrank" is kept simple and errs on the side of deleting: any rule or remote CIDR of a
 * direction that is no longer there (a widening that is not a pure addition counts too), a
 * fixed IP the port lost, a port that went away, or a port whose filtering was switched on.
 * The deletion is narrowed to the protocols of what went away (removing an ICMP rule leaves
 * TCP flows alone), so a flow whose peer would not admit its reverse direction as a new flow
 * is not cut for nothing.
 */

/** What one filtered port admits: its IPv4 addresses and its rules as atoms (one per rule x remote CIDR). */
export interface PortAdmits {
  filtered: boolean;
  ips: string[];
  /** atom -> IP protocol number, or 'any'. */
  ingress: Map<string, number | 'any'>;
  egress: Map<string, number | 'any'>;
}
export type AdmitSnapshot = Map<string, PortAdmits>;

/** Flows to delete: ingress = flows to `ip` (`-d`), egress = flows from it (`-s`); protocols null = all. */
export interface FlowFlush {
  ip: string;
  direction: 'ingress' | 'egress';
  protocols: number[] | null;
}

function normCidr(c: string): string {
  try {
    const r = cidrRange(c);
    return `${intToIp(r.first)}/${r.prefix}`;
  } catch {
    return c;
  }
}

function atoms(rules: AgentRule[]): Map<string, number | 'any'> {
  const out = new Map<string, number | 'any'>();
  for (const r of rules) {
    const m = ruleMatch(r);
    const proto = ruleProtocol(r);
    if (m === null || proto === null) continue; // admits nothing
    for (const cidr of r.remote === null ? ['*'] : r.remote.map(normCidr)) out.set(`${m}|${cidr}`, proto);
  }
  return out;
}

/** What each port of the state admits (the input of narrowings). */
export function admitSnapshot(ports: AgentPort[]): AdmitSnapshot {
  const snap: AdmitSnapshot = new Map();
  for (const p of ports)
    snap.set(p.id, {
      filtered: p.port_security,
      ips: [...new Set(p.fixed_ips.map((f) => f.ip_address).filter((a) => !a.includes(':')))].sort(),
      ingress: p.port_security ? atoms(p.ingress) : new Map(),
      egress: p.port_security ? atoms(p.egress) : new Map(),
    });
  return snap;
}

/** Protocols of the atoms of `before` missing from `after`: [] none, null any. */
function lost(before: Map<string, number | 'any'>, after: Map<string, number | 'any'>): number[] | null {
  const protos = new Set<number>();
  for (const [atom, proto] of before) {
    if (after.has(atom)) continue;
    if (proto === 'any') return null;
    protos.add(proto);
  }
  return [...protos].sort((a, b) => a - b);
}

/** The flows to delete going from `prev` to `next` (deterministic order). */
export function narrowings(prev: AdmitSnapshot, next: AdmitSnapshot): FlowFlush[] {
  const out: FlowFlush[] = [];
  const all = (ip: string) => out.push({ ip, direction: 'ingress', protocols: null }, { ip, direction: 'egress', protocols: null });
  for (const [id, before] of [...prev].sort(([a], [b]) => a.localeCompare(b))) {
    const after = next.get(id);
    if (!after) {
      before.ips.forEach(all); // the port is gone; its address may come back on another port
      continue;
    }
    before.ips.filter((ip) => !after.ips.includes(ip)).forEach(all);
    if (!after.filtered) continue; // admits everything now
    if (!before.filtered) {
      after.ips.forEach(all);
      continue;
    }
    for (const direction of ['ingress', 'egress'] as const) {
      const protocols = lost(before[direction], after[direction]);
      if (protocols === null || protocols.length) for (const ip of after.ips) out.push({ ip, direction, protocols });
    }
  }
  return out;
}

/**
 * Deletes the flows in the namespace. Resolves with the number of entries deleted; rejects
 * naming the first command that failed (exit status 1 only means nothing matched).
 */
export async function flushFlows(netns: string, flushes: FlowFlush[]): Promise<number> {
  let deleted = 0;
  for (const f of flushes) {
    const base = ['-D', f.direction === 'ingress' ? '-d' : '-s', f.ip];
    for (const proto of f.protocols ?? [null]) {
      const args = proto === null ? base : [...base, '-p', String(proto)];
      const r = await inNetns(netns, 'conntrack', args, { allowFail: true });
      if (r.code !== 0 && r.code !== 1) throw unavailable(`conntrack ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim().slice(0, 500)}`);
      deleted += Number(/(\d+) flow entries have been deleted/.exec(r.stderr)?.[1] ?? 0);
    }
  }
  return deleted;
}
