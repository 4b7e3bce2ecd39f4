/**
 * Server groups in the DB (007-server-groups): rows, visibility, live members and membership.
 * Members are read joined with live instances (deleted = 0), so a deleted instance drops out of
 * its group without any cleanup elsewhere.
 *
 * Placement by group policy (affinity / anti-affinity, soft-*, max_server_per_host) is the
 * scheduler's job (its ServerGroup filters and weighers read these tables and the `group`
 * scheduler hint stored on the instance); nothing here schedules.
 */
import { invalid, notFound, overQuota } from '../../errors.js';
import { inList, json, type Sql } from '../../db/sql.js';
import type { RequestContext } from '../../http/types.js';
import { nowIso } from '../../util/time.js';
import { quotaLimits } from './quota.js';

export const POLICIES = ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'] as const;
export type Policy = (typeof POLICIES)[number];

export interface ServerGroupRow {
  id: number;
  uuid: string;
  name: string;
  project_id: string;
  user_id: string;
  policy: Policy;
  rules: string;
  created_at: string;
}

export interface ServerGroup extends Omit<ServerGroupRow, 'rules'> {
  rules: Record<string, number>;
  members: string[];
}

const COLUMNS = 'id, uuid, name, project_id, user_id, policy, rules, created_at';

export const groupNotFound = (id: string) => notFound(`Instance group ${id} could not be found.`);

/** Live members of each group (keyed by group uuid), instances that are themselves live. */
async function membersOf(sql: Sql, groupUuids: string[]): Promise<Map<string, string[]>> {
  const out = new Map(groupUuids.map((g) => [g, [] as string[]]));
  if (groupUuids.length === 0) return out;
  const rows = await sql.all<{ group_uuid: string; instance_uuid: string }>(
    `SELECT m.group_uuid AS group_uuid, m.instance_uuid AS instance_uuid FROM server_group_members m
       JOIN instances i ON i.uuid = m.instance_uuid AND i.deleted = 0
     WHERE m.group_uuid IN ${inList(groupUuids.length)} ORDER BY i.id`,
    groupUuids,
  );
  for (const r of rows) out.get(r.group_uuid)?.push(r.instance_uuid);
  return out;
}

async function withMembers(sql: Sql, rows: ServerGroupRow[]): Promise<ServerGroup[]> {
  const members = await membersOf(sql, rows.map((r) => r.uuid));
  return rows.map((r) => ({ ...r, id: Number(r.id), rules: json<Record<string, number>>(r.rules, {}), members: members.get(r.uuid) ?? [] }));
}

/** Groups of one project (or of every project when projectId is null), oldest first. */
export async function listGroups(sql: Sql, projectId: string | null, page: { limit: number; offset: number }): Promise<ServerGroup[]> {
  const rows = projectId === null
    ? await sql.all<ServerGroupRow>(`SELECT ${COLUMNS} FROM server_groups WHERE deleted = 0 ORDER BY id LIMIT ? OFFSET ?`, [page.limit, page.offset])
    : await sql.all<ServerGroupRow>(`SELECT ${COLUMNS} FROM server_groups WHERE deleted = 0 AND project_id = ? ORDER BY id LIMIT ? OFFSET ?`, [
        projectId,
        page.limit,
        page.offset,
      ]);
  return withMembers(sql, rows);
}

/** The group if ctx may see it (its project's, or any for admins); undefined otherwise. */
export async function findGroup(sql: Sql, ctx: RequestContext, groupUuid: string): Promise<ServerGroup | undefined> {
  const row = await sql.get<ServerGroupRow>(`SELECT ${COLUMNS} FROM server_groups WHERE uuid = ? AND deleted = 0`, [groupUuid]);
  if (!row || (!ctx.isAdmin && row.project_id !== ctx.projectId)) return undefined;
  return (await withMembers(sql, [row]))[0];
}

/** The groups each instance belongs to (the server view's `server_groups`, 2.71). */
export async function groupsOfInstances(sql: Sql, instanceUuids: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (instanceUuids.length === 0) return out;
  const rows = await sql.all<{ group_uuid: string; instance_uuid: string }>(
    `SELECT m.group_uuid AS group_uuid, m.instance_uuid AS instance_uuid FROM server_group_members m
       JOIN server_groups g ON g.uuid = m.group_uuid AND g.deleted = 0
     WHERE m.instance_uuid IN ${inList(instanceUuids.length)}`,
    instanceUuids,
  );
  for (const r of rows) out.set(r.instance_uuid, [...(out.get(r.instance_uuid) ?? []), r.group_uuid]);
  return out;
}

/**
 * Records instances as members of the group named by a `group` scheduler hint. Call inside the
 * transaction that creates the instances (so a refusal leaves nothing behind). Invalid (400)
 * when the group does not exist or ctx may not see it; OverQuota (403) when the group would pass
 * the project's server_group_members limit. Adding an existing member again is a no-op.
 */
export async function addGroupMembers(sql: Sql, groupUuid: string, instanceUuids: string[], ctx: RequestContext): Promise<void> {
  const group = await findGroup(sql, ctx, groupUuid);
  if (!group) throw invalid(`Invalid server group: instance group ${groupUuid} could not be found.`);
  const fresh = instanceUuids.filter((u) => !group.members.includes(u));
  const limit = (await quotaLimits(sql, group.project_id)).server_group_members;
  if (limit !== undefined && limit >= 0 && group.members.length + fresh.length > limit) throw overQuota('Quota exceeded, too many servers in group');
  const now = nowIso();
  for (const u of fresh)
    await sql.run('INSERT INTO server_group_members (group_uuid, instance_uuid, created_at) VALUES (?, ?, ?)', [groupUuid, u, now]);
}
