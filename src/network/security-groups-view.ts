/**
 * Neutron's JSON views of security groups and rules. `*_FIELDS` list every field a view
 * shows: the attributes lists may filter and sort on.
 */
import { json } from '../db/sql.js';
import { apiTime } from '../util/time.js';
import type { NeutronView } from './client.js';
import { normalizeCidr } from './security-group-rules-validate.js';
import type { GroupRow, RuleRow } from './security-groups-store.js';

export const GROUP_FIELDS = [
  'id', 'name', 'description', 'tenant_id', 'project_id', 'stateful', 'shared', 'security_group_rules', 'tags',
  'created_at', 'updated_at', 'revision_number',
] as const;

export const RULE_FIELDS = [
  'id', 'security_group_id', 'direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix',
  'remote_group_id', 'remote_address_group_id', 'normalized_cidr', 'description', 'tenant_id', 'project_id',
  'created_at', 'updated_at', 'revision_number',
] as const;

export function ruleView(r: RuleRow): NeutronView {
  return {
    id: r.id,
    security_group_id: r.security_group_id,
    direction: r.direction,
    ethertype: r.ethertype,
    protocol: r.protocol,
    port_range_min: r.port_range_min === null ? null : Number(r.port_range_min),
    port_range_max: r.port_range_max === null ? null : Number(r.port_range_max),
    remote_ip_prefix: r.remote_ip_prefix,
    remote_group_id: r.remote_group_id,
    remote_address_group_id: null,
    normalized_cidr: r.remote_ip_prefix === null ? null : normalizeCidr(r.remote_ip_prefix),
    description: r.description,
    tenant_id: r.project_id,
    project_id: r.project_id,
    created_at: apiTime(r.created_at),
    updated_at: apiTime(r.updated_at),
    revision_number: Number(r.revision_number),
  };
}

/** A group with its rules embedded (rules: the group's rule rows, in creation order). */
export function groupView(g: GroupRow, rules: RuleRow[]): NeutronView {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    tenant_id: g.project_id,
    project_id: g.project_id,
    stateful: !!g.stateful,
    shared: false,
    security_group_rules: rules.map(ruleView),
    tags: json<string[]>(g.tags, []),
    created_at: apiTime(g.created_at),
    updated_at: apiTime(g.updated_at),
    revision_number: Number(g.revision_number),
  };
}
