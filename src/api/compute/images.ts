/**
 * Nova's deprecated image proxy (/images, until 2.35; 404 from 2.36): Glance images in the old
 * Compute shape (status ACTIVE/SAVING/..., progress, minDisk, minRam, metadata) through the
 * Image service, acting for the caller (metadata writes through ImageApi.update).
 */
import { invalid, notFound, notImplemented, overQuota } from '../../errors.js';
import type { ApiRequest, RequestContext } from '../../http/types.js';
import { ctxOf } from '../../http/types.js';
import { validate } from '../../http/validate.js';
import { requireWriter } from '../policy.js';
import type { ImageView } from '../../image/service.js';
import { API_PREFIX, links, nextLinks, pageParams, type MountFn } from './common.js';
import { quotaLimits } from './quota.js';

/** Glance attributes that are not user metadata. */
const BASE = new Set([
  'id', 'name', 'status', 'visibility', 'protected', 'os_hidden', 'checksum', 'os_hash_algo', 'os_hash_value', 'min_ram',
  'min_disk', 'owner', 'size', 'virtual_size', 'disk_format', 'container_format', 'created_at', 'updated_at', 'tags', 'self',
  'file', 'schema', 'direct_url', 'locations', 'stores',
]);
const STATUS: Record<string, [string, number]> = {
  queued: ['SAVING', 25],
  saving: ['SAVING', 50],
  uploading: ['SAVING', 50],
  importing: ['SAVING', 50],
  active: ['ACTIVE', 100],
  killed: ['ERROR', 0],
  deleted: ['DELETED', 0],
  pending_delete: ['DELETED', 0],
  deactivated: ['ERROR', 0],
};

function metadataOf(img: ImageView): Record<string, string> {
  return Object.fromEntries(Object.entries(img).filter(([k, v]) => !BASE.has(k) && v !== null && v !== undefined).map(([k, v]) => [k, String(v)]));
}

function imageLinks(req: ApiRequest, id: string) {
  const origin = req.baseUrl.replace(/\/compute$/, '');
  return [...links(req, 'images', id), { rel: 'alternate', type: 'application/vnd.openstack.image', href: `${origin}/image/images/${id}` }];
}

function detailView(req: ApiRequest, img: ImageView): Record<string, unknown> {
  const [status, progress] = STATUS[img.status] ?? ['UNKNOWN', 0];
  const metadata = metadataOf(img);
  const out: Record<string, unknown> = {
    id: img.id,
    name: img.name,
    status,
    progress,
    minDisk: Number(img.min_disk ?? 0),
    minRam: Number(img.min_ram ?? 0),
    metadata,
    created: img.created_at,
    updated: img.updated_at,
    links: imageLinks(req, img.id),
    'OS-EXT-IMG-SIZE:size': img.size ?? null,
  };
  if (metadata.instance_uuid)
    out.server = { id: metadata.instance_uuid, links: links(req, 'servers', metadata.instance_uuid) };
  return out;
}

const metaSchema = {
  type: 'object',
  properties: {
    metadata: { type: 'object', patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: 'string', maxLength: 255 } }, additionalProperties: false },
  },
  required: ['metadata'],
  additionalProperties: false,
};
const metaKeySchema = {
  type: 'object',
  properties: {
    meta: { type: 'object', patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: 'string', maxLength: 255 } }, additionalProperties: false, minProperties: 1, maxProperties: 1 },
  },
  required: ['meta'],
  additionalProperties: false,
};

export const mountImages: MountFn = (router, deps) => {
  const images = deps.images;
  const base = `${API_PREFIX}/images`;
  const gate = (req: ApiRequest) => {
    if (req.mv.atLeast('2.36')) throw notFound('The resource could not be found.');
    return ctxOf(req);
  };

  async function list(req: ApiRequest, detail: boolean) {
    const ctx = gate(req);
    const { limit, marker } = pageParams(req);
    const filters: Record<string, string> = { limit: String(limit) };
    if (marker) filters.marker = marker;
    const name = req.query.get('name');
    if (name) filters.name = name;
    const status = req.query.get('status');
    if (status) filters.status = status.toLowerCase();
    // Nova's property filters: server (a server id or link) and type (snapshot, backup).
    const server = req.query.get('server');
    if (server) filters.instance_uuid = server.replace(/\/+$/, '').split('/').pop()!;
    const type = req.query.get('type');
    if (type) filters.image_type = type;
    for (const [q, g] of [['minRam', 'min_ram'], ['minDisk', 'min_disk']] as const) {
      const v = req.query.get(q);
      if (v !== null) {
        if (!/^\d+$/.test(v)) throw invalid(`Invalid ${q} filter [${v}]`);
        filters[g] = v;
      }
    }
    const found = await images.list(ctx, filters);
    const body: Record<string, unknown> = {
      images: found.map((i) => (detail ? detailView(req, i) : { id: i.id, name: i.name, links: imageLinks(req, i.id) })),
    };
    const next = nextLinks(req, detail ? 'images/detail' : 'images', found, limit);
    if (next) body.images_links = next;
    return { status: 200, body };
  }

  async function writeMetadata(req: ApiRequest, ctx: RequestContext, set: Record<string, string>, replace: boolean) {
    requireWriter(ctx, 'compute:image:update');
    const current = await images.show(ctx, req.params.id);
    if (!images.update) throw notImplemented('Changing image metadata through the Compute API is not available in this deployment.');
    const existing = metadataOf(current);
    const merged = replace ? set : { ...existing, ...set };
    const limit = (await quotaLimits(deps.sql, ctx.projectId ?? '')).metadata_items;
    if (limit >= 0 && Object.keys(merged).length > limit) throw overQuota('Image metadata limit exceeded');
    const remove = replace ? Object.keys(existing).filter((k) => !(k in set)) : [];
    return metadataOf(await images.update(ctx, req.params.id, set, remove));
  }

  router.get(base, (req) => list(req, false));
  router.get(`${base}/detail`, (req) => list(req, true));
  router.get(`${base}/:id`, async (req) => ({ status: 200, body: { image: detailView(req, await images.show(gate(req), req.params.id)) } }));
  router.delete(`${base}/:id`, async (req) => {
    const ctx = gate(req);
    requireWriter(ctx, 'compute:image:delete');
    await images.delete(ctx, req.params.id);
    return { status: 204 };
  });

  router.get(`${base}/:id/metadata`, async (req) => ({ status: 200, body: { metadata: metadataOf(await images.show(gate(req), req.params.id)) } }));
  router.put(`${base}/:id/metadata`, async (req) => {
    const ctx = gate(req);
    const { metadata } = validate<{ metadata: Record<string, string> }>(metaSchema, req.body);
    return { status: 200, body: { metadata: await writeMetadata(req, ctx, metadata, true) } };
  });
  router.post(`${base}/:id/metadata`, async (req) => {
    const ctx = gate(req);
    const { metadata } = validate<{ metadata: Record<string, string> }>(metaSchema, req.body);
    return { status: 200, body: { metadata: await writeMetadata(req, ctx, metadata, false) } };
  });
  router.get(`${base}/:id/metadata/:key`, async (req) => {
    const md = metadataOf(await images.show(gate(req), req.params.id));
    if (!Object.hasOwn(md, req.params.key)) throw notFound('Invalid metadata key');
    return { status: 200, body: { meta: { [req.params.key]: md[req.params.key] } } };
  });
  router.put(`${base}/:id/metadata/:key`, async (req) => {
    const ctx = gate(req);
    const { meta } = validate<{ meta: Record<string, string> }>(metaKeySchema, req.body);
    if (!Object.hasOwn(meta, req.params.key)) throw invalid('Request body and URI mismatch');
    const md = await writeMetadata(req, ctx, meta, false);
    return { status: 200, body: { meta: { [req.params.key]: md[req.params.key] } } };
  });
  router.delete(`${base}/:id/metadata/:key`, async (req) => {
    const ctx = gate(req);
    requireWriter(ctx, 'compute:image:update');
    const md = metadataOf(await images.show(ctx, req.params.id));
    if (!Object.hasOwn(md, req.params.key)) throw notFound('Invalid metadata key');
    if (!images.update) throw notImplemented('Changing image metadata through the Compute API is not available in this deployment.');
    await images.update(ctx, req.params.id, {}, [req.params.key]);
    return { status: 204 };
  });
};
