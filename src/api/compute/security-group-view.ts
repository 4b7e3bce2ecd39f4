/**
 * Security groups and rules as the Compute API shows them (Nova's os-security-groups views
 * over Neutron): only ingress rules, Nova's rule fields (ip_protocol, from_port, to_port,
 * ip_range.cidr or group {name, tenant_id}), groups sorted by (tenant_id, name).
 */
import type { RequestContext } from '../../http/types.js';
import type { NetworkApi, NeutronView } from '../../network/client.js';

export type NovaRule = Record<string, unknown>;
export type NovaGroup = { id: string; name: string; description: string; tenant_id: string; rules: NovaRule[] };

/** Names and projects of the groups that rules refer to (remote groups), as ctx may see them. */
export async function remoteGroupsOf(api: NetworkApi, ctx: RequestContext, groups: NeutronView[], known: NeutronView[] = []): Promise<Map<string, NeutronView>> {
  const byId = new Map<string, NeutronView>([...groups, ...known].map((g) => [g.id, g]));
  const wanted = new Set<string>();
  for (const g of groups)
    for (const r of (g.security_group_rules as NeutronView[] | undefined) ?? [])
      if (typeof r.remote_group_id === 'string' && !byId.has(r.remote_group_id)) wanted.add(r.remote_group_id);
  if (wanted.size) for (const g of await api.listSecurityGroups(ctx, { id: [...wanted] })) byId.set(g.id, g);
  return byId;
}

/**
 * One Neutron rule in Nova's shape; null when it names a remote group the caller cannot see
 * (Nova drops such a rule from the view).
 */
export function novaRuleView(rule: NeutronView, groups: Map<string, NeutronView>): NovaRule | null {
  const protocol = (rule.protocol as string | null) ?? null;
  let from = (rule.port_range_min as number | null) ?? null;
  let to = (rule.port_range_max as number | null) ?? null;
  if (protocol && from === null && to === null) {
    const all = ['tcp', 'udp'].includes(protocol.toLowerCase());
    from = all ? 1 : -1;
    to = all ? 65535 : -1;
  }
  const out: NovaRule = {
    id: rule.id,
    parent_group_id: rule.security_group_id,
    ip_protocol: protocol,
    from_port: from,
    to_port: to,
    group: {},
    ip_range: {},
  };
  const remote = rule.remote_group_id as string | null | undefined;
  if (remote) {
    const g = groups.get(remote);
    if (!g) return null;
    out.group = { name: g.name, tenant_id: g.tenant_id ?? g.project_id };
  } else {
    out.ip_range = { cidr: (rule.remote_ip_prefix as string | null) || '0.0.0.0/0' };
  }
  return out;
}

/** A Neutron group in Nova's shape (ingress rules only). */
export function novaGroupView(group: NeutronView, groups: Map<string, NeutronView>): NovaGroup {
  const rules = ((group.security_group_rules as NeutronView[] | undefined) ?? [])
    .filter((r) => r.direction === 'ingress')
    .map((r) => novaRuleView(r, groups))
    .filter((r): r is NovaRule => r !== null);
  return {
    id: group.id,
    name: String(group.name ?? ''),
    description: String(group.description ?? ''),
    tenant_id: String(group.tenant_id ?? group.project_id ?? ''),
    rules,
  };
}

/** Groups in Nova's shape and order (tenant_id, then name). */
export async function novaGroupViews(api: NetworkApi, ctx: RequestContext, groups: NeutronView[]): Promise<NovaGroup[]> {
  const refs = await remoteGroupsOf(api, ctx, groups);
  return groups
    .map((g) => novaGroupView(g, refs))
    .sort((a, b) => (a.tenant_id < b.tenant_id ? -1 : a.tenant_id > b.tenant_id ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
