/**
 * os-quota-class-sets (admin): the limits of a quota class. Only the `default` class is used
 * for enforcement; other classes are stored and shown, as Nova does.
 */
import { invalid } from '../../errors.js';
import type { Sql } from '../../db/sql.js';
import { ctxOf } from '../../http/types.js';
import { validate } from '../../http/validate.js';
import { requireAdmin } from '../policy.js';
import { API_PREFIX, type MountFn } from './common.js';
import { quotaClassLimits } from './quota.js';
import { NETWORK_RESOURCES, limitOf, quotaClassResources, quotaUpdateSchema } from './quota-view.js';

async function classLimits(sql: Sql, name: string): Promise<Record<string, number>> {
  const out: Record<string, number> = { ...Object.fromEntries(NETWORK_RESOURCES.map((r) => [r, -1])), ...(await quotaClassLimits(sql, name)) };
  for (const r of await sql.all<{ resource: string; hard_limit: number }>('SELECT resource, hard_limit FROM quota_classes WHERE class_name = ?', [name]))
    if (NETWORK_RESOURCES.includes(r.resource)) out[r.resource] = Number(r.hard_limit);
  return out;
}

function checkName(name: string): void {
  if (name.length < 1 || name.length > 255) throw invalid(`Invalid quota class name: ${name}`);
}

export const mountQuotaClassSets: MountFn = (router, { sql }) => {
  const base = `${API_PREFIX}/os-quota-class-sets/:id`;

  router.get(base, async (req) => {
    requireAdmin(ctxOf(req), 'os_compute_api:os-quota-class-sets:show');
    checkName(req.params.id);
    const limits = await classLimits(sql, req.params.id);
    const view = Object.fromEntries(quotaClassResources(req.mv).map((r) => [r, limits[r] ?? -1]));
    return { status: 200, body: { quota_class_set: { id: req.params.id, ...view } } };
  });

  router.put(base, async (req) => {
    requireAdmin(ctxOf(req), 'os_compute_api:os-quota-class-sets:update');
    checkName(req.params.id);
    const schema = quotaUpdateSchema('quota_class_set', quotaClassResources(req.mv), false);
    const { quota_class_set: qs } = validate<{ quota_class_set: Record<string, number | string> }>(schema, req.body);
    await sql.tx(async (tx) => {
      for (const [res, raw] of Object.entries(qs)) {
        await tx.run('DELETE FROM quota_classes WHERE class_name = ? AND resource = ?', [req.params.id, res]);
        await tx.run('INSERT INTO quota_classes (class_name, resource, hard_limit) VALUES (?, ?, ?)', [req.params.id, res, limitOf(raw)]);
      }
    });
    const limits = await classLimits(sql, req.params.id);
    const view = Object.fromEntries(quotaClassResources(req.mv).map((r) => [r, limits[r] ?? -1]));
    return { status: 200, body: { quota_class_set: view } };
  });
};
