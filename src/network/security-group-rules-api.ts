/**
 * Security group rules with the caller's context (routes and Compute API proxies share it).
 * A rule belongs to its group's project and counts against that project's rule quota; only
 * who may change the group may add or remove its rules. Every change notifies the agents of
 * the hosts whose ports it reaches.
 */
import { NovaError } from '../errors.js';
import type { RequestContext } from '../http/types.js';
import { validate } from '../http/validate.js';
import { owns, requireWriter, targetProject } from './access.js';
import type { NeutronView } from './client.js';
import { notifyAgents } from './notify.js';
import { checkQuota } from './quotas.js';
import { parseRuleFields, ruleKey, type RuleFields } from './security-group-rules-validate.js';
import { listGroupViews, rulesOfGroups, visibleGroup, type SecurityGroupDeps } from './security-groups-api.js';
import { groupsOfPortsAffectedBy, insertRule, lockKey, type RuleRow } from './security-groups-store.js';
import { ruleView } from './security-groups-view.js';
import type { Sql } from '../db/sql.js';

const nullable = (t: object) => ({ oneOf: [t, { type: 'null' }] });
const portValue = nullable({ oneOf: [{ type: 'integer' }, { type: 'string' }] });
const ruleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['security_group_id', 'direction'],
  properties: {
    security_group_id: { type: 'string' },
    direction: { type: 'string' },
    ethertype: { type: 'string' },
    protocol: nullable({ oneOf: [{ type: 'integer' }, { type: 'string' }] }),
    port_range_min: portValue,
    port_range_max: portValue,
    remote_ip_prefix: nullable({ type: 'string' }),
    remote_group_id: nullable({ type: 'string' }),
    remote_address_group_id: { type: 'null' },
    description: { type: 'string', maxLength: 255 },
    project_id: { type: 'string' },
    tenant_id: { type: 'string' },
  },
};

export const ruleNotFound = (id: string) =>
  new NovaError('NotFound', `Security group rule ${id} does not exist`, { neutronType: 'SecurityGroupRuleNotFound' });
const conflictOf = (msg: string, type: string) => new NovaError('Conflict', msg, { neutronType: type });

async function visibleRule(sql: Sql, ctx: RequestContext, id: string): Promise<RuleRow> {
  const r = await sql.get<RuleRow>('SELECT * FROM security_group_rules WHERE id = ?', [id]);
  if (!r || !owns(ctx, r.project_id)) throw ruleNotFound(id);
  return r;
}

/** Every rule ctx may see (the caller filters and pages). */
export async function listRuleViews(sql: Sql, ctx: RequestContext): Promise<NeutronView[]> {
  const groups = await listGroupViews(sql, ctx);
  const rules = await rulesOfGroups(sql, groups.map((g) => g.id));
  return [...rules.values()].flat().map(ruleView);
}

export async function showRule(sql: Sql, ctx: RequestContext, id: string): Promise<NeutronView> {
  return ruleView(await visibleRule(sql, ctx, id));
}

/**
 * Creates rules (one, or a bulk POST) all or nothing: each validated (400 saying what to
 * fix), its group and remote group visible (404), no duplicate of an existing rule or of
 * another in the same POST (409), within the project's rule quota (409 OverQuota).
 */
export async function createRules(deps: SecurityGroupDeps, ctx: RequestContext, inputs: unknown[]): Promise<NeutronView[]> {
  requireWriter(ctx, 'create_security_group_rule');
  const items: (RuleFields & { security_group_id: string; project_id: string })[] = [];
  for (const input of inputs) {
    const body = validate<Record<string, unknown> & { security_group_id: string; project_id?: string; tenant_id?: string }>(ruleSchema, input);
    const fields = parseRuleFields(body);
    targetProject(ctx, body);
    const group = await visibleGroup(deps.sql, ctx, body.security_group_id);
    if (fields.remote_group_id !== null) await visibleGroup(deps.sql, ctx, fields.remote_group_id);
    items.push({ ...fields, security_group_id: group.id, project_id: group.project_id });
  }
  const keys = items.map((i) => `${i.security_group_id} ${ruleKey(i)}`);
  if (new Set(keys).size !== keys.length) throw conflictOf('Duplicate Security Group Rule in POST: each rule may appear once.', 'DuplicateSecurityGroupRuleInPost');
  const groupIds = [...new Set(items.map((i) => i.security_group_id))];
  const ids = await deps.sql.tx(async (tx) => {
    for (const g of groupIds) await lockKey(tx, `security-group-rules:${g}`);
    const existing = await rulesOfGroups(tx, groupIds);
    for (const item of items) {
      const same = existing.get(item.security_group_id)?.find((r) => ruleKey(r) === ruleKey(item));
      if (same) throw conflictOf(`Security group rule already exists. Rule id is ${same.id}.`, 'SecurityGroupRuleExists');
    }
    const perProject = new Map<string, number>();
    for (const i of items) perProject.set(i.project_id, (perProject.get(i.project_id) ?? 0) + 1);
    for (const [project, n] of perProject) {
      await lockKey(tx, `security-group-rule-quota:${project}`);
      await checkQuota(tx, project, 'security_group_rule', n);
    }
    const out: string[] = [];
    for (const item of items) out.push(await insertRule(tx, item));
    return out;
  });
  await notifyGroups(deps, groupIds);
  const views: NeutronView[] = [];
  for (const id of ids) views.push(await showRule(deps.sql, ctx, id));
  return views;
}

export async function deleteRule(deps: SecurityGroupDeps, ctx: RequestContext, id: string): Promise<void> {
  requireWriter(ctx, 'delete_security_group_rule');
  const r = await visibleRule(deps.sql, ctx, id);
  await deps.sql.run('DELETE FROM security_group_rules WHERE id = ?', [id]);
  await notifyGroups(deps, [r.security_group_id]);
}

async function notifyGroups(deps: SecurityGroupDeps, groupIds: string[]): Promise<void> {
  const hosts = new Set<string>();
  for (const g of groupIds) for (const h of await groupsOfPortsAffectedBy(deps.sql, g)) hosts.add(h);
  if (hosts.size) await notifyAgents(deps.bus, [...hosts].sort());
}
