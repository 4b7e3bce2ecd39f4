/**
 * os-quota-sets: show (own project, or any for admins; `usage=true` gives limit/in_use/reserved/
 * allocated), defaults, and admin update/delete (back to defaults).
 */
import { invalid, policyForbidden } from '../../errors.js';
import { requireAdmin } from '../../api/policy.js';
import type { Router } from '../../http/router.js';
import { QUOTA_DEFAULTS, QUOTA_RESOURCES, quotaLimits, quotaUsage, setQuota } from '../quotas.js';
import { element, parseBool, route, type ApiDeps } from './context.js';

export function mountQuotaSets(router: Router, deps: ApiDeps): void {
  const { sql } = deps;
  route(router, 'GET', '/os-quota-sets/:target', async (req, c) => {
    const target = req.params.target;
    if (target !== c.ctx.projectId && !c.isAdmin) throw policyForbidden('volume_extension:quotas:show');
    const limits = await quotaLimits(sql, target);
    const usage = req.query.has('usage') && parseBool(req.query.get('usage'), 'usage');
    if (!usage) return { status: 200, body: { quota_set: { id: target, ...limits } } };
    const used = await quotaUsage(sql, target);
    const set: Record<string, unknown> = { id: target };
    for (const r of QUOTA_RESOURCES) set[r] = { limit: limits[r], in_use: used[r] ?? 0, reserved: 0, allocated: 0 };
    return { status: 200, body: { quota_set: set } };
  });
  route(router, 'GET', '/os-quota-sets/:target/defaults', (req) => ({ status: 200, body: { quota_set: { id: req.params.target, ...QUOTA_DEFAULTS } } }));
  route(router, 'PUT', '/os-quota-sets/:target', async (req, c) => {
    requireAdmin(c.ctx, 'volume_extension:quotas:update');
    const body = element<Record<string, unknown>>(req.body, 'quota_set');
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid("Invalid input received: 'quota_set' must be an object.");
    const updates: [string, number][] = [];
    const bad = Object.keys(body).filter((k) => !QUOTA_RESOURCES.includes(k) && k !== 'tenant_id');
    if (bad.length) throw invalid(`Bad key(s) ${bad.join(', ')} in quota_set. Known keys: ${QUOTA_RESOURCES.join(', ')}.`);
    for (const [k, v] of Object.entries(body)) {
      if (k === 'tenant_id') continue;
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN;
      if (!Number.isInteger(n) || n < -1 || n > 2147483647) throw invalid(`Invalid input received: Quota value ${JSON.stringify(v)} for ${k} must be an integer of -1 or more.`);
      updates.push([k, n]);
    }
    const used = await quotaUsage(sql, req.params.target);
    for (const [k, n] of updates)
      if (n >= 0 && k in used && used[k] > n)
        throw invalid(`Invalid input received: Quota limit ${n} for ${k} must be equal or greater than existing resources (${used[k]} in use).`);
    await sql.tx(async (tx) => {
      for (const [k, n] of updates) await setQuota(tx, req.params.target, k, n);
    });
    return { status: 200, body: { quota_set: await quotaLimits(sql, req.params.target) } };
  });
  route(router, 'DELETE', '/os-quota-sets/:target', async (req, c) => {
    requireAdmin(c.ctx, 'volume_extension:quotas:delete');
    await sql.run('DELETE FROM volume_quotas WHERE project_id = ?', [req.params.target]);
    return { status: 200 };
  });
}
