/** Volume types: list, show, default (3.62), and admin create/update/delete. `__DEFAULT__` is seeded and cannot be deleted or renamed. */
import { conflict, invalid, notFound } from '../../errors.js';
import { requireAdmin } from '../../api/policy.js';
import type { Router } from '../../http/router.js';
import { validate } from '../../http/validate.js';
import { uuid } from '../../util/ids.js';
import { nowIso } from '../../util/time.js';
import { DEFAULT_TYPE_NAME, defaultVolumeType, findVolumeType, type VolumeTypeRow } from '../repo.js';
import { typeView } from '../views.js';
import { parseBool, route, type ApiDeps } from './context.js';
import { mountVolumeTypeExtraSpecs } from './volume-type-extra-specs.js';

const createSchema = {
  type: 'object', required: ['volume_type'], additionalProperties: false,
  properties: {
    volume_type: {
      type: 'object', required: ['name'], additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, pattern: '\\S' },
        description: { type: ['string', 'null'], maxLength: 255 },
        'os-volume-type-access:is_public': { type: ['boolean', 'string'] },
        extra_specs: { type: 'object', additionalProperties: { type: 'string', maxLength: 255 } },
      },
    },
  },
};

const updateSchema = {
  type: 'object', required: ['volume_type'], additionalProperties: false,
  properties: {
    volume_type: {
      type: 'object', additionalProperties: false, minProperties: 1,
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, pattern: '\\S' },
        description: { type: ['string', 'null'], maxLength: 255 },
        is_public: { type: ['boolean', 'string'] },
      },
    },
  },
};

export function mountVolumeTypes(router: Router, deps: ApiDeps): void {
  const { sql } = deps;
  route(router, 'GET', '/types', async (_req, c) => {
    const rows = await sql.all<VolumeTypeRow>(`SELECT * FROM volume_types WHERE deleted = 0 ${c.isAdmin ? '' : 'AND is_public = 1'} ORDER BY created_at, id`);
    return { status: 200, body: { volume_types: rows.map((r) => typeView(c, r)) } };
  });
  route(router, 'GET', '/types/default', async (_req, c) => {
    const t = await defaultVolumeType(sql);
    if (!t) throw invalid('No default volume type is configured.');
    return { status: 200, body: { volume_type: typeView(c, t) } };
  }, '3.62');
  route(router, 'GET', '/types/:id', async (req, c) => {
    const t = await findVolumeType(sql, req.params.id);
    // Private types are shown to admins only (as the list), like the volume create that uses them.
    if (!t.is_public && !c.isAdmin) throw notFound(`Volume type with name or id ${req.params.id} could not be found.`);
    return { status: 200, body: { volume_type: typeView(c, t) } };
  });
  route(router, 'GET', '/types/:id/extra_specs', async (req) => ({ status: 200, body: { extra_specs: JSON.parse((await findVolumeType(sql, req.params.id)).extra_specs) } }));
  route(router, 'POST', '/types', async (req, c) => {
    requireAdmin(c.ctx, 'volume_extension:types_manage');
    const b = validate<{ volume_type: { name: string; description?: string | null; 'os-volume-type-access:is_public'?: boolean | string; extra_specs?: Record<string, string> } }>(
      createSchema,
      req.body,
    ).volume_type;
    const name = b.name.trim();
    if (await sql.get('SELECT id FROM volume_types WHERE name = ? AND deleted = 0', [name])) throw conflict(`Volume Type ${name} already exists.`);
    const pub = b['os-volume-type-access:is_public'];
    const isPublic = pub === undefined || pub === true || String(pub).toLowerCase() === 'true';
    const id = uuid();
    await sql.run('INSERT INTO volume_types (id, name, description, is_public, extra_specs, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
      id, name, b.description ?? null, isPublic ? 1 : 0, JSON.stringify(b.extra_specs ?? {}), nowIso(),
    ]);
    return { status: 200, body: { volume_type: typeView(c, await findVolumeType(sql, id), false) } };
  });
  route(router, 'PUT', '/types/:id', async (req, c) => {
    requireAdmin(c.ctx, 'volume_extension:types_manage');
    const b = validate<{ volume_type: { name?: string; description?: string | null; is_public?: boolean | string } }>(updateSchema, req.body).volume_type;
    const t = await findVolumeType(sql, req.params.id);
    const name = b.name?.trim() ?? t.name;
    if (name !== t.name) {
      if (t.name === DEFAULT_TYPE_NAME) throw invalid(`Invalid volume type: Default volume type ${DEFAULT_TYPE_NAME} cannot be renamed.`);
      if (await sql.get('SELECT id FROM volume_types WHERE name = ? AND deleted = 0 AND id <> ?', [name, t.id])) throw conflict(`Volume Type ${name} already exists.`);
    }
    const pub = b.is_public === undefined ? !!t.is_public : parseBool(b.is_public, 'is_public');
    const description = 'description' in b ? (b.description ?? null) : t.description;
    await sql.run('UPDATE volume_types SET name = ?, description = ?, is_public = ?, updated_at = ? WHERE id = ?', [name, description, pub ? 1 : 0, nowIso(), t.id]);
    // Cinder's update answer is the plain view: no access extension, no qos_specs_id.
    const view = typeView(c, await findVolumeType(sql, t.id), false);
    delete view['os-volume-type-access:is_public'];
    return { status: 200, body: { volume_type: view } };
  });
  route(router, 'DELETE', '/types/:id', async (req, c) => {
    requireAdmin(c.ctx, 'volume_extension:types_manage');
    const t = await findVolumeType(sql, req.params.id);
    if (t.name === DEFAULT_TYPE_NAME) throw invalid(`Invalid volume type: Default volume type ${DEFAULT_TYPE_NAME} cannot be deleted.`);
    const used = await sql.get('SELECT id FROM volumes WHERE volume_type_id = ? AND deleted = 0 LIMIT 1', [t.id]);
    if (used) throw invalid(`Invalid volume type: Target volume type ${t.name} is still in use.`);
    await sql.run('UPDATE volume_types SET deleted = 1, updated_at = ? WHERE id = ?', [nowIso(), t.id]);
    return { status: 202 };
  });
  mountVolumeTypeExtraSpecs(router, deps);
}

/** Creates `__DEFAULT__` when no type of that name exists. Idempotent. */
export async function seedDefaultType(deps: ApiDeps): Promise<void> {
  if (await defaultVolumeType(deps.sql)) return;
  await deps.sql.run('INSERT INTO volume_types (id, name, description, is_public, extra_specs, created_at) VALUES (?, ?, ?, 1, ?, ?)', [
    uuid(), DEFAULT_TYPE_NAME, 'Default Volume Type', '{}', nowIso(),
  ]);
}
