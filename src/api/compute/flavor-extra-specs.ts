/**
 * Flavor extra specs: GET/POST /flavors/{id}/os-extra_specs and GET/PUT/DELETE
 * /flavors/{id}/os-extra_specs/{key}. Reading needs only sight of the flavor; writes are admin.
 * From 2.86 values of well-known keys are validated (see flavor-extra-spec-rules.ts).
 */
import { invalid, notFound } from '../../errors.js';
import type { Sql } from '../../db/sql.js';
import type { ApiRequest } from '../../http/types.js';
import { ctxOf } from '../../http/types.js';
import { validate } from '../../http/validate.js';
import { requireAdmin } from '../policy.js';
import { API_PREFIX, type MountFn } from './common.js';
import { extraSpecsOf, getFlavorRow, flavorNotFound, visibleFlavor, type FlavorRow } from './flavor-store.js';
import { checkExtraSpec } from './flavor-extra-spec-rules.js';

const KEY_PATTERN = '^[a-zA-Z0-9-_:. ]{1,255}$';
const specsSchema = {
  type: 'object',
  patternProperties: { [KEY_PATTERN]: { type: ['string', 'number', 'boolean'], maxLength: 255 } },
  additionalProperties: false,
};
const createSchema = {
  type: 'object',
  properties: { extra_specs: specsSchema },
  required: ['extra_specs'],
  additionalProperties: false,
};
const updateSchema = { ...specsSchema, minProperties: 1, maxProperties: 1 };

/** Values are stored as strings, as Nova does (true -> "True"). */
function specValue(v: string | number | boolean): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

async function adminFlavor(sql: Sql, req: ApiRequest, rule: string): Promise<FlavorRow> {
  requireAdmin(ctxOf(req), rule);
  const row = await getFlavorRow(sql, req.params.id);
  if (!row) throw flavorNotFound(req.params.id);
  return row;
}

async function store(sql: Sql, req: ApiRequest, row: FlavorRow, specs: Record<string, string | number | boolean>) {
  // A prototype-less map: a key such as `__proto__` is kept as the key it is.
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(specs)) {
    out[k] = specValue(v);
    if (req.mv.atLeast('2.86')) checkExtraSpec(k, out[k]);
  }
  await sql.tx(async (tx) => {
    for (const [k, v] of Object.entries(out)) {
      await tx.run('DELETE FROM flavor_extra_specs WHERE flavor_id = ? AND key = ?', [row.id, k]);
      await tx.run('INSERT INTO flavor_extra_specs (flavor_id, key, value) VALUES (?, ?, ?)', [row.id, k, v]);
    }
  });
  return out;
}

const missingKey = (flavorId: string, key: string) => notFound(`Flavor ${flavorId} has no extra specs with key ${key}.`);

export const mountFlavorExtraSpecs: MountFn = (router, { sql }) => {
  const base = `${API_PREFIX}/flavors/:id/os-extra_specs`;

  router.get(base, async (req) => {
    const row = await visibleFlavor(sql, ctxOf(req), req.params.id);
    return { status: 200, body: { extra_specs: (await extraSpecsOf(sql, [row.id])).get(row.id) ?? {} } };
  });

  router.post(base, async (req) => {
    const row = await adminFlavor(sql, req, 'os_compute_api:os-flavor-extra-specs:create');
    const body = validate<{ extra_specs: Record<string, string | number | boolean> }>(createSchema, req.body);
    return { status: 200, body: { extra_specs: await store(sql, req, row, body.extra_specs) } };
  });

  router.get(`${base}/:key`, async (req) => {
    const row = await visibleFlavor(sql, ctxOf(req), req.params.id);
    const hit = await sql.get<{ value: string }>('SELECT value FROM flavor_extra_specs WHERE flavor_id = ? AND key = ?', [row.id, req.params.key]);
    if (!hit) throw missingKey(req.params.id, req.params.key);
    return { status: 200, body: { [req.params.key]: hit.value } };
  });

  router.put(`${base}/:key`, async (req) => {
    const row = await adminFlavor(sql, req, 'os_compute_api:os-flavor-extra-specs:update');
    const body = validate<Record<string, string | number | boolean>>(updateSchema, req.body);
    if (!(req.params.key in body)) throw invalid('Request body and URI mismatch');
    return { status: 200, body: await store(sql, req, row, body) };
  });

  router.delete(`${base}/:key`, async (req) => {
    const row = await adminFlavor(sql, req, 'os_compute_api:os-flavor-extra-specs:delete');
    const res = await sql.run('DELETE FROM flavor_extra_specs WHERE flavor_id = ? AND key = ?', [row.id, req.params.key]);
    if (res.changes === 0) throw missingKey(req.params.id, req.params.key);
    return { status: 200 };
  });
};
