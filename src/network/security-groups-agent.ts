/**
 * Security group rules as a host's network agent applies them: per port, the ingress and
 * egress rules of all its groups, with remote groups expanded to their members' fixed IPs.
 */
import { inList, type Sql } from '../db/sql.js';
import type { AgentRule } from './types.js';
import { normalizeCidr, protocolNumber } from './security-group-rules-validate.js';
import type { RuleRow } from './security-groups-store.js';

export interface PortGroups {
  id: string;
  security_group_ids: string[];
  port_security: boolean;
}

export interface PortRules {
  ingress: AgentRule[];
  egress: AgentRule[];
}

/** Protocol numbers the agent gets by name (iptables knows these everywhere). */
const NAMED: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'ipv6-icmp', 132: 'sctp' };

/** The agent's spelling: tcp, udp, icmp, ipv6-icmp, sctp by name, any other protocol by number; null for any. */
export function agentProtocol(protocol: string | null): string | null {
  const n = protocolNumber(protocol);
  if (n === null) return null;
  return NAMED[n] ?? String(n);
}

const isV6 = (ip: string) => ip.includes(':');

/**
 * The rules of each port, keyed by port id (every asked port is a key). A port without port
 * security gets no rules (the agent does not filter it). A rule's remote is its
 * remote_ip_prefix (network address; a /0 is any), or the /32 (/128) of every fixed IP of
 * every port in its remote group that matches the rule's ethertype (an empty list admits
 * nothing), or null (any). Two queries whatever the number of ports.
 */
export async function agentRules(sql: Sql, ports: PortGroups[]): Promise<Map<string, PortRules>> {
  const out = new Map<string, PortRules>(ports.map((p) => [p.id, { ingress: [], egress: [] }]));
  const groupIds = [...new Set(ports.filter((p) => p.port_security).flatMap((p) => p.security_group_ids))];
  if (groupIds.length === 0) return out;
  const rules = await sql.all<RuleRow>(
    `SELECT * FROM security_group_rules WHERE security_group_id IN ${inList(groupIds.length)} ORDER BY created_at, direction, ethertype, id`,
    groupIds,
  );
  const remoteIds = [...new Set(rules.map((r) => r.remote_group_id).filter((id): id is string => id !== null))];
  const members = new Map<string, string[]>(remoteIds.map((id) => [id, []]));
  if (remoteIds.length) {
    const rows = await sql.all<{ security_group_id: string; ip_address: string }>(
      `SELECT DISTINCT b.security_group_id, a.ip_address FROM sg_port_bindings b JOIN ip_allocations a ON a.port_id = b.port_id
       WHERE b.security_group_id IN ${inList(remoteIds.length)} ORDER BY b.security_group_id, a.ip_address`,
      remoteIds,
    );
    for (const r of rows) members.get(r.security_group_id)!.push(r.ip_address);
  }
  const byGroup = new Map<string, { ingress: AgentRule[]; egress: AgentRule[] }>(groupIds.map((id) => [id, { ingress: [], egress: [] }]));
  for (const r of rules) {
    let remote: string[] | null = null;
    if (r.remote_group_id !== null) {
      const v6 = r.ethertype === 'IPv6';
      remote = (members.get(r.remote_group_id) ?? []).filter((ip) => isV6(ip) === v6).map((ip) => `${ip}/${v6 ? 128 : 32}`);
    } else if (r.remote_ip_prefix !== null) {
      const cidr = normalizeCidr(r.remote_ip_prefix) ?? r.remote_ip_prefix;
      remote = cidr.endsWith('/0') ? null : [cidr];
    }
    const rule: AgentRule = {
      ethertype: r.ethertype,
      protocol: agentProtocol(r.protocol),
      port_min: r.port_range_min === null ? null : Number(r.port_range_min),
      port_max: r.port_range_max === null ? null : Number(r.port_range_max),
      remote,
    };
    byGroup.get(r.security_group_id)![r.direction].push(rule);
  }
  for (const p of ports) {
    if (!p.port_security) continue;
    const target = out.get(p.id)!;
    for (const g of p.security_group_ids) {
      const rs = byGroup.get(g);
      if (!rs) continue;
      target.ingress.push(...rs.ingress);
      target.egress.push(...rs.egress);
    }
  }
  return out;
}
