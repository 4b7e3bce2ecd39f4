/**
 * `GET /v2/images` as SQL: Glance's filters, sort keys and marker paging, with the visibility
 * rules of the caller. Every filter is a WHERE clause on an indexed column or an EXISTS on an
 * indexed side table; paging is keyset pagination after the marker image's sort values.
 */
import { inList, type Sql, type SqlValue } from '../db/sql.js';
import { invalid } from '../errors.js';
import type { RequestContext } from '../http/types.js';
import { parseTime } from '../util/time.js';
import { imageNotFound, canSee } from './access.js';
import { CONTAINER_FORMATS, DISK_FORMATS, MEMBER_STATUSES, STATUSES, type ImageRecord } from './model.js';
import { findImage, toRecords, type ImageRow } from './repo.js';

export const DEFAULT_LIMIT = 25;
export const MAX_LIMIT = 1000;

/** Sort keys Glance accepts, with whether the column may be NULL. */
const SORT_KEYS: Record<string, boolean> = {
  name: true,
  owner: true,
  disk_format: true,
  container_format: true,
  size: true,
  virtual_size: true,
  status: false,
  visibility: false,
  id: false,
  created_at: false,
  updated_at: false,
  min_disk: false,
  min_ram: false,
  protected: false,
  os_hidden: false,
};

/** Query parameters that are not property filters. */
const CONTROL = new Set(['limit', 'marker', 'sort', 'sort_key', 'sort_dir', 'member_status', 'visibility', 'tag']);
/** Base attributes filtered by equality (`in:` allowed on the listed ones). */
const EXACT = new Set(['name', 'status', 'id', 'owner', 'disk_format', 'container_format', 'checksum', 'os_hash_value']);
/** `<column>_min` / `<column>_max` range filters on the numeric columns. */
const RANGE = /^(size|virtual_size|min_disk|min_ram)_(min|max)$/;
const TIME_OPS: Record<string, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=', eq: '=', neq: '<>' };

export type QueryParams = Map<string, string[]>;

/** Collects repeated query parameters (`tag=a&tag=b`). */
export function queryParams(src: URLSearchParams | Record<string, string | string[]>): QueryParams {
  const out: QueryParams = new Map();
  const entries = src instanceof URLSearchParams ? [...src.entries()] : Object.entries(src).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]));
  for (const [k, v] of entries) out.set(k, [...(out.get(k) ?? []), v]);
  return out;
}

export interface ListPage {
  images: ImageRecord[];
  limit: number;
  /** Id of the last image when the page is full (more may follow), else null. */
  nextMarker: string | null;
}

interface Where {
  clauses: string[];
  params: SqlValue[];
}

const one = (q: QueryParams, k: string): string | undefined => q.get(k)?.[q.get(k)!.length - 1];

/** `in:a,b,"c,d"` as a list; a plain value as a list of one. */
function values(v: string): string[] {
  if (!v.startsWith('in:')) return [v];
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|([^,]+)/g;
  for (const m of v.slice(3).matchAll(re)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]);
  return out;
}

function parseBool(name: string, v: string): boolean {
  if (v === 'true' || v === 'True' || v === '1') return true;
  if (v === 'false' || v === 'False' || v === '0') return false;
  throw invalid(`Invalid value '${v}' for '${name}' filter. Valid values are 'true' or 'false'.`);
}

function parseLimit(v: string | undefined): number {
  if (v === undefined) return DEFAULT_LIMIT;
  if (!/^-?\d+$/.test(v)) throw invalid('limit param must be an integer');
  const n = Number(v);
  if (n < 0) throw invalid('limit param must be positive');
  return Math.min(n, MAX_LIMIT);
}

/** Sort keys and directions from `sort=k:dir,...` or `sort_key`/`sort_dir`, with created_at and id appended. */
export function parseSort(q: QueryParams): { key: string; dir: 'asc' | 'desc' }[] {
  const out: { key: string; dir: 'asc' | 'desc' }[] = [];
  const checkKey = (k: string) => {
    if (!Object.hasOwn(SORT_KEYS, k)) throw invalid(`Invalid sort key: ${k}. It should be one of the following: ${Object.keys(SORT_KEYS).join(', ')}.`);
  };
  const checkDir = (d: string): 'asc' | 'desc' => {
    if (d !== 'asc' && d !== 'desc') throw invalid(`Invalid sort direction: ${d}`);
    return d;
  };
  if (q.has('sort')) {
    if (q.has('sort_key') || q.has('sort_dir')) throw invalid("The 'sort' parameter cannot be used together with 'sort_key' or 'sort_dir'.");
    for (const part of (one(q, 'sort') ?? '').split(',')) {
      const [k, d, extra] = part.trim().split(':');
      if (extra !== undefined || !k) throw invalid(`Invalid sort value: ${part}`);
      checkKey(k);
      out.push({ key: k, dir: checkDir(d ?? 'desc') });
    }
  } else {
    const keys = q.get('sort_key') ?? [];
    const dirs = q.get('sort_dir') ?? [];
    if (dirs.length > 1 && dirs.length !== keys.length)
      throw invalid('The number of sort_dir parameters must match the number of sort_key parameters.');
    keys.forEach((k, i) => {
      checkKey(k);
      out.push({ key: k, dir: checkDir(dirs[dirs.length > 1 ? i : 0] ?? 'desc') });
    });
    if (keys.length === 0 && dirs.length > 0) out.push({ key: 'created_at', dir: checkDir(dirs[0]) });
  }
  for (const k of ['created_at', 'id']) if (!out.some((s) => s.key === k)) out.push({ key: k, dir: 'desc' });
  return out;
}

/** The visibility part of the WHERE clause for ctx. */
function visibilityClause(ctx: RequestContext, q: QueryParams, w: Where): void {
  const vis = one(q, 'visibility');
  const ms = one(q, 'member_status') ?? 'accepted';
  if (ms !== 'all' && !(MEMBER_STATUSES as readonly string[]).includes(ms)) throw invalid(`Invalid status value: ${ms}`);
  if (vis !== undefined && !['public', 'private', 'shared', 'community', 'all'].includes(vis))
    throw invalid(`Invalid visibility value: ${vis}`);
  const p = ctx.projectId;
  const owned = p === null ? '1 = 0' : 'images.owner = ?';
  const ownedParams = p === null ? [] : [p];
  const member =
    p === null
      ? '1 = 0'
      : `EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = images.id AND m.member_id = ?${ms === 'all' ? '' : ' AND m.status = ?'})`;
  const memberParams = p === null ? [] : ms === 'all' ? [p] : [p, ms];
  const add = (c: string, ps: SqlValue[] = []) => {
    w.clauses.push(c);
    w.params.push(...ps);
  };
  if (vis === 'public' || vis === 'community') add('images.visibility = ?', [vis]);
  else if (vis === 'private') {
    add("images.visibility = 'private'");
    if (!ctx.isAdmin) add(owned, ownedParams);
  } else if (vis === 'shared') {
    add("images.visibility = 'shared'");
    if (!ctx.isAdmin) add(`(${owned} OR ${member})`, [...ownedParams, ...memberParams]);
  } else if (vis === 'all') {
    if (!ctx.isAdmin)
      add(`(images.visibility IN ('public', 'community') OR ${owned} OR (images.visibility = 'shared' AND ${member}))`, [
        ...ownedParams,
        ...memberParams,
      ]);
  } else if (ctx.isAdmin) add(`(images.visibility <> 'community' OR ${owned})`, ownedParams);
  else add(`(images.visibility = 'public' OR ${owned} OR (images.visibility = 'shared' AND ${member}))`, [...ownedParams, ...memberParams]);
}

function filterClauses(q: QueryParams, w: Where): void {
  const add = (c: string, ps: SqlValue[] = []) => {
    w.clauses.push(c);
    w.params.push(...ps);
  };
  for (const [k, vs] of q) {
    const v = vs[vs.length - 1];
    if (k === 'tag') {
      for (const t of vs) add('EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = images.id AND t.tag = ?)', [t]);
    } else if (RANGE.test(k)) {
      if (!/^\d+$/.test(v)) throw invalid('Unable to filter on a range with a non-numeric value.');
      add(`images.${k.slice(0, -4)} ${k.endsWith('_min') ? '>=' : '<='} ?`, [Number(v)]);
    } else if (CONTROL.has(k)) {
      continue;
    } else if (EXACT.has(k)) {
      const list = values(v);
      if (k === 'status') for (const s of list) if (!(STATUSES as readonly string[]).includes(s)) throw invalid(`Invalid status value: ${s}`);
      if (k === 'disk_format' && list.some((f) => !(DISK_FORMATS as readonly string[]).includes(f))) add('1 = 0');
      else if (k === 'container_format' && list.some((f) => !(CONTAINER_FORMATS as readonly string[]).includes(f))) add('1 = 0');
      else add(`images.${k} IN ${inList(list.length)}`, list);
    } else if (k === 'protected' || k === 'os_hidden') {
      add(`images.${k} = ?`, [parseBool(k, v) ? 1 : 0]);
    } else if (k === 'min_disk' || k === 'min_ram' || k === 'size' || k === 'virtual_size') {
      if (!/^\d+$/.test(v)) throw invalid(`Invalid value '${v}' for '${k}' filter: it must be a non-negative integer.`);
      add(`images.${k} = ?`, [Number(v)]);
    } else if (k === 'created_at' || k === 'updated_at') {
      const m = /^(gt|gte|lt|lte|eq|neq):(.+)$/.exec(v);
      const when = parseTime(m ? m[2] : v);
      if (!when) throw invalid(`Invalid time format for ${k}: ${v}`);
      add(`images.${k} ${m ? TIME_OPS[m[1]] : '='} ?`, [when]);
    } else {
      add('EXISTS (SELECT 1 FROM image_properties p WHERE p.image_id = images.id AND p.name = ? AND p.value = ?)', [k, v]);
    }
  }
  if (!q.has('os_hidden')) add('images.os_hidden = 0');
}

/** ORDER BY with NULLs first ascending (and last descending) on both SQL dialects. */
function orderBy(sort: { key: string; dir: string }[]): string {
  return sort
    .flatMap(({ key, dir }) =>
      SORT_KEYS[key] ? [`(CASE WHEN images.${key} IS NULL THEN 0 ELSE 1 END) ${dir}`, `images.${key} ${dir}`] : [`images.${key} ${dir}`],
    )
    .join(', ');
}

/** Rows strictly after the marker in the given order (keyset pagination; id makes it total). */
function afterMarker(sort: { key: string; dir: string }[], marker: ImageRecord, w: Where): void {
  const ors: string[] = [];
  const params: SqlValue[] = [];
  const eqs: string[] = [];
  const eqParams: SqlValue[] = [];
  for (const { key, dir } of sort) {
    const raw = (marker as unknown as Record<string, unknown>)[key];
    const mv: SqlValue = typeof raw === 'boolean' ? (raw ? 1 : 0) : (raw as SqlValue);
    const col = `images.${key}`;
    let gt: string;
    const gtParams: SqlValue[] = [];
    if (mv === null || mv === undefined) gt = dir === 'asc' ? `${col} IS NOT NULL` : '1 = 0';
    else {
      gt = dir === 'asc' ? `${col} > ?` : `(${col} < ? OR ${col} IS NULL)`;
      gtParams.push(mv);
    }
    ors.push(`(${[...eqs, gt].join(' AND ')})`);
    params.push(...eqParams, ...gtParams);
    if (mv === null || mv === undefined) eqs.push(`${col} IS NULL`);
    else {
      eqs.push(`${col} = ?`);
      eqParams.push(mv);
    }
  }
  w.clauses.push(`(${ors.join(' OR ')})`);
  w.params.push(...params);
}

/** One page of the images ctx may see, filtered and sorted as the query asks. Invalid (400) on bad input. */
export async function listImages(sql: Sql, ctx: RequestContext, q: QueryParams): Promise<ListPage> {
  const limit = parseLimit(one(q, 'limit'));
  const sort = parseSort(q);
  const w: Where = { clauses: ['images.deleted = 0'], params: [] };
  visibilityClause(ctx, q, w);
  filterClauses(q, w);
  const markerId = one(q, 'marker');
  if (markerId !== undefined) {
    const m = await findImage(sql, markerId);
    if (!m || !(await canSee(sql, ctx, m))) throw invalid(imageNotFound(markerId).message.replace(/^/, 'Invalid marker. '));
    afterMarker(sort, m, w);
  }
  const rows = await sql.all<ImageRow>(`SELECT images.* FROM images WHERE ${w.clauses.join(' AND ')} ORDER BY ${orderBy(sort)} LIMIT ?`, [
    ...w.params,
    limit,
  ]);
  const images = await toRecords(sql, rows);
  return { images, limit, nextMarker: images.length > 0 && images.length === limit ? images[images.length - 1].id : null };
}
