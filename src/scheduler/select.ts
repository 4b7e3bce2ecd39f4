/**
 * The pure part of a scheduling decision: filter the candidate hosts, weigh those that pass,
 * rank them. No I/O, so it is table-testable. Cost per decision is one pass over the
 * candidates with only the filters and weighers relevant to the request (a plain boot skips
 * group, hint and extra-spec logic), plus a top-k selection instead of a full sort.
 */
import type { HostFilter, FilterResult } from './filters/index.js';
import { weighHosts, type WeightedWeigher } from './weighers/index.js';
import type { HostState } from './host-state.js';
import type { RequestSpec } from './rpcapi.js';

export type Rejection = Extract<FilterResult, { pass: false }> & { filter: string; host: string };

export interface Ranking {
  /** Hosts that passed every filter, best first; only the best `limit` when rankHosts got one. */
  ranked: HostState[];
  /** How many hosts passed every filter (ranked.length unless a limit cut the list). */
  passed: number;
  /** One entry per rejected host: the first filter that rejected it. */
  rejections: Rejection[];
  /** Hosts left out before filtering, with why (requested host, already tried). */
  excluded: { host: string; why: 'ignored' | 'not-requested' }[];
  considered: number;
}

/** The filters that have something to check for this request, in configured order. */
export function activeFilters(filters: readonly HostFilter[], spec: RequestSpec): HostFilter[] {
  return filters.filter((f) => f.relevant?.(spec) ?? true);
}

/**
 * Filters and weighs `hosts` for `spec`. With `limit`, answers only the best `limit` hosts
 * (the chosen host's subset plus alternates), in the same order a full sort would give.
 * Order: total weight descending, then host name, then node name (deterministic).
 */
export function rankHosts(
  hosts: Iterable<HostState>,
  spec: RequestSpec,
  filters: readonly HostFilter[],
  weighers: readonly WeightedWeigher[],
  limit = Infinity,
): Ranking {
  const ignore = spec.ignore_hosts?.length ? new Set(spec.ignore_hosts) : null;
  const active = activeFilters(filters, spec);
  const nf = active.length;
  const wantHost = spec.requested_host || null;
  const wantNode = spec.requested_node || null;
  const passed: HostState[] = [];
  const rejections: Rejection[] = [];
  const excluded: Ranking['excluded'] = [];
  let considered = 0;
  for (const h of hosts) {
    if (wantHost !== null && h.host !== wantHost) continue;
    if (wantNode !== null && h.node !== wantNode) continue;
    if (ignore !== null && ignore.has(h.host)) {
      excluded.push({ host: h.host, why: 'ignored' });
      continue;
    }
    considered++;
    let ok = true;
    for (let j = 0; j < nf; j++) {
      const f = active[j];
      const r = f.filter(h, spec);
      if (!r.pass) {
        rejections.push({ ...r, filter: f.name, host: h.host });
        ok = false;
        break;
      }
    }
    if (ok) passed.push(h);
  }
  const w = weighHosts(passed, spec, weighers);
  const order = topK(passed, w, Math.min(limit, passed.length));
  return { ranked: order.map((i) => passed[i]), passed: passed.length, rejections, excluded, considered };
}

/** True when host a (weight wa) ranks before host b (weight wb). */
function before(a: HostState, wa: number, b: HostState, wb: number): boolean {
  if (wa !== wb) return wa > wb;
  if (a.host !== b.host) return a.host < b.host;
  if (a.node !== b.node) return a.node < b.node;
  return a.node_uuid < b.node_uuid;
}

/**
 * Indices of the best k hosts, best first: one pass keeping a sorted window of k (insertion),
 * O(n) for the small k the scheduler asks (subset size + alternates), O(n log n) via sort when
 * k is large.
 */
export function topK(hosts: readonly HostState[], w: ArrayLike<number>, k: number): number[] {
  const n = hosts.length;
  if (k <= 0 || n === 0) return [];
  if (k > 32) {
    const all = Array.from({ length: n }, (_, i) => i).sort((a, b) => (before(hosts[a], w[a], hosts[b], w[b]) ? -1 : 1));
    return all.slice(0, k);
  }
  const best: number[] = [];
  for (let i = 0; i < n; i++) {
    const h = hosts[i];
    const wi = w[i];
    if (best.length === k) {
      const last = best[k - 1];
      if (!before(h, wi, hosts[last], w[last])) continue;
      best.pop();
    }
    let p = best.length;
    while (p > 0 && before(h, wi, hosts[best[p - 1]], w[best[p - 1]])) p--;
    best.splice(p, 0, i);
  }
  return best;
}

/** Picks the index of the host to claim first: uniformly among the best `subsetSize`. */
export function pickIndex(rankedLength: number, subsetSize: number, random: () => number = Math.random): number {
  const n = Math.max(1, Math.min(subsetSize, rankedLength));
  return Math.floor(random() * n);
}
