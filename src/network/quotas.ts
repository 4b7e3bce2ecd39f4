/**
 * Network quotas (Neutron's quotas extension): per-project limits with Neutron's defaults,
 * -1 for unlimited. checkQuota is called inside the creating transaction, so concurrent
 * creates cannot both pass the last free unit on SQLite (serialized transactions).
 */
import type { Sql } from '../db/sql.js';
import { invalid, NovaError, policyForbidden } from '../errors.js';
import type { Router } from '../http/router.js';
import { ctxOf, type RequestContext } from '../http/types.js';
import { validate } from '../http/validate.js';
import { requireAdminRule, requireWriter } from './access.js';
import { DHCP_OWNER } from './repo.js';

export const QUOTA_DEFAULTS = { network: 100, subnet: 100, port: 500, security_group: 10, security_group_rule: 100 } as const;
export type QuotaResource = keyof typeof QUOTA_DEFAULTS;
const RESOURCES = Object.keys(QUOTA_DEFAULTS) as QuotaResource[];

const USAGE: Record<QuotaResource, string> = {
  network: 'SELECT COUNT(*) AS n FROM networks WHERE project_id = ?',
  subnet: 'SELECT COUNT(*) AS n FROM subnets WHERE project_id = ?',
  port: `SELECT COUNT(*) AS n FROM ports WHERE project_id = ? AND device_owner <> '${DHCP_OWNER}'`,
  security_group: 'SELECT COUNT(*) AS n FROM security_groups WHERE project_id = ?',
  security_group_rule: 'SELECT COUNT(*) AS n FROM security_group_rules WHERE project_id = ?',
};

/** The project's limits (defaults where it has none of its own). */
export async function quotaLimits(sql: Sql, projectId: string): Promise<Record<QuotaResource, number>> {
  const rows = await sql.all<{ resource: string; hard_limit: number }>('SELECT resource, hard_limit FROM network_quotas WHERE project_id = ?', [projectId]);
  const out: Record<QuotaResource, number> = { ...QUOTA_DEFAULTS };
  for (const r of rows) if (r.resource in out) out[r.resource as QuotaResource] = Number(r.hard_limit);
  return out;
}

export async function quotaUsage(sql: Sql, projectId: string, resource: QuotaResource): Promise<number> {
  return Number((await sql.get<{ n: number }>(USAGE[resource], [projectId]))?.n ?? 0);
}

/** OverQuota (409 'OverQuota' in the Network API) when adding `count` would pass the project's limit. */
export async function checkQuota(sql: Sql, projectId: string, resource: QuotaResource, count = 1): Promise<void> {
  const limit = (await quotaLimits(sql, projectId))[resource];
  if (limit < 0) return;
  if ((await quotaUsage(sql, projectId, resource)) + count > limit)
    throw new NovaError('OverQuota', `Quota exceeded for resources: ['${resource}'].`, { neutronType: 'OverQuota' });
}

function readable(ctx: RequestContext, projectId: string): void {
  if (!ctx.isAdmin && ctx.projectId !== projectId) throw policyForbidden('get_quota');
}

const limitValue = { oneOf: [{ type: 'integer', minimum: -1 }, { type: 'string', pattern: '^(-1|[0-9]+)$' }] };
const putSchema = {
  type: 'object',
  required: ['quota'],
  additionalProperties: false,
  properties: {
    quota: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(RESOURCES.map((r) => [r, limitValue])),
    },
  },
};

export function mountQuotas(router: Router, sql: Sql): void {
  router.get('/v2.0/quotas', async (req) => {
    const ctx = ctxOf(req);
    const rows = await sql.all<{ project_id: string }>('SELECT DISTINCT project_id FROM network_quotas ORDER BY project_id');
    const projects = rows.map((r) => r.project_id).filter((p) => ctx.isAdmin || p === ctx.projectId);
    const quotas = [];
    for (const p of projects) quotas.push({ ...(await quotaLimits(sql, p)), project_id: p, tenant_id: p });
    return { status: 200, body: { quotas } };
  });
  router.get('/v2.0/quotas/:project_id', async (req) => {
    readable(ctxOf(req), req.params.project_id);
    return { status: 200, body: { quota: await quotaLimits(sql, req.params.project_id) } };
  });
  router.get('/v2.0/quotas/:project_id/default', async (req) => {
    readable(ctxOf(req), req.params.project_id);
    return { status: 200, body: { quota: { ...QUOTA_DEFAULTS } } };
  });
  router.get('/v2.0/quotas/:project_id/details', async (req) => {
    const p = req.params.project_id;
    readable(ctxOf(req), p);
    const limits = await quotaLimits(sql, p);
    const quota: Record<string, unknown> = {};
    for (const r of RESOURCES) quota[r] = { limit: limits[r], used: await quotaUsage(sql, p, r), reserved: 0 };
    return { status: 200, body: { quota } };
  });
  router.put('/v2.0/quotas/:project_id', async (req) => {
    const ctx = ctxOf(req);
    requireAdminRule(ctx, 'update_quota');
    const body = validate<{ quota: Record<string, number | string> }>(putSchema, req.body);
    if (!Object.keys(body.quota).length) throw invalid('No quota resource given; expected one of ' + RESOURCES.join(', '));
    const p = req.params.project_id;
    await sql.tx(async (tx) => {
      for (const [r, v] of Object.entries(body.quota)) {
        await tx.run('DELETE FROM network_quotas WHERE project_id = ? AND resource = ?', [p, r]);
        await tx.run('INSERT INTO network_quotas (project_id, resource, hard_limit) VALUES (?, ?, ?)', [p, r, Number(v)]);
      }
    });
    return { status: 200, body: { quota: await quotaLimits(sql, p) } };
  });
  router.delete('/v2.0/quotas/:project_id', async (req) => {
    const ctx = ctxOf(req);
    requireWriter(ctx, 'delete_quota');
    requireAdminRule(ctx, 'delete_quota');
    await sql.run('DELETE FROM network_quotas WHERE project_id = ?', [req.params.project_id]);
    return { status: 204 };
  });
}
