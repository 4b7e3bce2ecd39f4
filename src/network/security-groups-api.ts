/**
 * Security groups with the caller's context: the logic behind both /v2.0/security-groups and
 * the Compute API's proxies. Admins see and change every group; others only their project's
 * (another project's group is a 404); readers only read. Listing creates the caller's
 * `default` group when it is missing, as Neutron does.
 */
import type { Bus } from '../bus/bus.js';
import { inList, type Sql } from '../db/sql.js';
import { NovaError, invalid } from '../errors.js';
import type { RequestContext } from '../http/types.js';
import { validate } from '../http/validate.js';
import { nowIso } from '../util/time.js';
import { owns, requireWriter, targetProject } from './access.js';
import type { NeutronView } from './client.js';
import { notifyAgents } from './notify.js';
import { checkQuota } from './quotas.js';
import {
  DEFAULT_GROUP, ensureDefaultSecurityGroup, groupNotFound, groupsOfPortsAffectedBy, insertGroup, lockKey,
  type GroupRow, type RuleRow,
} from './security-groups-store.js';
import { groupView } from './security-groups-view.js';

export interface SecurityGroupDeps {
  sql: Sql;
  bus: Bus;
}

const text255 = { type: 'string', maxLength: 255 };
const createSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { name: text255, description: text255, stateful: { type: 'boolean' }, project_id: { type: 'string' }, tenant_id: { type: 'string' } },
};
const updateSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { name: text255, description: text255, stateful: { type: 'boolean' } },
};

export interface GroupCreate {
  name?: string;
  description?: string;
  stateful?: boolean;
  project_id?: string;
  tenant_id?: string;
}

const inUse = (msg: string, type: string) => new NovaError('Conflict', msg, { neutronType: type });
const defaultExists = () =>
  inUse('Default security group already exists: every project has exactly one group named default; choose another name.', 'SecurityGroupDefaultAlreadyExists');

/** nova-ts filters statefully only (connection tracking); a stateless group would silently behave otherwise. */
function checkStateful(stateful: boolean | undefined): void {
  if (stateful === false) throw invalid('Stateless security groups (stateful: false) are not supported: omit stateful or set it to true.');
}

/** The group if ctx may see it (its project's or any for admins), else 404. */
export async function visibleGroup(sql: Sql, ctx: RequestContext, id: string): Promise<GroupRow> {
  const g = await sql.get<GroupRow>('SELECT * FROM security_groups WHERE id = ?', [id]);
  if (!g || !owns(ctx, g.project_id)) throw groupNotFound(id);
  return g;
}

/** The rules of each group, in creation order. */
export async function rulesOfGroups(sql: Sql, groupIds: string[]): Promise<Map<string, RuleRow[]>> {
  const out = new Map<string, RuleRow[]>(groupIds.map((id) => [id, []]));
  if (!groupIds.length) return out;
  const rows = await sql.all<RuleRow>(
    `SELECT * FROM security_group_rules WHERE security_group_id IN ${inList(groupIds.length)} ORDER BY created_at, id`,
    groupIds,
  );
  for (const r of rows) out.get(r.security_group_id)?.push(r);
  return out;
}

async function viewsOf(sql: Sql, groups: GroupRow[]): Promise<NeutronView[]> {
  const rules = await rulesOfGroups(sql, groups.map((g) => g.id));
  return groups.map((g) => groupView(g, rules.get(g.id) ?? []));
}

/** Every group ctx may see, with rules (unfiltered; the caller filters and pages). */
export async function listGroupViews(sql: Sql, ctx: RequestContext): Promise<NeutronView[]> {
  if (ctx.projectId) await ensureDefaultSecurityGroup(sql, ctx.projectId);
  if (!ctx.isAdmin && !ctx.projectId) return [];
  const groups = ctx.isAdmin
    ? await sql.all<GroupRow>('SELECT * FROM security_groups ORDER BY created_at, id')
    : await sql.all<GroupRow>('SELECT * FROM security_groups WHERE project_id = ? ORDER BY created_at, id', [ctx.projectId]);
  return viewsOf(sql, groups);
}

export async function showGroup(sql: Sql, ctx: RequestContext, id: string): Promise<NeutronView> {
  const g = await visibleGroup(sql, ctx, id);
  return (await viewsOf(sql, [g]))[0];
}

/** Creates a group with Neutron's two egress rules; the project's default group first exists. */
export async function createGroup(deps: SecurityGroupDeps, ctx: RequestContext, input: unknown): Promise<NeutronView> {
  requireWriter(ctx, 'create_security_group');
  const body = validate<GroupCreate>(createSchema, input ?? {});
  checkStateful(body.stateful);
  const project = targetProject(ctx, body);
  if (body.name === DEFAULT_GROUP) throw defaultExists();
  await ensureDefaultSecurityGroup(deps.sql, project);
  const id = await deps.sql.tx(async (tx) => {
    await lockKey(tx, `security-group-quota:${project}`);
    await checkQuota(tx, project, 'security_group');
    return insertGroup(tx, { project_id: project, name: body.name ?? '', description: body.description ?? '' });
  });
  return showGroup(deps.sql, ctx, id);
}

/** Changes name or description (the default group keeps its name). Agents need no notice. */
export async function updateGroup(deps: SecurityGroupDeps, ctx: RequestContext, id: string, input: unknown): Promise<NeutronView> {
  requireWriter(ctx, 'update_security_group');
  const body = validate<{ name?: string; description?: string; stateful?: boolean }>(updateSchema, input ?? {});
  checkStateful(body.stateful);
  const g = await visibleGroup(deps.sql, ctx, id);
  if (body.name !== undefined && body.name !== g.name) {
    if (g.name === DEFAULT_GROUP) throw inUse('Updating default security group not allowed: the default group keeps its name.', 'SecurityGroupCannotUpdateDefault');
    if (body.name === DEFAULT_GROUP) throw defaultExists();
  }
  await deps.sql.run('UPDATE security_groups SET name = ?, description = ?, revision_number = revision_number + 1, updated_at = ? WHERE id = ?', [
    body.name ?? g.name,
    body.description ?? g.description,
    nowIso(),
    id,
  ]);
  return showGroup(deps.sql, ctx, id);
}

/**
 * Deletes a group with its rules and the rules of other groups that name it as remote group.
 * 409 while a port uses it; the default group only by an admin.
 */
export async function deleteGroup(deps: SecurityGroupDeps, ctx: RequestContext, id: string): Promise<void> {
  requireWriter(ctx, 'delete_security_group');
  const g = await visibleGroup(deps.sql, ctx, id);
  if (g.name === DEFAULT_GROUP && !ctx.isAdmin)
    throw inUse('Insufficient rights for removing default security group.', 'SecurityGroupCannotRemoveDefault');
  const hosts = await groupsOfPortsAffectedBy(deps.sql, id);
  await deps.sql.tx(async (tx) => {
    const used = await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM sg_port_bindings WHERE security_group_id = ?', [id]);
    if (Number(used?.n ?? 0) > 0)
      throw inUse(`Security Group ${id} in use by ${used!.n} port(s): remove it from them (or delete them) first.`, 'SecurityGroupInUse');
    await tx.run('DELETE FROM security_group_rules WHERE remote_group_id = ? OR security_group_id = ?', [id, id]);
    await tx.run('DELETE FROM security_groups WHERE id = ?', [id]);
  });
  if (hosts.length) await notifyAgents(deps.bus, hosts);
}
