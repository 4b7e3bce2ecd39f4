/**
 * Nova's deprecated volume proxies, up to microversion 2.35 (404 from 2.36, as Nova):
 * /os-volumes (list, detail, show, create, delete) and /os-snapshots (list, detail, show,
 * create, delete), in Nova's field names (displayName, availabilityZone, attachments ...).
 * Nova calls Cinder as the user; here the volume service acts for the caller: reads see the
 * caller's project (admins: every project), writes go through the VolumeClient, which checks
 * the status rules and quotas (over quota: 403 here, as Nova maps it).
 */
import { forbidden, invalid, isNovaError, notFound } from '../../errors.js';
import { inList, json } from '../../db/sql.js';
import { ctxOf, type ApiRequest, type ApiResponse, type RequestContext } from '../../http/types.js';
import { S, validate } from '../../http/validate.js';
import type { VolumeClient } from '../../volume/client.js';
import type { VolumeRow } from '../../volume/types.js';
import { isUuidLike } from '../../util/ids.js';
import { requireProject, requireWriter } from '../policy.js';
import { API_PREFIX, type MountFn } from './common.js';
import type { ComputeApiDeps } from './deps.js';
import { BOOLEAN, parseBool } from './server-schemas.js';
import { usecTime } from './server-view.js';
import { visibleVolume, volumeClient } from './server-volume-attachments.js';

const POLICY = 'os_compute_api:os-volumes';

const createVolumeSchema = {
  type: 'object',
  properties: {
    volume: {
      type: 'object',
      properties: {
        volume_type: { type: 'string' },
        metadata: { type: 'object', additionalProperties: { type: 'string' } },
        snapshot_id: { type: 'string' },
        size: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 },
        availability_zone: { type: 'string' },
        display_name: { type: 'string' },
        display_description: { type: 'string' },
        imageRef: S.uuid,
      },
      required: ['size'],
      additionalProperties: false,
    },
  },
  required: ['volume'],
  additionalProperties: false,
};

const createSnapshotSchema = {
  type: 'object',
  properties: {
    snapshot: {
      type: 'object',
      properties: {
        volume_id: { type: 'string' },
        force: BOOLEAN,
        display_name: { type: 'string' },
        display_description: { type: 'string' },
      },
      required: ['volume_id'],
      additionalProperties: false,
    },
  },
  required: ['snapshot'],
  additionalProperties: false,
};

interface SnapshotRow {
  id: string; volume_id: string; project_id: string; name: string | null; description: string | null; size: number; status: string; created_at: string;
}

/** The 2.36 cut, the policy's project scope, and the volume service. */
function gate(deps: ComputeApiDeps, req: ApiRequest, write = false): { ctx: RequestContext; vols: VolumeClient } {
  if (req.mv.atLeast('2.36')) throw notFound('The resource could not be found.');
  const ctx = ctxOf(req);
  requireProject(ctx);
  if (write) requireWriter(ctx, POLICY);
  return { ctx, vols: volumeClient(deps) };
}

/** Reads Nova's limit/offset paging (common.limited). */
function limited<T>(req: ApiRequest, items: T[]): T[] {
  const num = (name: string, dflt: number) => {
    const raw = req.query.get(name);
    if (raw === null) return dflt;
    if (!/^\d+$/.test(raw)) throw invalid(`${name} param must be an integer`);
    return Number(raw);
  };
  const offset = num('offset', 0);
  return items.slice(offset, offset + Math.min(num('limit', 1000), 1000));
}

/** Nova's _translate_volume_summary_view, for rows with their type names and first attachments. */
async function volumeViews(deps: ComputeApiDeps, rows: VolumeRow[]): Promise<Record<string, unknown>[]> {
  const ids = rows.map((r) => r.id);
  const typeIds = [...new Set(rows.map((r) => r.volume_type_id).filter((t): t is string => !!t))];
  const types = new Map(
    (await deps.sql.all<{ id: string; name: string }>(`SELECT id, name FROM volume_types WHERE id IN ${inList(typeIds.length)}`, typeIds)).map((t) => [t.id, t.name]),
  );
  const atts = await deps.sql.all<{ volume_id: string; instance_uuid: string; mountpoint: string | null; device_name: string | null }>(
    `SELECT a.volume_id, a.instance_uuid, a.mountpoint, b.device_name FROM volume_attachments a
       LEFT JOIN block_device_mappings b ON b.attachment_id = a.id AND b.deleted = 0
     WHERE a.deleted = 0 AND a.status = 'attached' AND a.volume_id IN ${inList(ids.length)} ORDER BY a.created_at`,
    ids,
  );
  return rows.map((v) => {
    const a = atts.find((x) => x.volume_id === v.id);
    const attachment: Record<string, unknown> = {};
    if (a) {
      Object.assign(attachment, { id: v.id, volumeId: v.id, serverId: a.instance_uuid });
      const device = a.device_name ?? a.mountpoint;
      if (device) attachment.device = device;
    }
    return {
      id: v.id,
      status: v.status,
      size: v.size,
      availabilityZone: v.availability_zone,
      createdAt: usecTime(v.created_at),
      attachments: [attachment],
      displayName: v.name,
      displayDescription: v.description,
      volumeType: v.volume_type_id ? (types.get(v.volume_type_id) ?? v.volume_type_id) : null,
      snapshotId: v.snapshot_id,
      metadata: json<Record<string, string>>(v.metadata, {}),
    };
  });
}

const snapshotView = (s: SnapshotRow) => ({
  id: s.id, volumeId: s.volume_id, status: s.status, size: s.size, createdAt: usecTime(s.created_at),
  displayName: s.name, displayDescription: s.description,
});

/** The rows ctx sees: its project's, or every project's for admins. */
function scope(ctx: RequestContext): { where: string; params: string[] } {
  return ctx.isAdmin ? { where: 'deleted = 0', params: [] } : { where: 'deleted = 0 AND project_id = ?', params: [ctx.projectId!] };
}

async function visibleSnapshot(deps: ComputeApiDeps, ctx: RequestContext, id: string): Promise<SnapshotRow> {
  const s = isUuidLike(id) ? await deps.sql.get<SnapshotRow>('SELECT * FROM volume_snapshots WHERE id = ? AND deleted = 0', [id]) : undefined;
  if (!s || (!ctx.isAdmin && s.project_id !== ctx.projectId)) throw notFound(`Snapshot ${id} could not be found.`);
  return s;
}

/** Volume service errors as Nova's proxy answers them: over quota 403, others as they are. */
function mapped(e: unknown): unknown {
  return isNovaError(e) && e.kind === 'OverQuota' ? forbidden(e.message) : e;
}

export const mountVolumesProxy: MountFn = (router, deps) => {
  const V = `${API_PREFIX}/os-volumes`;
  const list = async (req: ApiRequest): Promise<ApiResponse> => {
    const { ctx } = gate(deps, req);
    // Nova routes `GET /os-volumes/` to show with an empty id: 404, not the list.
    if (req.path.endsWith('/')) throw notFound('Volume  could not be found.');
    const { where, params } = scope(ctx);
    const rows = await deps.sql.all<VolumeRow>(`SELECT * FROM volumes WHERE ${where} ORDER BY created_at DESC, id`, params);
    return { status: 200, body: { volumes: await volumeViews(deps, limited(req, rows)) } };
  };
  router.get(V, list);
  router.get(`${V}/detail`, list);
  router.get(`${V}/:id`, async (req) => {
    const { ctx, vols } = gate(deps, req);
    const v = await visibleVolume(vols, ctx, req.params.id);
    return { status: 200, body: { volume: (await volumeViews(deps, [v]))[0] } };
  });
  router.post(V, async (req) => {
    const { ctx, vols } = gate(deps, req, true);
    const v = validate<{ volume: Record<string, any> }>(createVolumeSchema, req.body).volume;
    if (v.snapshot_id !== undefined) await visibleSnapshot(deps, ctx, v.snapshot_id);
    const created = await vols
      .create({
        project_id: ctx.projectId!, user_id: ctx.userId, size: Number(v.size), name: v.display_name ?? null, description: v.display_description ?? null,
        snapshot_id: v.snapshot_id ?? null, image_id: v.imageRef ?? null, availability_zone: v.availability_zone ?? null,
        volume_type: v.volume_type ?? null, metadata: v.metadata ?? {},
      })
      .catch((e) => {
        throw mapped(e);
      });
    return { status: 200, body: { volume: (await volumeViews(deps, [created]))[0] }, headers: { location: `${req.baseUrl}/v2.1/os-volumes/${created.id}` } };
  });
  router.delete(`${V}/:id`, async (req) => {
    const { ctx, vols } = gate(deps, req, true);
    const v = await visibleVolume(vols, ctx, req.params.id);
    await vols.delete(v.id).catch((e) => {
      throw isNovaError(e) && e.kind === 'Conflict' ? invalid(e.message) : e;
    });
    return { status: 202 };
  });

  const SN = `${API_PREFIX}/os-snapshots`;
  const listSnapshots = async (req: ApiRequest): Promise<ApiResponse> => {
    const { ctx } = gate(deps, req);
    if (req.path.endsWith('/')) throw notFound('Snapshot  could not be found.');
    const { where, params } = scope(ctx);
    const rows = await deps.sql.all<SnapshotRow>(`SELECT * FROM volume_snapshots WHERE ${where} ORDER BY created_at DESC, id`, params);
    return { status: 200, body: { snapshots: limited(req, rows).map(snapshotView) } };
  };
  router.get(SN, listSnapshots);
  router.get(`${SN}/detail`, listSnapshots);
  router.get(`${SN}/:id`, async (req) => {
    const { ctx } = gate(deps, req);
    return { status: 200, body: { snapshot: snapshotView(await visibleSnapshot(deps, ctx, req.params.id)) } };
  });
  router.post(SN, async (req) => {
    const { ctx, vols } = gate(deps, req, true);
    const s = validate<{ snapshot: Record<string, any> }>(createSnapshotSchema, req.body).snapshot;
    if (!vols.createSnapshot) throw invalid('Snapshots are not available in this cloud yet.');
    const v = await visibleVolume(vols, ctx, s.volume_id);
    const created = await vols
      .createSnapshot({
        volume_id: v.id, project_id: v.project_id, user_id: ctx.userId, name: s.display_name ?? null, description: s.display_description ?? null,
        force: s.force !== undefined && parseBool(s.force),
      })
      .catch((e) => {
        throw mapped(e);
      });
    return { status: 200, body: { snapshot: snapshotView(await visibleSnapshot(deps, ctx, created.id)) } };
  });
  router.delete(`${SN}/:id`, async (req) => {
    const { ctx, vols } = gate(deps, req, true);
    const s = await visibleSnapshot(deps, ctx, req.params.id);
    if (!vols.deleteSnapshot) throw invalid('Snapshots are not available in this cloud yet.');
    await vols.deleteSnapshot(s.id);
    return { status: 202 };
  });
};
