/**
 * Incremental ranking: for requests that are alike (same flavor, image, zone, project, hints:
 * everything but the instance uuids), the filter verdict and the raw weights of every candidate
 * host are kept between decisions, and only the hosts the cache reports as changed in place
 * (HostStateCache.changed: our own claims, refreshed nodes) are filtered and weighed again.
 * A decision then costs a pass over flat arrays (normalise, sum, top-k) instead of calling
 * every filter and weigher on every host object.
 *
 * Same answer as rankHosts over the same candidates: same weigher order and arithmetic, ties by
 * host name, then node, then node uuid. Two conditions keep it exact:
 * - filters and weighers are pure functions of (host, request), as their interfaces require;
 *   requests with a server group are never memoised (affinity reads every host's consumers);
 * - a verdict that depends on the clock (a heartbeat turning stale) is as old as the cache
 *   generation, which the scheduler renews at least every second while deciding - the same
 *   staleness as the cache's own view of the heartbeats.
 * Everything is dropped when the cache generation changes (a reload).
 */
import type { HostFilter } from './filters/index.js';
import { activeWeighers, type WeightedWeigher } from './weighers/index.js';
import type { HostState } from './host-state.js';
import type { HostStateCache } from './host-state-cache.js';
import type { RequestSpec } from './rpcapi.js';
import { activeFilters } from './select.js';

/** The part of a request that filters and weighers may read: all but the instance uuids. */
export function requestSignature(spec: RequestSpec): string {
  return JSON.stringify({ ...spec, instance_uuids: null });
}

class Entry {
  private readonly filters: HostFilter[];
  private readonly weighers: WeightedWeigher[];
  private readonly index = new Map<string, number>();
  private readonly pass: Uint8Array;
  /** Raw weights per active weigher, per candidate (valid where pass). */
  private readonly raw: Float64Array[];
  private readonly total: Float64Array;
  private readonly ignore: Set<string> | null;
  /** How far into cache.changed this entry has caught up. */
  pos = 0;

  constructor(
    private readonly spec: RequestSpec,
    /** Candidates in rank tie order (host, node, node uuid). */
    private readonly hosts: readonly HostState[],
    filters: readonly HostFilter[],
    weighers: readonly WeightedWeigher[],
  ) {
    this.filters = activeFilters(filters, spec);
    this.weighers = activeWeighers(weighers, spec);
    this.ignore = spec.ignore_hosts?.length ? new Set(spec.ignore_hosts) : null;
    const n = hosts.length;
    this.pass = new Uint8Array(n);
    this.raw = this.weighers.map(() => new Float64Array(n));
    this.total = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.index.set(hosts[i].node_uuid, i);
      this.evaluate(i);
    }
  }

  /** Filters and weighs candidate i again (after it changed). */
  evaluate(i: number): void {
    const h = this.hosts[i];
    const s = this.spec;
    let ok = !(s.requested_host && h.host !== s.requested_host) && !(s.requested_node && h.node !== s.requested_node) && !this.ignore?.has(h.host);
    for (let j = 0; ok && j < this.filters.length; j++) ok = this.filters[j].filter(h, s).pass;
    this.pass[i] = ok ? 1 : 0;
    if (ok) for (let w = 0; w < this.weighers.length; w++) this.raw[w][i] = this.weighers[w].weigher.weigh(h, s);
  }

  catchUp(changed: readonly string[]): void {
    for (let p = this.pos; p < changed.length; p++) {
      const i = this.index.get(changed[p]);
      if (i !== undefined) this.evaluate(i);
    }
    this.pos = changed.length;
  }

  /**
   * The best `limit` passing hosts, best first: what rankHosts(...).ranked would answer (the
   * same normalisation and the same sums in the same order as weighHosts), in a few tight
   * passes over flat arrays.
   */
  best(limit: number): HostState[] {
    if (limit <= 0) return [];
    const n = this.hosts.length;
    const { pass, total } = this;
    total.fill(0);
    for (let w = 0; w < this.weighers.length; w++) {
      const raw = this.raw[w];
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < n; i++) {
        if (pass[i] === 0) continue;
        const v = raw[i];
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const span = max - min;
      if (span === 0 || !Number.isFinite(span)) continue; // all tie: adds nothing (as in weighHosts)
      const k = this.weighers[w].multiplier / span;
      for (let i = 0; i < n; i++) if (pass[i] !== 0) total[i] += k * (raw[i] - min);
    }
    // Top-k in one pass; candidates are in tie order, so on equal weight the earlier one wins.
    const top: number[] = [];
    const topW: number[] = [];
    for (let i = 0; i < n; i++) {
      if (pass[i] === 0) continue;
      const t = total[i];
      if (top.length >= limit) {
        if (!(t > topW[topW.length - 1])) continue;
        top.pop();
        topW.pop();
      }
      let p = top.length;
      while (p > 0 && t > topW[p - 1]) p--;
      top.splice(p, 0, i);
      topW.splice(p, 0, t);
    }
    return top.map((i) => this.hosts[i]);
  }
}

export class RankMemo {
  private readonly entries = new Map<string, Entry>();
  private generation = -1;

  constructor(
    private readonly cache: HostStateCache,
    private readonly maxEntries = 16,
  ) {}

  /**
   * The best `limit` of `candidates` (in tie order, see CandidateIndex.candidates) for spec, or
   * null when this request cannot be memoised (it has a server group).
   */
  best(spec: RequestSpec, candidates: readonly HostState[], filters: readonly HostFilter[], weighers: readonly WeightedWeigher[], limit: number): HostState[] | null {
    if (spec.group) return null;
    const key = requestSignature(spec);
    const gen = this.cache.generation;
    if (gen !== this.generation) {
      this.entries.clear(); // they hold the previous generation's hosts
      this.generation = gen;
    }
    let e = this.entries.get(key);
    if (e) this.entries.delete(key);
    if (e && this.cache.changed.length - e.pos <= candidates.length) e.catchUp(this.cache.changed);
    else {
      e = new Entry(spec, candidates, filters, weighers);
      e.pos = this.cache.changed.length;
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(key, e); // most recently used last
    return e.best(limit);
  }
}
