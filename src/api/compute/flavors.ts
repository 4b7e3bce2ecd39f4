/**
 * Flavors: list (index and detail, with filters, sorting and paging), show, and the admin
 * flavor-manage actions create, update (description, 2.55) and delete.
 */
import { conflict, invalid, notFound } from '../../errors.js';
import type { Sql, SqlValue } from '../../db/sql.js';
import type { ApiRequest, RequestContext } from '../../http/types.js';
import { ctxOf } from '../../http/types.js';
import { validate } from '../../http/validate.js';
import { requireAdmin } from '../policy.js';
import { uuid } from '../../util/ids.js';
import { nowIso } from '../../util/time.js';
import { API_PREFIX, nextLinks, pageParams, type MountFn } from './common.js';
import { extraSpecsOf, getFlavorRow, visibleFlavor, flavorNotFound, type FlavorRow } from './flavor-store.js';
import { flavorBrief, flavorDetail } from './flavor-view.js';
import {
  flavorCreateV21,
  flavorCreateV255,
  flavorUpdateV255,
  intInRange,
  rxtxFactor,
  toBool,
  type FlavorCreateBody,
} from './flavor-schemas.js';
import { rejectUnknownQuery } from './query.js';
import { own } from '../../util/own.js';

/** API sort keys and the column each sorts on. */
const SORT_KEYS: Record<string, string> = {
  created_at: 'created_at',
  description: 'description',
  disabled: 'disabled',
  ephemeral_gb: 'ephemeral_gb',
  flavorid: 'flavorid',
  id: 'id',
  is_public: 'is_public',
  memory_mb: 'memory_mb',
  name: 'name',
  root_gb: 'root_gb',
  rxtx_factor: 'rxtx_factor',
  swap: 'swap',
  updated_at: 'updated_at',
  vcpu_weight: 'id',
  vcpus: 'vcpus',
};
const LIST_PARAMS = ['sort_key', 'sort_dir', 'is_public', 'minRam', 'minDisk', 'limit', 'marker'];

const STRBOOL_TRUE = ['true', 't', '1', 'on', 'y', 'yes'];
const STRBOOL_FALSE = ['false', 'f', '0', 'off', 'n', 'no'];

/** Nova's is_public filter: true/false, or 'none' for both (admins only; others always get public+shared). */
function parseIsPublic(raw: string | null): boolean | null {
  if (raw === null) return true;
  const v = raw.toLowerCase();
  if (v === 'none') return null;
  if (STRBOOL_TRUE.includes(v)) return true;
  if (STRBOOL_FALSE.includes(v)) return false;
  throw invalid(`Invalid is_public filter [${raw}]`);
}

function intFilter(req: ApiRequest, name: string): number | null {
  const raw = req.query.get(name);
  if (raw === null) return null;
  if (!/^-?\d+$/.test(raw.trim())) throw invalid(`Invalid ${name} filter [${raw}]`);
  return Number(raw);
}

/** Flavors ctx may list, filtered and sorted, as Nova's flavor_get_all does. */
async function listFlavors(sql: Sql, ctx: RequestContext, req: ApiRequest): Promise<FlavorRow[]> {
  if (req.mv.atLeast('2.75')) rejectUnknownQuery(req, LIST_PARAMS);
  const where: string[] = [];
  const params: SqlValue[] = [];
  const minRam = intFilter(req, 'minRam');
  const minDisk = intFilter(req, 'minDisk');
  if (minRam !== null) {
    where.push('memory_mb >= ?');
    params.push(minRam);
  }
  if (minDisk !== null) {
    where.push('root_gb >= ?');
    params.push(minDisk);
  }
  const isPublic = ctx.isAdmin ? parseIsPublic(req.query.get('is_public')) : true;
  const access = '(id IN (SELECT flavor_id FROM flavor_projects WHERE project_id = ?))';
  if (isPublic === true) {
    where.push(`(is_public = 1 OR ${access})`);
    params.push(ctx.projectId ?? '');
  } else if (isPublic === false) {
    where.push('is_public = 0');
  }
  const sortKey = req.query.get('sort_key') ?? 'flavorid';
  const sortDir = (req.query.get('sort_dir') ?? 'asc').toLowerCase();
  const col = own(SORT_KEYS, sortKey);
  if (!col) throw invalid(`Invalid input for query parameters sort_key. Value: ${sortKey}. '${sortKey}' is not one of ${JSON.stringify(Object.keys(SORT_KEYS))}`);
  if (sortDir !== 'asc' && sortDir !== 'desc')
    throw invalid(`Invalid input for query parameters sort_dir. Value: ${sortDir}. '${sortDir}' is not one of ['asc', 'desc']`);
  const order = `${col} ${sortDir}${col === 'id' ? '' : `, id ${sortDir}`}`;
  return sql.all<FlavorRow>(`SELECT * FROM flavors${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY ${order}`, params);
}

async function listPage(deps: { sql: Sql }, req: ApiRequest, detail: boolean) {
  const ctx = ctxOf(req);
  const { limit, marker } = pageParams(req);
  let rows = await listFlavors(deps.sql, ctx, req);
  if (marker !== null) {
    const i = rows.findIndex((r) => r.flavorid === marker);
    if (i < 0) throw invalid(`Marker ${marker} could not be found.`);
    rows = rows.slice(i + 1);
  }
  rows = rows.slice(0, limit);
  const specs = detail && req.mv.atLeast('2.61') ? await extraSpecsOf(deps.sql, rows.map((r) => r.id)) : undefined;
  const flavors = rows.map((r) => (detail ? flavorDetail(req, r, specs?.get(r.id)) : flavorBrief(req, r)));
  const body: Record<string, unknown> = { flavors };
  const next = nextLinks(req, detail ? 'flavors/detail' : 'flavors', rows.map((r) => ({ id: r.flavorid })), limit);
  if (next) body.flavors_links = next;
  return { status: 200, body };
}

/** The full view of one flavor, with extra specs from 2.61. */
export async function renderFlavor(sql: Sql, req: ApiRequest, row: FlavorRow) {
  const specs = req.mv.atLeast('2.61') ? (await extraSpecsOf(sql, [row.id])).get(row.id) : undefined;
  return flavorDetail(req, row, specs);
}

export const mountFlavors: MountFn = (router, deps) => {
  const { sql } = deps;
  const P = API_PREFIX;

  router.get(`${P}/flavors`, (req) => listPage(deps, req, false));
  router.get(`${P}/flavors/detail`, (req) => listPage(deps, req, true));

  router.get(`${P}/flavors/:id`, async (req) => {
    const row = await visibleFlavor(sql, ctxOf(req), req.params.id);
    return { status: 200, body: { flavor: await renderFlavor(sql, req, row) } };
  });

  router.post(`${P}/flavors`, async (req) => {
    requireAdmin(ctxOf(req), 'os_compute_api:os-flavor-manage:create');
    const body = validate<FlavorCreateBody>(req.mv.atLeast('2.55') ? flavorCreateV255 : flavorCreateV21, req.body);
    const f = body.flavor;
    const name = f.name;
    let flavorid = f.id === undefined || f.id === null ? null : String(f.id);
    if (flavorid === null || flavorid === 'auto') flavorid = uuid();
    const row = {
      flavorid,
      name,
      memory_mb: intInRange('ram', f.ram, 1),
      vcpus: intInRange('vcpus', f.vcpus, 1),
      root_gb: intInRange('disk', f.disk, 0),
      ephemeral_gb: intInRange('OS-FLV-EXT-DATA:ephemeral', f['OS-FLV-EXT-DATA:ephemeral'], 0),
      swap: intInRange('swap', f.swap, 0),
      rxtx_factor: rxtxFactor(f.rxtx_factor),
      is_public: f['os-flavor-access:is_public'] === undefined ? 1 : toBool(f['os-flavor-access:is_public']) ? 1 : 0,
      description: f.description ?? null,
    };
    const created = await sql.tx(async (tx) => {
      if (await tx.get('SELECT 1 AS x FROM flavors WHERE name = ?', [name])) throw conflict(`Flavor with name ${name} already exists.`);
      if (await tx.get('SELECT 1 AS x FROM flavors WHERE flavorid = ?', [flavorid]))
        throw conflict(`Flavor with ID ${flavorid} already exists.`);
      await tx.run(
        `INSERT INTO flavors (flavorid, name, memory_mb, vcpus, root_gb, ephemeral_gb, swap, rxtx_factor, is_public, disabled, description, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
        [row.flavorid, row.name, row.memory_mb, row.vcpus, row.root_gb, row.ephemeral_gb, row.swap, row.rxtx_factor, row.is_public, row.description, nowIso()],
      );
      return (await getFlavorRow(tx, flavorid))!;
    });
    return { status: 200, body: { flavor: await renderFlavor(sql, req, created) } };
  });

  router.put(`${P}/flavors/:id`, async (req) => {
    if (!req.mv.atLeast('2.55')) throw notFound('The resource could not be found.');
    requireAdmin(ctxOf(req), 'os_compute_api:os-flavor-manage:update');
    const body = validate<{ flavor: { description: string | null } }>(flavorUpdateV255, req.body);
    const row = await getFlavorRow(sql, req.params.id);
    if (!row) throw flavorNotFound(req.params.id);
    await sql.run('UPDATE flavors SET description = ?, updated_at = ? WHERE id = ?', [body.flavor.description, nowIso(), row.id]);
    const updated = (await getFlavorRow(sql, req.params.id))!;
    return { status: 200, body: { flavor: await renderFlavor(sql, req, updated) } };
  });

  router.delete(`${P}/flavors/:id`, async (req) => {
    requireAdmin(ctxOf(req), 'os_compute_api:os-flavor-manage:delete');
    const res = await sql.run('DELETE FROM flavors WHERE flavorid = ?', [req.params.id]);
    if (res.changes === 0) throw flavorNotFound(req.params.id);
    return { status: 202 };
  });
};
