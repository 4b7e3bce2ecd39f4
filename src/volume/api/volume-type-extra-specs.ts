/**
 * Volume type extra specs as Cinder serves them (what `openstack volume type create --property`
 * and `volume type set/unset --property` call): POST merges specs into a type, GET/PUT/DELETE
 * address one key. Changes are admin only; the list (GET .../extra_specs) is in volume-types.ts.
 * A type's specs are read when a volume is created (e.g. `multiattach: "<is> True"`), so a change
 * affects volumes created afterwards only.
 */
import { invalid, notFound } from '../../errors.js';
import { requireAdmin } from '../../api/policy.js';
import type { Router } from '../../http/router.js';
import { validate } from '../../http/validate.js';
import { nowIso } from '../../util/time.js';
import { findVolumeType, type VolumeTypeRow } from '../repo.js';
import { route, type ApiDeps } from './context.js';

const KEY = '^[a-zA-Z0-9-_:. /]{1,255}$';
const specsSchema = {
  type: 'object', minProperties: 1, maxProperties: 1, additionalProperties: false,
  properties: {
    extra_specs: { type: 'object', propertyNames: { pattern: KEY }, additionalProperties: { type: 'string', maxLength: 255 } },
  },
  required: ['extra_specs'],
};
const oneKeySchema = {
  type: 'object', minProperties: 1, maxProperties: 1, propertyNames: { pattern: KEY }, additionalProperties: { type: 'string', maxLength: 255 },
};

const specsOf = (t: VolumeTypeRow): Record<string, string> => JSON.parse(t.extra_specs || '{}');

export function mountVolumeTypeExtraSpecs(router: Router, deps: ApiDeps): void {
  const { sql } = deps;
  const save = (t: VolumeTypeRow, specs: Record<string, string>) =>
    sql.run('UPDATE volume_types SET extra_specs = ?, updated_at = ? WHERE id = ?', [JSON.stringify(specs), nowIso(), t.id]);
  const noKey = (t: VolumeTypeRow, key: string) => notFound(`Volume Type ${t.id} has no extra specs with key ${key}.`);

  route(router, 'POST', '/types/:id/extra_specs', async (req, c) => {
    requireAdmin(c.ctx, 'volume_extension:types_extra_specs:create');
    const t = await findVolumeType(sql, req.params.id);
    const given = validate<{ extra_specs: Record<string, string> }>(specsSchema, req.body).extra_specs;
    await save(t, { ...specsOf(t), ...given });
    return { status: 200, body: { extra_specs: given } };
  });
  route(router, 'GET', '/types/:id/extra_specs/:key', async (req) => {
    const t = await findVolumeType(sql, req.params.id);
    const specs = specsOf(t);
    if (!(req.params.key in specs)) throw noKey(t, req.params.key);
    return { status: 200, body: { [req.params.key]: specs[req.params.key] } };
  });
  route(router, 'PUT', '/types/:id/extra_specs/:key', async (req, c) => {
    requireAdmin(c.ctx, 'volume_extension:types_extra_specs:update');
    const t = await findVolumeType(sql, req.params.id);
    const body = validate<Record<string, string>>(oneKeySchema, req.body);
    if (!(req.params.key in body)) throw invalid('Request body and URI mismatch');
    await save(t, { ...specsOf(t), ...body });
    return { status: 200, body };
  });
  route(router, 'DELETE', '/types/:id/extra_specs/:key', async (req, c) => {
    requireAdmin(c.ctx, 'volume_extension:types_extra_specs:delete');
    const t = await findVolumeType(sql, req.params.id);
    const specs = specsOf(t);
    if (!(req.params.key in specs)) throw noKey(t, req.params.key);
    delete specs[req.params.key];
    await save(t, specs);
    return { status: 202 };
  });
}
