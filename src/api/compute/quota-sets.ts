/**
 * os-quota-sets: show (own project, or any for admins), detail (with usage), defaults, update
 * and delete (admin). With ?user_id= the request is about that user's quotas in the project.
 * Lowering a limit below current usage is refused unless force is set, as in Nova.
 */
import { invalid } from '../../errors.js';
import type { Sql } from '../../db/sql.js';
import type { ApiRequest, RequestContext } from '../../http/types.js';
import { ctxOf } from '../../http/types.js';
import { validate } from '../../http/validate.js';
import { requireAdmin } from '../policy.js';
import { policyForbidden } from '../../errors.js';
import { API_PREFIX, type MountFn } from './common.js';
import type { ComputeApiDeps } from './deps.js';
import { quotaClassLimits, quotaLimits, quotaUsage, USER_COUNTED } from './quota.js';
import { NETWORK_RESOURCES, limitOf, quotaSetResources, quotaUpdateSchema } from './quota-view.js';
import { toBool } from './flavor-schemas.js';
import { rejectUnknownQuery } from './query.js';

/** Stored overrides of the nova-network era quotas (shown as -1 when unset). */
async function networkLimits(sql: Sql, projectId: string, userId?: string): Promise<Record<string, number>> {
  const out: Record<string, number> = Object.fromEntries(NETWORK_RESOURCES.map((r) => [r, -1]));
  const rows = await sql.all<{ resource: string; hard_limit: number; user_id: string }>(
    "SELECT resource, hard_limit, user_id FROM quotas WHERE project_id = ? AND (user_id = '' OR user_id = ?) ORDER BY user_id",
    [projectId, userId ?? ''],
  );
  for (const r of rows) if (r.resource in out) out[r.resource] = Number(r.hard_limit);
  return out;
}

/** Effective limits of every resource the API knows (project, or user within project). */
export async function allLimits(sql: Sql, projectId: string, userId?: string): Promise<Record<string, number>> {
  return { ...(await networkLimits(sql, projectId, userId)), ...(await quotaLimits(sql, projectId, userId)) };
}

function userParam(req: ApiRequest): string | undefined {
  if (req.mv.atLeast('2.75')) rejectUnknownQuery(req, ['user_id']);
  return req.query.get('user_id') ?? undefined;
}

/** Admins see any project; others only their own (Nova's admin-or-project-reader). */
function checkShow(ctx: RequestContext, projectId: string, rule: string): void {
  if (!ctx.isAdmin && ctx.projectId !== projectId) throw policyForbidden(rule);
}

function view(mv: ApiRequest['mv'], limits: Record<string, number>): Record<string, number> {
  return Object.fromEntries(quotaSetResources(mv).map((r) => [r, limits[r] ?? -1]));
}

async function usageOf(sql: Sql, projectId: string, userId?: string): Promise<Record<string, number>> {
  const used = await quotaUsage(sql, projectId, userId);
  if (!userId) used.key_pairs = 0; // counted per user: a project has no key pairs of its own
  return used;
}

export const mountQuotaSets: MountFn = (router, deps: ComputeApiDeps) => {
  const { sql } = deps;
  const base = `${API_PREFIX}/os-quota-sets/:project`;

  router.get(base, async (req) => {
    const ctx = ctxOf(req);
    const userId = userParam(req);
    checkShow(ctx, req.params.project, 'os_compute_api:os-quota-sets:show');
    const limits = await allLimits(sql, req.params.project, userId);
    return { status: 200, body: { quota_set: { id: req.params.project, ...view(req.mv, limits) } } };
  });

  router.get(`${base}/detail`, async (req) => {
    const ctx = ctxOf(req);
    const userId = userParam(req);
    checkShow(ctx, req.params.project, 'os_compute_api:os-quota-sets:detail');
    const limits = await allLimits(sql, req.params.project, userId);
    const used = await usageOf(sql, req.params.project, userId);
    const detail = Object.fromEntries(
      quotaSetResources(req.mv).map((r) => [r, { in_use: used[r] ?? 0, limit: limits[r] ?? -1, reserved: 0 }]),
    );
    return { status: 200, body: { quota_set: { id: req.params.project, ...detail } } };
  });

  router.get(`${base}/defaults`, async (req) => {
    const limits = { ...Object.fromEntries(NETWORK_RESOURCES.map((r) => [r, -1])), ...(await quotaClassLimits(sql)) };
    return { status: 200, body: { quota_set: { id: req.params.project, ...view(req.mv, limits) } } };
  });

  router.put(base, async (req) => {
    const ctx = ctxOf(req);
    requireAdmin(ctx, 'os_compute_api:os-quota-sets:update');
    const userId = userParam(req);
    const projectId = req.params.project;
    const schema = quotaUpdateSchema('quota_set', quotaSetResources(req.mv), true);
    const { quota_set: qs } = validate<{ quota_set: Record<string, number | string | boolean> }>(schema, req.body);
    if (!(await deps.identity.projectExists(projectId))) throw invalid(`Project ID ${projectId} is not a valid project.`);
    const force = qs.force !== undefined && toBool(qs.force);
    await sql.tx(async (tx) => {
      const used = await usageOf(tx, projectId, userId);
      const projectLimits = userId ? await allLimits(tx, projectId) : undefined;
      for (const [res, raw] of Object.entries(qs)) {
        if (res === 'force') continue;
        const value = limitOf(raw as number | string);
        if (!force) {
          const inf = (v: number) => (v === -1 ? Infinity : v);
          const minimum = USER_COUNTED.has(res) && !userId ? 0 : (used[res] ?? 0);
          if (inf(value) < minimum)
            throw invalid(`Quota limit ${value} for ${res} must be greater than or equal to already used and reserved ${minimum}.`);
          const maximum = projectLimits?.[res] ?? -1;
          if (inf(value) > inf(maximum)) throw invalid(`Quota limit ${value} for ${res} must be less than or equal to ${maximum}.`);
        }
        await tx.run('DELETE FROM quotas WHERE project_id = ? AND user_id = ? AND resource = ?', [projectId, userId ?? '', res]);
        await tx.run('INSERT INTO quotas (project_id, user_id, resource, hard_limit) VALUES (?, ?, ?, ?)', [projectId, userId ?? '', res, value]);
      }
    });
    return { status: 200, body: { quota_set: view(req.mv, await allLimits(sql, projectId, userId)) } };
  });

  router.delete(base, async (req) => {
    requireAdmin(ctxOf(req), 'os_compute_api:os-quota-sets:delete');
    const userId = userParam(req);
    if (userId) await sql.run('DELETE FROM quotas WHERE project_id = ? AND user_id = ?', [req.params.project, userId]);
    else await sql.run('DELETE FROM quotas WHERE project_id = ?', [req.params.project]);
    return { status: 202 };
  });
};
