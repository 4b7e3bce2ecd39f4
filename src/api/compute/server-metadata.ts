/**
 * Server metadata (/servers/{id}/metadata[/key]) as Nova's server_metadata controller:
 * key/value validation by schema, the metadata_items quota (403), and the lock and state
 * checks of update_instance_metadata (409 while locked for non-admins or while building).
 */
import { invalid, notFound } from '../../errors.js';
import type { Sql } from '../../db/sql.js';
import { updateInstance, type InstanceRow } from '../../db/instances.js';
import { ctxOf, type ApiRequest, type ApiResponse } from '../../http/types.js';
import { S, validate } from '../../http/validate.js';
import { VmState as V } from '../../compute/vm-states.js';
import { requireWriter } from '../policy.js';
import { API_PREFIX, type MountFn } from './common.js';
import type { ComputeApiDeps } from './deps.js';
import { checkNotLocked, checkState, loadServer } from './server-access.js';
import { checkMetadataQuota } from './servers-create.js';

const METADATA_BODY = { type: 'object', properties: { metadata: S.metadata }, required: ['metadata'], additionalProperties: false };
const META_BODY = {
  type: 'object',
  properties: { meta: { ...S.metadata, minProperties: 1, maxProperties: 1 } },
  required: ['meta'],
  additionalProperties: false,
};
const MUTABLE_STATES = [V.ACTIVE, V.PAUSED, V.SUSPENDED, V.STOPPED];

async function readMetadata(sql: Sql, uuid: string): Promise<Record<string, string>> {
  const rows = await sql.all<{ key: string; value: string }>('SELECT key, value FROM instance_metadata WHERE instance_uuid = ? ORDER BY key', [uuid]);
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

/** Loads the server for a change: policy, lock and Nova's allowed states. */
async function forChange(deps: ComputeApiDeps, req: ApiRequest, action: string): Promise<InstanceRow> {
  const ctx = ctxOf(req);
  requireWriter(ctx, `os_compute_api:server-metadata:${action === 'delete metadata' ? 'delete' : 'update'}`);
  const row = await loadServer(deps.sql, ctx, req.params.id);
  checkNotLocked(ctx, row);
  checkState(row, action, MUTABLE_STATES, undefined);
  return row;
}

/** Writes metadata (merged or replacing all) inside one transaction, quota included. */
async function write(deps: ComputeApiDeps, row: InstanceRow, items: Record<string, string>, replace: boolean): Promise<Record<string, string>> {
  return deps.sql.tx(async (tx) => {
    const current = await readMetadata(tx, row.uuid);
    const next = replace ? { ...items } : { ...current, ...items };
    await checkMetadataQuota(tx, row.project_id, Object.keys(next).length);
    if (replace) await tx.run('DELETE FROM instance_metadata WHERE instance_uuid = ?', [row.uuid]);
    for (const [k, v] of Object.entries(items)) {
      await tx.run('DELETE FROM instance_metadata WHERE instance_uuid = ? AND key = ?', [row.uuid, k]);
      await tx.run('INSERT INTO instance_metadata (instance_uuid, key, value) VALUES (?, ?, ?)', [row.uuid, k, v]);
    }
    await updateInstance(tx, row.uuid, {});
    return next;
  });
}

export const mountServerMetadata: MountFn = (router, deps) => {
  const P = `${API_PREFIX}/servers/:id/metadata`;

  router.get(P, async (req): Promise<ApiResponse> => {
    const row = await loadServer(deps.sql, ctxOf(req), req.params.id);
    return { status: 200, body: { metadata: await readMetadata(deps.sql, row.uuid) } };
  });

  router.post(P, async (req) => {
    const body = validate<{ metadata: Record<string, string> }>(METADATA_BODY, req.body);
    const row = await forChange(deps, req, 'update metadata');
    return { status: 200, body: { metadata: await write(deps, row, body.metadata, false) } };
  });

  router.put(P, async (req) => {
    const body = validate<{ metadata: Record<string, string> }>(METADATA_BODY, req.body);
    const row = await forChange(deps, req, 'update metadata');
    return { status: 200, body: { metadata: await write(deps, row, body.metadata, true) } };
  });

  router.get(`${P}/:key`, async (req) => {
    const row = await loadServer(deps.sql, ctxOf(req), req.params.id);
    const md = await readMetadata(deps.sql, row.uuid);
    if (!Object.hasOwn(md, req.params.key)) throw notFound('Metadata item was not found');
    return { status: 200, body: { meta: { [req.params.key]: md[req.params.key] } } };
  });

  router.put(`${P}/:key`, async (req) => {
    const raw = req.body as { meta?: Record<string, unknown> } | undefined;
    if (raw && typeof raw === 'object' && raw.meta && typeof raw.meta === 'object' && Object.keys(raw.meta).length > 1)
      throw invalid('Request body contains too many items');
    const body = validate<{ meta: Record<string, string> }>(META_BODY, req.body);
    const [key, value] = Object.entries(body.meta)[0];
    if (key !== req.params.key) throw invalid('Request body and URI mismatch');
    const row = await forChange(deps, req, 'update metadata');
    await write(deps, row, { [key]: value }, false);
    return { status: 200, body: { meta: { [key]: value } } };
  });

  router.delete(`${P}/:key`, async (req) => {
    const row = await forChange(deps, req, 'delete metadata');
    await deps.sql.tx(async (tx) => {
      const r = await tx.run('DELETE FROM instance_metadata WHERE instance_uuid = ? AND key = ?', [row.uuid, req.params.key]);
      if (r.changes === 0) throw notFound('Metadata item was not found');
      await updateInstance(tx, row.uuid, {});
    });
    return { status: 204 };
  });
};
