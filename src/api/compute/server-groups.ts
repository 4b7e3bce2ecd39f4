/**
 * os-server-groups: a project's groups of servers with a placement policy. Create takes
 * `policies: [one policy]` before 2.64 and `policy` plus `rules` (max_server_per_host, for
 * anti-affinity only) from 2.64; the soft-* policies need 2.15. The view shows
 * `policies`/`metadata` before 2.64, `policy`/`rules` from 2.64, `project_id`/`user_id` from
 * 2.13. Others' groups are 404; all_projects is admin only.
 *
 * Servers join a group at create time through the `group` scheduler hint (addGroupMembers,
 * called by servers-create.ts). Honouring the policy when placing them is the scheduler's work
 * (its ServerGroup(Anti)Affinity filters and soft weighers), not this module's.
 */
import { NovaError, invalid, overQuota, policyForbidden } from '../../errors.js';
import type { ApiRequest } from '../../http/types.js';
import { ctxOf } from '../../http/types.js';
import { S, validate } from '../../http/validate.js';
import { requireProject, requireWriter } from '../policy.js';
import { uuid } from '../../util/ids.js';
import { nowIso } from '../../util/time.js';
import { API_PREFIX, MAX_LIMIT, type MountFn } from './common.js';
import { rejectUnknownQuery } from './query.js';
import { checkQuota } from './quota.js';
import { POLICIES, findGroup, groupNotFound, listGroups, type Policy, type ServerGroup } from './server-group-store.js';

export { addGroupMembers } from './server-group-store.js';

const RULE = 'os_compute_api:os-server-groups';

const policiesSchema = (allowed: readonly string[]) => ({
  type: 'object',
  properties: {
    server_group: {
      type: 'object',
      properties: {
        name: S.name,
        policies: { type: 'array', items: { type: 'string', enum: allowed }, uniqueItems: true, minItems: 1, maxItems: 1 },
      },
      required: ['name', 'policies'],
      additionalProperties: false,
    },
  },
  required: ['server_group'],
  additionalProperties: false,
});
const createV21 = policiesSchema(['anti-affinity', 'affinity']);
const createV215 = policiesSchema(POLICIES);
const createV264 = {
  type: 'object',
  properties: {
    server_group: {
      type: 'object',
      properties: {
        name: S.name,
        policy: { type: 'string', enum: POLICIES },
        rules: {
          type: 'object',
          properties: {
            max_server_per_host: {
              oneOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^0*[1-9][0-9]*$' }],
            },
          },
          additionalProperties: false,
        },
      },
      required: ['name', 'policy'],
      additionalProperties: false,
    },
  },
  required: ['server_group'],
  additionalProperties: false,
};

type CreateBody = { server_group: { name: string; policies?: Policy[]; policy?: Policy; rules?: { max_server_per_host?: number | string } } };

/** The group as the request's microversion shows it. */
export function serverGroupView(req: ApiRequest, g: ServerGroup): Record<string, unknown> {
  const out: Record<string, unknown> = { id: g.uuid, name: g.name };
  if (req.mv.atLeast('2.64')) {
    out.policy = g.policy;
    out.rules = g.rules;
  } else {
    out.policies = [g.policy];
    out.metadata = {};
  }
  out.members = g.members;
  if (req.mv.atLeast('2.13')) {
    out.project_id = g.project_id;
    out.user_id = g.user_id;
  }
  return out;
}

/** Nova's limit/offset paging (common.limited): non-negative integers, limit capped, 0 = max. */
function limitOffset(req: ApiRequest): { limit: number; offset: number } {
  const read = (name: string): number | undefined => {
    const raw = req.query.get(name);
    if (raw === null) return undefined;
    if (!/^\d+$/.test(raw)) throw invalid(`Invalid input for query parameters ${name}. Value: ${raw}. '${raw}' does not match '^[0-9]*$'`);
    return Number(raw);
  };
  const limit = read('limit');
  return { limit: Math.min(limit || MAX_LIMIT, MAX_LIMIT), offset: read('offset') ?? 0 };
}

export const mountServerGroups: MountFn = (router, deps) => {
  const { sql } = deps;
  const base = `${API_PREFIX}/os-server-groups`;

  router.get(base, async (req) => {
    const ctx = ctxOf(req);
    const projectId = requireProject(ctx);
    if (req.mv.atLeast('2.75')) rejectUnknownQuery(req, ['all_projects', 'limit', 'offset']);
    const all = req.query.has('all_projects');
    if (all && !ctx.isAdmin) throw policyForbidden(`${RULE}:index:all_projects`);
    const groups = await listGroups(sql, all ? null : projectId, limitOffset(req));
    return { status: 200, body: { server_groups: groups.map((g) => serverGroupView(req, g)) } };
  });

  router.post(base, async (req) => {
    const ctx = ctxOf(req);
    const projectId = requireProject(ctx);
    requireWriter(ctx, `${RULE}:create`);
    const schema = req.mv.atLeast('2.64') ? createV264 : req.mv.atLeast('2.15') ? createV215 : createV21;
    const b = validate<CreateBody>(schema, req.body).server_group;
    const policy = (b.policy ?? b.policies![0]) as Policy;
    const rules: Record<string, number> = {};
    if (b.rules && Object.keys(b.rules).length > 0) {
      if (policy !== 'anti-affinity') throw invalid('Only anti-affinity policy supports rules.');
      if (b.rules.max_server_per_host !== undefined) rules.max_server_per_host = Number(b.rules.max_server_per_host);
    }
    const id = uuid();
    const group = await sql.tx(async (tx) => {
      try {
        await checkQuota(tx, projectId, { server_groups: 1 }, ctx.userId);
      } catch (e) {
        if (e instanceof NovaError && e.kind === 'OverQuota') throw overQuota('Quota exceeded, too many server groups.');
        throw e;
      }
      await tx.run(
        'INSERT INTO server_groups (uuid, name, project_id, user_id, policy, rules, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [id, b.name, projectId, ctx.userId, policy, JSON.stringify(rules), nowIso()],
      );
      return (await findGroup(tx, ctx, id))!;
    });
    return { status: 200, body: { server_group: serverGroupView(req, group) } };
  });

  router.get(`${base}/:id`, async (req) => {
    const ctx = ctxOf(req);
    requireProject(ctx);
    const g = await findGroup(sql, ctx, req.params.id);
    if (!g) throw groupNotFound(req.params.id);
    return { status: 200, body: { server_group: serverGroupView(req, g) } };
  });

  router.delete(`${base}/:id`, async (req) => {
    const ctx = ctxOf(req);
    requireProject(ctx);
    requireWriter(ctx, `${RULE}:delete`);
    await sql.tx(async (tx) => {
      const g = await findGroup(tx, ctx, req.params.id);
      if (!g) throw groupNotFound(req.params.id);
      await tx.run('DELETE FROM server_group_members WHERE group_uuid = ?', [g.uuid]);
      await tx.run('UPDATE server_groups SET deleted = id, updated_at = ? WHERE id = ?', [nowIso(), g.id]);
    });
    return { status: 204 };
  });
};
