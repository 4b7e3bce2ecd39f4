import { invalid } from '../../errors.js';
import type { SqlValue } from '../../db/sql.js';
import { parseTime } from '../../util/time.js';
import type { ApiRequest } from '../../http/types.js';
import type { ComputeApiDeps } from './deps.js';
import type { Router } from '../../http/router.js';

/** Each Compute API resource module exports one of these; index.ts mounts them all. */
export type MountFn = (router: Router, deps: ComputeApiDeps) => void;

export const API_PREFIX = '/v2.1';
export const MAX_LIMIT = 1000;

/** Reads `limit` and `marker` as Nova does: limit a non-negative integer (capped), marker a string. */
export function pageParams(req: ApiRequest): { limit: number; marker: string | null } {
  const raw = req.query.get('limit');
  let limit = MAX_LIMIT;
  if (raw !== null) {
    if (!/^\d+$/.test(raw)) throw invalid(`Invalid input for query parameters limit. Value: ${raw}. '${raw}' does not match '^[0-9]*$'`);
    limit = Math.min(Number(raw), MAX_LIMIT);
  }
  return { limit, marker: req.query.get('marker') };
}

/** Nova's self/bookmark links for a resource. */
export function links(req: ApiRequest, collection: string, id: string | number) {
  const root = req.baseUrl;
  return [
    { rel: 'self', href: `${root}/v2.1/${collection}/${id}` },
    { rel: 'bookmark', href: `${root}/${collection}/${id}` },
  ];
}

/** `<collection>_links` with a `next` link when a full page was returned. */
export function nextLinks(req: ApiRequest, collection: string, items: { id: string | number }[], limit: number) {
  if (items.length === 0 || items.length < limit) return undefined;
  const q = new URLSearchParams(req.query);
  q.set('limit', String(limit));
  q.set('marker', String(items[items.length - 1].id));
  return [{ rel: 'next', href: `${req.baseUrl}/v2.1/${collection}?${q.toString()}` }];
}

/** The JSON body as an object, or 400 when absent or not an object. */
export function bodyObject(req: ApiRequest): Record<string, unknown> {
  const b = req.body;
  if (b === undefined || b === null || typeof b !== 'object' || Array.isArray(b)) throw invalid('The request body must be a JSON object.');
  return b as Record<string, unknown>;
}

/** ISO 8601 dates and date-times, as the iso8601 parser behind Nova's 'date-time' format takes them. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** A time query parameter (changes-since, created_at, ...): ISO 8601 only, else Nova's 400. */
export function timeParam(name: string, raw: string): string {
  const t = ISO_8601.test(raw.trim()) ? parseTime(raw) : null;
  if (!t) throw invalid(`Invalid input for query parameters ${name}. Value: ${raw}. '${raw}' is not a 'date-time'`);
  return t;
}

/**
 * Narrows a query to rows updated within [since, before] (changes-since / changes-before);
 * 400 when since is after before. Either bound may be null.
 */
export function changesWindow(where: string[], params: SqlValue[], since: string | null, before: string | null): void {
  if (since && before && since > before) throw invalid('The value of changes-since must be less than or equal to changes-before.');
  if (since) {
    where.push('updated_at >= ?');
    params.push(since);
  }
  if (before) {
    where.push('updated_at <= ?');
    params.push(before);
  }
}
