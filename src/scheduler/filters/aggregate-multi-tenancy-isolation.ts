import type { HostAggregate, HostState } from '../host-state.js';
import { PASS, type FilterResult, type HostFilter } from './types.js';

export const NAME = 'AggregateMultiTenancyIsolation';
const KEY = 'filter_tenant_id';

/** The projects an aggregate admits (every `filter_tenant_id*` key, comma-separated), or null when it sets none. */
const tenantsCache = new WeakMap<Record<string, string>, ReadonlySet<string> | null>();
function tenantsOf(agg: HostAggregate): ReadonlySet<string> | null {
  const md = agg.metadata;
  let t = tenantsCache.get(md);
  if (t === undefined) {
    let set: Set<string> | null = null;
    for (const k of Object.keys(md)) {
      if (!k.startsWith(KEY)) continue;
      set ??= new Set();
      for (const v of String(md[k]).split(',')) if (v.trim()) set.add(v.trim());
    }
    t = set;
    tenantsCache.set(md, t);
  }
  return t;
}

/**
 * A host in an aggregate with `filter_tenant_id` (or `filter_tenant_id<suffix>`, values
 * comma-separated) takes only those projects; the lists of all its aggregates add up, as in
 * Nova. Hosts in no such aggregate take every project. Always relevant; per host it reads
 * host.aggregates and one cached set per aggregate.
 */
export const aggregateMultiTenancyIsolation = (): HostFilter => ({
  name: NAME,
  filter(h: HostState, spec): FilterResult {
    const aggs = h.aggregates;
    if (aggs.length === 0) return PASS;
    let restricted = false;
    for (let i = 0; i < aggs.length; i++) {
      const t = tenantsOf(aggs[i]);
      if (t === null) continue;
      if (t.has(spec.project_id)) return PASS;
      restricted = true;
    }
    if (!restricted) return PASS;
    const isolating = aggs.filter((a) => tenantsOf(a) !== null);
    const allowed = [...new Set(isolating.flatMap((a) => [...tenantsOf(a)!]))];
    return {
      pass: false,
      reason: `${h.host}: its aggregate(s) ${isolating.map((a) => `'${a.name}'`).join(', ')} take only project(s) ${allowed.join(', ')} (${KEY}), not project ${spec.project_id}`,
      summary: `are in aggregates reserved for other projects by ${KEY} (${NAME})`,
    };
  },
});
