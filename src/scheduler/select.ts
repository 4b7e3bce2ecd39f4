/**
 * The pure part of a scheduling decision: filter the candidate hosts, weigh those that pass,
 * rank them. No I/O, so it is table-testable and cheap (O(hosts x filters) per decision).
 */
import type { HostFilter, FilterResult } from './filters/index.js';
import { weighHosts, type WeightedWeigher } from './weighers/index.js';
import type { HostState } from './host-state.js';
import type { RequestSpec } from './rpcapi.js';

export type Rejection = Extract<FilterResult, { pass: false }> & { filter: string; host: string };

export interface Ranking {
  /** Hosts that passed every filter, best first. */
  ranked: HostState[];
  /** One entry per rejected host: the first filter that rejected it. */
  rejections: Rejection[];
  /** Hosts left out before filtering, with why (requested host, already tried). */
  excluded: { host: string; why: 'ignored' | 'not-requested' }[];
  considered: number;
}

export function rankHosts(
  hosts: Iterable<HostState>,
  spec: RequestSpec,
  filters: readonly HostFilter[],
  weighers: readonly WeightedWeigher[],
): Ranking {
  const ignore = new Set(spec.ignore_hosts ?? []);
  const passed: HostState[] = [];
  const rejections: Rejection[] = [];
  const excluded: Ranking['excluded'] = [];
  let considered = 0;
  for (const h of hosts) {
    if (spec.requested_host && h.host !== spec.requested_host) continue;
    if (spec.requested_node && h.node !== spec.requested_node) continue;
    if (ignore.has(h.host)) {
      excluded.push({ host: h.host, why: 'ignored' });
      continue;
    }
    considered++;
    let ok = true;
    for (const f of filters) {
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
  const order = passed.map((_, i) => i).sort((a, b) => w[b] - w[a] || (passed[a].host < passed[b].host ? -1 : 1));
  return { ranked: order.map((i) => passed[i]), rejections, excluded, considered };
}

/** Picks the index of the host to claim first: uniformly among the best `subsetSize`. */
export function pickIndex(rankedLength: number, subsetSize: number, random: () => number = Math.random): number {
  const n = Math.max(1, Math.min(subsetSize, rankedLength));
  return Math.floor(random() * n);
}
