/** Block Storage v3 volumes: create, list (summary and detail, with filters and paging), show, update, delete. */
import type { SqlValue } from '../../db/sql.js';
import { json } from '../../db/sql.js';
import { invalid, policyForbidden } from '../../errors.js';
import { requireWriter } from '../../api/policy.js';
import type { Router } from '../../http/router.js';
import { validate } from '../../http/validate.js';
import { nowIso } from '../../util/time.js';
import { volumeNotFound } from '../repo.js';
import type { VolumeRow } from '../types.js';
import { volumeSummary } from '../views.js';
import { createVolume, deleteVolume } from '../volume-ops.js';
import { element, parseBool, route, type ApiDeps, type Call } from './context.js';
import { paginate } from './list-query.js';
import { visibleVolume, volumeViews } from './volume-access.js';

const text = { type: ['string', 'null'], maxLength: 255 };
const longText = { type: ['string', 'null'], maxLength: 65535 };
const uuidOrNull = { oneOf: [{ type: 'string', format: 'uuid-like' }, { type: 'null' }] };
export const metadataSchema = {
  type: 'object',
  propertyNames: { minLength: 1, maxLength: 255 },
  additionalProperties: { type: 'string', maxLength: 255 },
};

const createSchema = {
  type: 'object',
  required: ['volume'],
  properties: {
    volume: {
      type: 'object',
      properties: {
        name: text, display_name: text, description: longText, display_description: longText,
        size: { oneOf: [{ type: 'integer', minimum: 1, maximum: 2147483647 }, { type: 'string', pattern: '^[1-9][0-9]{0,9}$' }, { type: 'null' }] },
        availability_zone: text, source_volid: uuidOrNull, snapshot_id: uuidOrNull, imageRef: text, image_id: text,
        volume_type: text, metadata: { oneOf: [metadataSchema, { type: 'null' }] }, multiattach: { type: 'boolean' },
        backup_id: { type: 'null' }, consistencygroup_id: { type: 'null' }, group_id: { type: 'null' },
      },
      additionalProperties: true,
    },
    'OS-SCH-HNT:scheduler_hints': { type: ['object', 'null'] },
  },
  additionalProperties: false,
};

const updateSchema = {
  type: 'object',
  required: ['volume'],
  properties: {
    volume: {
      type: 'object',
      properties: { name: text, display_name: text, description: longText, display_description: longText, metadata: metadataSchema },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

type CreateBody = {
  name?: string | null; display_name?: string | null; description?: string | null; display_description?: string | null;
  size?: number | string | null; availability_zone?: string | null; source_volid?: string | null; snapshot_id?: string | null;
  imageRef?: string | null; image_id?: string | null; volume_type?: string | null; metadata?: Record<string, string> | null; multiattach?: boolean;
};

const SORT_KEYS = ['id', 'name', 'status', 'size', 'availability_zone', 'created_at', 'updated_at', 'bootable', 'project_id'];

/** The volumes the list shows for the query: own project (admins: all with all_tenants), filtered. */
async function listRows(deps: ApiDeps, c: Call, q: URLSearchParams): Promise<VolumeRow[]> {
  const where = ['deleted = 0'];
  const params: SqlValue[] = [];
  const all = q.has('all_tenants') && parseBool(q.get('all_tenants') || 'true', 'all_tenants');
  if (all && !c.isAdmin) throw policyForbidden('volume:get_all_tenants');
  if (!all || q.has('project_id')) {
    where.push('project_id = ?');
    params.push(all ? q.get('project_id')! : c.projectId);
  }
  for (const [param, column] of [['name', 'name'], ['display_name', 'name'], ['status', 'status'], ['availability_zone', 'availability_zone'], ['user_id', 'user_id']]) {
    const v = q.get(param);
    if (v !== null) {
      where.push(`${column} = ?`);
      params.push(v);
    }
  }
  if (q.has('bootable')) {
    where.push('bootable = ?');
    params.push(parseBool(q.get('bootable'), 'bootable') ? 1 : 0);
  }
  let rows = await deps.sql.all<VolumeRow>(`SELECT * FROM volumes WHERE ${where.join(' AND ')}`, params);
  const meta = q.get('metadata');
  if (meta !== null) {
    let want: Record<string, unknown>;
    try {
      want = JSON.parse(meta.replace(/'/g, '"'));
    } catch {
      throw invalid(`Invalid input received: metadata filter must be a JSON object such as {"key": "value"}, got '${meta}'.`);
    }
    if (!want || typeof want !== 'object') throw invalid('Invalid input received: metadata filter must be a JSON object.');
    rows = rows.filter((r) => {
      const m = json<Record<string, string>>(r.metadata, {});
      return Object.entries(want).every(([k, v]) => m[k] === String(v));
    });
  }
  return rows.map((r) => ({ ...r, size: Number(r.size) }));
}

async function list(deps: ApiDeps, c: Call, q: URLSearchParams, detail: boolean) {
  const rows = await listRows(deps, c, q);
  const page = paginate(rows, q, SORT_KEYS, (marker, limit) => {
    const next = new URLSearchParams(q);
    next.set('marker', marker);
    next.delete('offset');
    next.set('limit', String(limit));
    return `${c.baseUrl}/v3/${c.projectId}/volumes${detail ? '/detail' : ''}?${next}`;
  });
  const body: Record<string, unknown> = {
    volumes: detail ? await volumeViews(deps.sql, c, page.items) : page.items.map((r) => volumeSummary(c, r)),
  };
  if (page.next) body.volumes_links = [{ href: page.next, rel: 'next' }];
  if (c.mv.atLeast('3.45') && q.has('with_count') && parseBool(q.get('with_count'), 'with_count')) body.count = rows.length;
  return { status: 200, body };
}

export function mountVolumes(router: Router, deps: ApiDeps): void {
  route(router, 'POST', '/volumes', async (req, c) => {
    requireWriter(c.ctx, 'volume:create');
    const b = validate<{ volume: CreateBody }>(createSchema, req.body).volume;
    const size = b.size === null || b.size === undefined ? 0 : Number(b.size);
    const row = await createVolume(deps, {
      project_id: c.projectId, user_id: c.ctx.userId, size, name: b.name ?? b.display_name ?? null,
      description: b.description ?? b.display_description ?? null, image_id: b.imageRef ?? b.image_id ?? null,
      source_volid: b.source_volid ?? null, snapshot_id: b.snapshot_id ?? null, availability_zone: b.availability_zone ?? null,
      volume_type: b.volume_type ?? null, multiattach: b.multiattach ?? false, metadata: b.metadata ?? {}, admin: c.isAdmin,
    });
    return { status: 202, body: { volume: (await volumeViews(deps.sql, c, [row], false))[0] } };
  });
  route(router, 'GET', '/volumes', (req, c) => {
    // `GET /volumes/` is a show with an empty id in Cinder: 404, not the list.
    if (req.path.endsWith('/')) throw volumeNotFound('');
    return list(deps, c, req.query, false);
  });
  route(router, 'GET', '/volumes/detail', (req, c) => list(deps, c, req.query, true));
  // 3.12: how many volumes the list would show and their total size; 3.36: their metadata values by key.
  route(
    router,
    'GET',
    '/volumes/summary',
    async (req, c) => {
      const rows = await listRows(deps, c, req.query);
      const summary: Record<string, unknown> = { total_size: rows.reduce((n, r) => n + Number(r.size), 0), total_count: rows.length };
      if (c.mv.atLeast('3.36')) {
        const meta: Record<string, string[]> = {};
        for (const r of rows)
          for (const [k, val] of Object.entries(json<Record<string, string>>(r.metadata, {}))) if (!(meta[k] ??= []).includes(val)) meta[k].push(val);
        summary.metadata = meta;
      }
      return { status: 200, body: { 'volume-summary': summary } };
    },
    '3.12',
  );
  route(router, 'GET', '/volumes/:id', async (req, c) => {
    const v = await visibleVolume(deps.sql, c, req.params.id);
    return { status: 200, body: { volume: (await volumeViews(deps.sql, c, [v]))[0] } };
  });
  route(router, 'PUT', '/volumes/:id', async (req, c) => {
    requireWriter(c.ctx, 'volume:update');
    element(req.body, 'volume');
    const b = validate<{ volume: { name?: string | null; display_name?: string | null; description?: string | null; display_description?: string | null; metadata?: Record<string, string> } }>(
      updateSchema,
      req.body,
    ).volume;
    const v = await visibleVolume(deps.sql, c, req.params.id);
    const name = 'name' in b ? b.name : 'display_name' in b ? b.display_name : v.name;
    const description = 'description' in b ? b.description : 'display_description' in b ? b.display_description : v.description;
    const metadata = b.metadata ? JSON.stringify(b.metadata) : v.metadata;
    await deps.sql.run('UPDATE volumes SET name = ?, description = ?, metadata = ?, updated_at = ? WHERE id = ? AND deleted = 0', [
      name ?? null, description ?? null, metadata, nowIso(), v.id,
    ]);
    const after = await visibleVolume(deps.sql, c, v.id);
    return { status: 200, body: { volume: (await volumeViews(deps.sql, c, [after], false))[0] } };
  });
  route(router, 'DELETE', '/volumes/:id', async (req, c) => {
    requireWriter(c.ctx, 'volume:delete');
    const v = await visibleVolume(deps.sql, c, req.params.id);
    const cascade = req.query.has('cascade') && parseBool(req.query.get('cascade'), 'cascade');
    await deleteVolume(deps, v.id, { cascade });
    return { status: 202 };
  });
}
