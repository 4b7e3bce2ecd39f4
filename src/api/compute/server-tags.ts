/**
 * Server tags (2.26+): /servers/{id}/tags and /servers/{id}/tags/{tag}, as Nova's server_tags
 * controller. At most 50 tags per server; a tag is 1-60 characters without '/' or ','.
 * Changes need the server in a stable vm_state (409 otherwise).
 */
import { invalid, notFound } from '../../errors.js';
import { updateInstance, type InstanceRow } from '../../db/instances.js';
import { ctxOf, type ApiRequest } from '../../http/types.js';
import { validate } from '../../http/validate.js';
import { VmState as V } from '../../compute/vm-states.js';
import { requireWriter } from '../policy.js';
import { API_PREFIX, type MountFn } from './common.js';
import type { ComputeApiDeps } from './deps.js';
import { checkState, loadServer } from './server-access.js';
import { MAX_TAGS, TAG } from './server-schemas.js';
import type { Sql } from '../../db/sql.js';

const TAGS_BODY = { type: 'object', properties: { tags: { type: 'array', items: TAG } }, required: ['tags'], additionalProperties: false };
const MUTABLE_STATES = [V.ACTIVE, V.PAUSED, V.SUSPENDED, V.STOPPED, V.SHELVED, V.SHELVED_OFFLOADED];

function requireMv(req: ApiRequest): void {
  if (!req.mv.atLeast('2.26')) throw notFound('The resource could not be found.');
}

async function tagsOf(sql: Sql, uuid: string): Promise<string[]> {
  return (await sql.all<{ tag: string }>('SELECT tag FROM instance_tags WHERE instance_uuid = ? ORDER BY tag', [uuid])).map((r) => r.tag);
}

async function forChange(deps: ComputeApiDeps, req: ApiRequest, action: string): Promise<InstanceRow> {
  requireMv(req);
  const ctx = ctxOf(req);
  requireWriter(ctx, `os_compute_api:os-server-tags:${action.replace(' ', '_')}`);
  const row = await loadServer(deps.sql, ctx, req.params.id);
  checkState(row, action, MUTABLE_STATES, undefined);
  return row;
}

const tooMany = () => invalid(`The number of tags exceeded the per-server limit ${MAX_TAGS}`);

export const mountServerTags: MountFn = (router, deps) => {
  const P = `${API_PREFIX}/servers/:id/tags`;

  router.get(P, async (req) => {
    requireMv(req);
    const row = await loadServer(deps.sql, ctxOf(req), req.params.id);
    return { status: 200, body: { tags: await tagsOf(deps.sql, row.uuid) } };
  });

  router.put(P, async (req) => {
    requireMv(req);
    const body = validate<{ tags: string[] }>(TAGS_BODY, req.body);
    const tags = [...new Set(body.tags)];
    if (tags.length > MAX_TAGS) throw tooMany();
    const row = await forChange(deps, req, 'update tags');
    await deps.sql.tx(async (tx) => {
      await tx.run('DELETE FROM instance_tags WHERE instance_uuid = ?', [row.uuid]);
      for (const t of tags) await tx.run('INSERT INTO instance_tags (instance_uuid, tag) VALUES (?, ?)', [row.uuid, t]);
      await updateInstance(tx, row.uuid, {});
    });
    return { status: 200, body: { tags: [...tags].sort() } };
  });

  router.delete(P, async (req) => {
    const row = await forChange(deps, req, 'delete tags');
    await deps.sql.tx(async (tx) => {
      await tx.run('DELETE FROM instance_tags WHERE instance_uuid = ?', [row.uuid]);
      await updateInstance(tx, row.uuid, {});
    });
    return { status: 204 };
  });

  router.get(`${P}/:tag`, async (req) => {
    requireMv(req);
    const row = await loadServer(deps.sql, ctxOf(req), req.params.id);
    const hit = await deps.sql.get('SELECT 1 AS ok FROM instance_tags WHERE instance_uuid = ? AND tag = ?', [row.uuid, req.params.tag]);
    if (!hit) throw notFound(`Instance ${row.uuid} has no tag '${req.params.tag}'`);
    return { status: 204 };
  });

  router.put(`${P}/:tag`, async (req) => {
    requireMv(req);
    const tag = req.params.tag;
    validate({ type: 'object', properties: { tag: TAG } }, { tag });
    const row = await forChange(deps, req, 'update tag');
    const created = await deps.sql.tx(async (tx) => {
      const tags = await tagsOf(tx, row.uuid);
      if (tags.includes(tag)) return false;
      if (tags.length >= MAX_TAGS) throw tooMany();
      await tx.run('INSERT INTO instance_tags (instance_uuid, tag) VALUES (?, ?)', [row.uuid, tag]);
      await updateInstance(tx, row.uuid, {});
      return true;
    });
    if (!created) return { status: 204 };
    return { status: 201, headers: { location: `${req.baseUrl}/v2.1/servers/${row.uuid}/tags/${encodeURIComponent(tag)}` } };
  });

  router.delete(`${P}/:tag`, async (req) => {
    const row = await forChange(deps, req, 'delete tag');
    await deps.sql.tx(async (tx) => {
      const r = await tx.run('DELETE FROM instance_tags WHERE instance_uuid = ? AND tag = ?', [row.uuid, req.params.tag]);
      if (r.changes === 0) throw notFound(`Instance ${row.uuid} has no tag '${req.params.tag}'`);
      await updateInstance(tx, row.uuid, {});
    });
    return { status: 204 };
  });
};
