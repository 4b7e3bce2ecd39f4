/**
 * Cinder's list parameters: limit/marker paging (plus offset: items skipped after the marker), `sort=key[:dir],...` (or sort_key/sort_dir),
 * applied to rows already filtered; and the `<collection>_links` next link (on every full page).
 */
import { invalid, notFound } from '../../errors.js';

export interface Page<T> {
  items: T[];
  next: string | null;
}

const MAX_LIMIT = 1000;

function parseSort(q: URLSearchParams, keys: string[]): [string, 'asc' | 'desc'][] {
  const out: [string, 'asc' | 'desc'][] = [];
  const sort = q.get('sort');
  const legacyKey = q.get('sort_key');
  if (sort && legacyKey) throw invalid("Invalid input received: The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
  const items = sort ? sort.split(',') : legacyKey ? [`${legacyKey}:${q.get('sort_dir') ?? 'desc'}`] : [];
  for (const item of items) {
    const [key, dir = 'desc'] = item.trim().split(':');
    const k = key === 'name' || key === 'display_name' ? 'name' : key;
    if (!keys.includes(k)) throw invalid(`Invalid input received: Invalid sort key ${key}: sort keys are ${keys.join(', ')}.`);
    if (dir !== 'asc' && dir !== 'desc') throw invalid(`Invalid input received: Unknown sort direction ${dir}, must be 'desc' or 'asc'.`);
    out.push([k, dir]);
  }
  if (!out.some(([k]) => k === 'created_at')) out.push(['created_at', out[0]?.[1] ?? 'desc']);
  if (!out.some(([k]) => k === 'id')) out.push(['id', out[0]?.[1] ?? 'desc']);
  return out;
}

function cmp(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

/** Sorts and pages rows; `link(marker, limit)` builds the next link when the page is full. */
export function paginate<T extends { id: string }>(rows: T[], q: URLSearchParams, sortKeys: string[], link: (marker: string, limit: number) => string): Page<T> {
  const sort = parseSort(q, sortKeys);
  const sorted = [...rows].sort((x, y) => {
    for (const [k, dir] of sort) {
      const c = cmp((x as any)[k], (y as any)[k]);
      if (c) return dir === 'asc' ? c : -c;
    }
    return 0;
  });
  let start = 0;
  const marker = q.get('marker');
  if (marker !== null) {
    const i = sorted.findIndex((r) => r.id === marker);
    if (i < 0) throw notFound(`Marker ${marker} could not be found.`);
    start = i + 1;
  }
  const rawOffset = q.get('offset');
  if (rawOffset !== null) {
    if (!/^-?\d+$/.test(rawOffset)) throw invalid(`Invalid input received: offset param must be an integer, got '${rawOffset}'.`);
    if (Number(rawOffset) < 0) throw invalid('Invalid input received: offset param must be positive.');
    start += Number(rawOffset);
  }
  let limit = MAX_LIMIT;
  const rawLimit = q.get('limit');
  if (rawLimit !== null) {
    if (!/^\d+$/.test(rawLimit)) throw invalid(`Invalid input received: limit must be a non-negative integer, got '${rawLimit}'.`);
    limit = Math.min(Number(rawLimit), MAX_LIMIT);
  }
  const items = sorted.slice(start, start + limit);
  // Cinder links a next page whenever this one is full, even when nothing follows it.
  const full = items.length === limit && limit > 0;
  return { items, next: full ? link(items[items.length - 1].id, limit) : null };
}
