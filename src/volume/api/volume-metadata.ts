/**
 * Volume and snapshot metadata: GET/POST (merge)/PUT (replace) /{volumes,snapshots}/{id}/metadata
 * and GET/PUT/DELETE /{volumes,snapshots}/{id}/metadata/{key}, as Cinder.
 */
import { json } from '../../db/sql.js';
import { invalid, notFound } from '../../errors.js';
import { requireWriter } from '../../api/policy.js';
import type { Router } from '../../http/router.js';
import { validate } from '../../http/validate.js';
import { nowIso } from '../../util/time.js';
import { element, route, type ApiDeps, type Call } from './context.js';
import { visibleSnapshot, visibleVolume } from './volume-access.js';
import { metadataSchema } from './volumes.js';

const MAX_ITEMS = 128;

interface Owner {
  /** URL collection, e.g. `volumes`. */
  collection: 'volumes' | 'snapshots';
  table: string;
  noun: string;
  /** Cinder's policy names: <policy>:update_<noun>_metadata etc. */
  policy: string;
  visible: (sql: ApiDeps['sql'], c: Call, id: string) => Promise<{ id: string; metadata: string }>;
}

export function mountVolumeMetadata(router: Router, deps: ApiDeps): void {
  mountMetadata(router, deps, { collection: 'volumes', table: 'volumes', noun: 'Volume', policy: 'volume:update_volume_metadata', visible: visibleVolume });
}

export function mountSnapshotMetadata(router: Router, deps: ApiDeps): void {
  mountMetadata(router, deps, { collection: 'snapshots', table: 'volume_snapshots', noun: 'Snapshot', policy: 'volume:update_snapshot_metadata', visible: visibleSnapshot });
}

function mountMetadata(router: Router, deps: ApiDeps, o: Owner): void {
  const write = async (id: string, meta: Record<string, string>) => {
    if (Object.keys(meta).length > MAX_ITEMS) throw invalid(`Invalid input received: a ${o.noun.toLowerCase()} holds at most ${MAX_ITEMS} metadata items.`);
    await deps.sql.run(`UPDATE ${o.table} SET metadata = ?, updated_at = ? WHERE id = ? AND deleted = 0`, [JSON.stringify(meta), nowIso(), id]);
  };
  const body = (b: unknown) => validate<Record<string, string>>(metadataSchema, element(b, 'metadata'));
  route(router, 'GET', `/${o.collection}/:id/metadata`, async (req, c) => {
    const v = await o.visible(deps.sql, c, req.params.id);
    return { status: 200, body: { metadata: json(v.metadata, {}) } };
  });
  route(router, 'POST', `/${o.collection}/:id/metadata`, async (req, c) => {
    requireWriter(c.ctx, o.policy);
    const add = body(req.body);
    const v = await o.visible(deps.sql, c, req.params.id);
    const meta = { ...json<Record<string, string>>(v.metadata, {}), ...add };
    await write(v.id, meta);
    return { status: 200, body: { metadata: meta } };
  });
  route(router, 'PUT', `/${o.collection}/:id/metadata`, async (req, c) => {
    requireWriter(c.ctx, o.policy);
    const meta = body(req.body);
    const v = await o.visible(deps.sql, c, req.params.id);
    await write(v.id, meta);
    return { status: 200, body: { metadata: meta } };
  });
  route(router, 'GET', `/${o.collection}/:id/metadata/:key`, async (req, c) => {
    const v = await o.visible(deps.sql, c, req.params.id);
    const meta = json<Record<string, string>>(v.metadata, {});
    if (!(req.params.key in meta)) throw notFound(`${o.noun} ${v.id} has no metadata with key ${req.params.key}.`);
    return { status: 200, body: { meta: { [req.params.key]: meta[req.params.key] } } };
  });
  route(router, 'PUT', `/${o.collection}/:id/metadata/:key`, async (req, c) => {
    requireWriter(c.ctx, o.policy);
    const item = validate<Record<string, string>>(metadataSchema, element(req.body, 'meta'));
    const keys = Object.keys(item);
    if (keys.length !== 1) throw invalid('Invalid input received: Request body contains too many items.');
    if (keys[0] !== req.params.key) throw invalid('Invalid input received: Request body and URI mismatch.');
    const v = await o.visible(deps.sql, c, req.params.id);
    await write(v.id, { ...json<Record<string, string>>(v.metadata, {}), ...item });
    return { status: 200, body: { meta: item } };
  });
  route(router, 'DELETE', `/${o.collection}/:id/metadata/:key`, async (req, c) => {
    requireWriter(c.ctx, o.policy.replace('update_', 'delete_'));
    const v = await o.visible(deps.sql, c, req.params.id);
    const meta = json<Record<string, string>>(v.metadata, {});
    if (!(req.params.key in meta)) throw notFound(`${o.noun} ${v.id} has no metadata with key ${req.params.key}.`);
    delete meta[req.params.key];
    await write(v.id, meta);
    return { status: 200 };
  });
}
