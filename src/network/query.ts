/**
 * Neutron's list semantics over already-visible views: filters on any top-level field (a
 * repeated parameter means "any of"), tag filters, `fields=`, sort_key/sort_dir, and
 * limit/marker/page_reverse with `<collection>_links`. Unknown filters and sort keys are 400s
 * naming the parameter, as Neutron's filter validation.
 */
import { invalid } from '../errors.js';
import type { ApiRequest } from '../http/types.js';
import type { NeutronView } from './client.js';

const PAGING = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse']);
const TAG_FILTERS = new Set(['tags', 'tags-any', 'not-tags', 'not-tags-any']);

export interface ListOptions {
  /** The collection name (networks, subnets, ports, ...): the body key and the links key. */
  collection: string;
  /** Every field the resource shows (the filterable and sortable ones). */
  fields: readonly string[];
  /** Answers the error for a marker that names no visible resource. */
  markerNotFound: (id: string) => Error;
}

/** Renders a filter value as Neutron compares it: booleans as true/false, null as None. */
function text(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return String(v);
}

function matchesValue(field: string, actual: unknown, wanted: string): boolean {
  if (field === 'fixed_ips' && Array.isArray(actual)) {
    // fixed_ips=ip_address=10.0.0.3 / subnet_id=<id> / ip_address_substr=10.0.
    const m = /^(ip_address|subnet_id|ip_address_substr)=(.*)$/.exec(wanted);
    if (!m) throw invalid(`Invalid input for fixed_ips. Reason: '${wanted}' is not of the form ip_address=<ip> or subnet_id=<id>.`);
    return actual.some((f: any) => (m[1] === 'ip_address_substr' ? String(f.ip_address).includes(m[2]) : f[m[1]] === m[2]));
  }
  if (Array.isArray(actual)) return actual.some((a) => text(a) === wanted);
  if (typeof actual === 'boolean') return text(actual) === wanted.toLowerCase();
  return text(actual) === wanted;
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return String(a) < String(b) ? -1 : 1;
}

/** Projects a view onto the `fields=` the request names (all fields when none). */
export function selectFields(req: ApiRequest, view: NeutronView): Record<string, unknown> {
  const wanted = req.query.getAll('fields').flatMap((f) => f.split(',')).filter(Boolean);
  if (!wanted.length) return view;
  return Object.fromEntries(wanted.filter((f) => f in view).map((f) => [f, view[f]]));
}

function tagsMatch(q: URLSearchParams, tags: string[]): boolean {
  const list = (k: string) => q.getAll(k).flatMap((v) => v.split(',')).filter(Boolean);
  const all = list('tags');
  const any = list('tags-any');
  const notAll = list('not-tags');
  const notAny = list('not-tags-any');
  if (all.length && !all.every((t) => tags.includes(t))) return false;
  if (any.length && !any.some((t) => tags.includes(t))) return false;
  if (notAll.length && notAll.every((t) => tags.includes(t))) return false;
  if (notAny.length && notAny.some((t) => tags.includes(t))) return false;
  return true;
}

/** Filters views by the request's query (no paging, no projection). */
export function filterViews(req: ApiRequest, views: NeutronView[], opts: Pick<ListOptions, 'fields'>): NeutronView[] {
  const q = req.query;
  const filters = new Map<string, string[]>();
  for (const key of new Set(q.keys())) {
    if (PAGING.has(key) || TAG_FILTERS.has(key)) continue;
    if (!opts.fields.includes(key)) throw invalid(`[${key}] is invalid attribute for filtering`);
    filters.set(key, q.getAll(key));
  }
  return views.filter((v) => {
    for (const [k, wanted] of filters) if (!wanted.some((w) => matchesValue(k, v[k], w))) return false;
    return tagsMatch(q, Array.isArray(v.tags) ? (v.tags as string[]) : []);
  });
}

/** The whole list answer: filtered, sorted, one page, projected, with paging links. */
export function listResponse(req: ApiRequest, views: NeutronView[], opts: ListOptions): { status: number; body: unknown } {
  const q = req.query;
  const keys = q.getAll('sort_key');
  const dirs = q.getAll('sort_dir');
  for (const k of keys) if (!opts.fields.includes(k)) throw invalid(`${k} is an invalid attribute for sort_key`);
  for (const d of dirs) if (d !== 'asc' && d !== 'desc') throw invalid(`${d} is an invalid value for sort_dir, valid values are 'asc' and 'desc'`);
  if (dirs.length > keys.length) throw invalid('The number of sort_keys and sort_dirs must be same');
  const order = keys.map((k, i) => ({ k, desc: (dirs[i] ?? 'asc') === 'desc' }));
  if (!keys.includes('id')) order.push({ k: 'id', desc: order.length ? order[order.length - 1].desc : false });
  let list = filterViews(req, views, opts).sort((a, b) => {
    for (const o of order) {
      const c = compare(a[o.k], b[o.k]);
      if (c) return o.desc ? -c : c;
    }
    return 0;
  });

  const limitText = q.get('limit');
  let limit = 0;
  if (limitText !== null) {
    if (!/^\d+$/.test(limitText)) throw invalid(`Limit must be an integer 0 or greater and not '${limitText}'`);
    limit = Number(limitText);
  }
  const marker = q.get('marker');
  const reverse = /^(true|1)$/i.test(q.get('page_reverse') ?? '');
  if (reverse) list = list.reverse();
  if (marker) {
    const i = list.findIndex((v) => v.id === marker);
    if (i < 0) throw opts.markerNotFound(marker);
    list = list.slice(i + 1);
  }
  const full = limit > 0 && list.length > limit;
  if (limit > 0) list = list.slice(0, limit);
  if (reverse) list = list.reverse();

  const body: Record<string, unknown> = { [opts.collection]: list.map((v) => selectFields(req, v)) };
  if (limit > 0) {
    const links: { rel: string; href: string }[] = [];
    const href = (m: string, rev: boolean) => {
      const p = new URLSearchParams(q);
      p.delete('marker');
      p.delete('page_reverse');
      p.set('marker', m);
      if (rev) p.set('page_reverse', 'True');
      return `${req.baseUrl}/v2.0/${opts.collection}?${p}`;
    };
    // "next" continues in the direction of travel; "previous" goes back from where this page began.
    if (list.length) {
      const first = list[0].id;
      const last = list[list.length - 1].id;
      if (reverse) {
        if (full) links.push({ rel: 'previous', href: href(first, true) });
        if (marker) links.push({ rel: 'next', href: href(last, false) });
      } else {
        if (full) links.push({ rel: 'next', href: href(last, false) });
        if (marker) links.push({ rel: 'previous', href: href(first, true) });
      }
    }
    if (links.length) body[`${opts.collection}_links`] = links;
  }
  return { status: 200, body };
}
