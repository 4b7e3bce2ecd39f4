/**
 * Block Storage v3 snapshots: create (with force for in-use volumes), list, detail, show,
 * update, delete; admin actions os-reset_status and os-force_delete (any status).
 */
import type { SqlValue } from '../../db/sql.js';
import { invalid, policyForbidden } from '../../errors.js';
import { requireAdmin, requireWriter } from '../../api/policy.js';
import type { Router } from '../../http/router.js';
import { validate } from '../../http/validate.js';
import { nowIso } from '../../util/time.js';
import type { SnapshotRow } from '../repo.js';
import { snapshotView } from '../views.js';
import { createSnapshot, deleteSnapshot } from '../volume-ops.js';
import { element, parseBool, route, type ApiDeps, type Call } from './context.js';
import { paginate } from './list-query.js';
import { visibleSnapshot, visibleVolume } from './volume-access.js';
import { metadataSchema } from './volumes.js';

const text = { type: ['string', 'null'], maxLength: 255 };
const createSchema = {
  type: 'object', required: ['snapshot'], additionalProperties: false,
  properties: {
    snapshot: {
      type: 'object', required: ['volume_id'], additionalProperties: false,
      properties: {
        volume_id: { type: ['string', 'null'] }, name: text, display_name: text, description: text, display_description: text,
        force: { type: ['boolean', 'string'] }, metadata: { oneOf: [metadataSchema, { type: 'null' }] },
      },
    },
  },
};
const SNAPSHOT_STATUSES = ['creating', 'available', 'deleting', 'error', 'error_deleting', 'unmanaging', 'restoring', 'backing-up'];
const resetSchema = { type: 'object', required: ['status'], additionalProperties: false, properties: { status: { type: 'string', enum: SNAPSHOT_STATUSES } } };
const emptySchema = { type: ['object', 'null'], additionalProperties: false, properties: {} };
const updateSchema = {
  type: 'object', required: ['snapshot'], additionalProperties: false,
  properties: {
    snapshot: { type: 'object', additionalProperties: false, properties: { name: text, display_name: text, description: text, display_description: text } },
  },
};

async function listRows(deps: ApiDeps, c: Call, q: URLSearchParams): Promise<SnapshotRow[]> {
  const where = ['deleted = 0'];
  const params: SqlValue[] = [];
  const all = q.has('all_tenants') && parseBool(q.get('all_tenants') || 'true', 'all_tenants');
  if (all && !c.isAdmin) throw policyForbidden('volume:get_all_snapshots');
  if (!all || q.has('project_id')) {
    where.push('project_id = ?');
    params.push(all ? q.get('project_id')! : c.projectId);
  }
  for (const [p, col] of [['name', 'name'], ['status', 'status'], ['volume_id', 'volume_id']]) {
    const v = q.get(p);
    if (v !== null) {
      where.push(`${col} = ?`);
      params.push(v);
    }
  }
  return deps.sql.all<SnapshotRow>(`SELECT * FROM volume_snapshots WHERE ${where.join(' AND ')}`, params);
}

export function mountSnapshots(router: Router, deps: ApiDeps): void {
  const list = async (c: Call, q: URLSearchParams, detail: boolean) => {
    const page = paginate(await listRows(deps, c, q), q, ['id', 'name', 'status', 'size', 'created_at', 'updated_at', 'volume_id'], (marker, limit) => {
      const next = new URLSearchParams(q);
      next.set('marker', marker);
      next.delete('offset');
      next.set('limit', String(limit));
      return `${c.baseUrl}/v3/${c.projectId}/snapshots${detail ? '/detail' : ''}?${next}`;
    });
    const body: Record<string, unknown> = {
      snapshots: page.items.map((s) => snapshotView(c, s, detail)),
    };
    if (page.next) body.snapshots_links = [{ href: page.next, rel: 'next' }];
    return { status: 200, body };
  };
  route(router, 'POST', '/snapshots', async (req, c) => {
    requireWriter(c.ctx, 'volume:create_snapshot');
    const b = validate<{ snapshot: { volume_id: string | null; name?: string | null; display_name?: string | null; description?: string | null; display_description?: string | null; force?: boolean | string; metadata?: Record<string, string> | null } }>(
      createSchema,
      req.body,
    ).snapshot;
    // Cinder looks the volume up whatever volume_id is (null included): 404 when there is none.
    const v = await visibleVolume(deps.sql, c, b.volume_id ?? 'None');
    const s = await createSnapshot(deps, {
      volume_id: v.id, project_id: v.project_id, user_id: c.ctx.userId, name: b.name ?? b.display_name ?? null,
      description: b.description ?? b.display_description ?? null, force: b.force === undefined ? false : parseBool(b.force, 'force'),
      metadata: b.metadata ?? {},
    });
    return { status: 202, body: { snapshot: snapshotView(c, s) } };
  });
  route(router, 'GET', '/snapshots', (req, c) => list(c, req.query, false));
  route(router, 'GET', '/snapshots/detail', (req, c) => list(c, req.query, true));
  route(router, 'GET', '/snapshots/:id', async (req, c) => ({ status: 200, body: { snapshot: snapshotView(c, await visibleSnapshot(deps.sql, c, req.params.id), true) } }));
  route(router, 'PUT', '/snapshots/:id', async (req, c) => {
    requireWriter(c.ctx, 'volume:update_snapshot');
    element(req.body, 'snapshot');
    const b = validate<{ snapshot: Record<string, string | null> }>(updateSchema, req.body).snapshot;
    const s = await visibleSnapshot(deps.sql, c, req.params.id);
    const name = 'name' in b ? b.name : 'display_name' in b ? b.display_name : s.name;
    const description = 'description' in b ? b.description : 'display_description' in b ? b.display_description : s.description;
    await deps.sql.run('UPDATE volume_snapshots SET name = ?, description = ?, updated_at = ? WHERE id = ?', [name, description, nowIso(), s.id]);
    return { status: 200, body: { snapshot: snapshotView(c, await visibleSnapshot(deps.sql, c, s.id)) } };
  });
  route(router, 'POST', '/snapshots/:id/action', async (req, c) => {
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length !== 1)
      throw invalid('Invalid input received: the action body must hold exactly one action, e.g. {"os-reset_status": {"status": "available"}}.');
    const [action, args] = Object.entries(body as Record<string, unknown>)[0];
    const s = await visibleSnapshot(deps.sql, c, req.params.id);
    switch (action) {
      case 'os-reset_status': {
        requireAdmin(c.ctx, 'volume_extension:snapshot_admin_actions:reset_status');
        const a = validate<{ status: string }>(resetSchema, args);
        await deps.sql.run('UPDATE volume_snapshots SET status = ?, updated_at = ? WHERE id = ?', [a.status, nowIso(), s.id]);
        return { status: 202 };
      }
      case 'os-force_delete': {
        requireAdmin(c.ctx, 'volume_extension:snapshot_admin_actions:force_delete');
        validate(emptySchema, args);
        await deleteSnapshot(deps, s.id, { force: true });
        return { status: 202 };
      }
      default:
        throw invalid(`There is no such action: ${action}`);
    }
  });
  route(router, 'DELETE', '/snapshots/:id', async (req, c) => {
    requireWriter(c.ctx, 'volume:delete_snapshot');
    const s = await visibleSnapshot(deps.sql, c, req.params.id);
    await deleteSnapshot(deps, s.id);
    return { status: 202 };
  });
}
