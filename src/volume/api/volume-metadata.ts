/**
 * Volume metadata: GET/POST (merge)/PUT (replace) /volumes/{id}/metadata and
 * GET/PUT/DELETE /volumes/{id}/metadata/{key}, as Cinder.
 */
import { json } from '../../db/sql.js';
import { invalid, notFound } from '../../errors.js';
import { requireWriter } from '../../api/policy.js';
import type { Router } from '../../http/router.js';
import { validate } from '../../http/validate.js';
import { nowIso } from '../../util/time.js';
import { element, route, type ApiDeps } from './context.js';
import { visibleVolume } from './volume-access.js';
import { metadataSchema } from './volumes.js';

const MAX_ITEMS = 128;

export function mountVolumeMetadata(router: Router, deps: ApiDeps): void {
  const write = async (id: string, meta: Record<string, string>) => {
    if (Object.keys(meta).length > MAX_ITEMS) throw invalid(`Invalid input received: a volume holds at most ${MAX_ITEMS} metadata items.`);
    await deps.sql.run('UPDATE volumes SET metadata = ?, updated_at = ? WHERE id = ? AND deleted = 0', [JSON.stringify(meta), nowIso(), id]);
  };
  const body = (b: unknown) => validate<Record<string, string>>(metadataSchema, element(b, 'metadata'));
  route(router, 'GET', '/volumes/:id/metadata', async (req, c) => {
    const v = await visibleVolume(deps.sql, c, req.params.id);
    return { status: 200, body: { metadata: json(v.metadata, {}) } };
  });
  route(router, 'POST', '/volumes/:id/metadata', async (req, c) => {
    requireWriter(c.ctx, 'volume:update_volume_metadata');
    const add = body(req.body);
    const v = await visibleVolume(deps.sql, c, req.params.id);
    const meta = { ...json<Record<string, string>>(v.metadata, {}), ...add };
    await write(v.id, meta);
    return { status: 200, body: { metadata: meta } };
  });
  route(router, 'PUT', '/volumes/:id/metadata', async (req, c) => {
    requireWriter(c.ctx, 'volume:update_volume_metadata');
    const meta = body(req.body);
    const v = await visibleVolume(deps.sql, c, req.params.id);
    await write(v.id, meta);
    return { status: 200, body: { metadata: meta } };
  });
  route(router, 'GET', '/volumes/:id/metadata/:key', async (req, c) => {
    const v = await visibleVolume(deps.sql, c, req.params.id);
    const meta = json<Record<string, string>>(v.metadata, {});
    if (!(req.params.key in meta)) throw notFound(`Volume ${v.id} has no metadata with key ${req.params.key}.`);
    return { status: 200, body: { meta: { [req.params.key]: meta[req.params.key] } } };
  });
  route(router, 'PUT', '/volumes/:id/metadata/:key', async (req, c) => {
    requireWriter(c.ctx, 'volume:update_volume_metadata');
    const item = validate<Record<string, string>>(metadataSchema, element(req.body, 'meta'));
    const keys = Object.keys(item);
    if (keys.length !== 1) throw invalid('Invalid input received: Request body contains too many items.');
    if (keys[0] !== req.params.key) throw invalid('Invalid input received: Request body and URI mismatch.');
    const v = await visibleVolume(deps.sql, c, req.params.id);
    await write(v.id, { ...json<Record<string, string>>(v.metadata, {}), ...item });
    return { status: 200, body: { meta: item } };
  });
  route(router, 'DELETE', '/volumes/:id/metadata/:key', async (req, c) => {
    requireWriter(c.ctx, 'volume:delete_volume_metadata');
    const v = await visibleVolume(deps.sql, c, req.params.id);
    const meta = json<Record<string, string>>(v.metadata, {});
    if (!(req.params.key in meta)) throw notFound(`Volume ${v.id} has no metadata with key ${req.params.key}.`);
    delete meta[req.params.key];
    await write(v.id, meta);
    return { status: 200 };
  });
}
