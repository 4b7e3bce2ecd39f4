import type { HostState } from '../host-state.js';
import type { RequestSpec } from '../rpcapi.js';
import { metadataValues } from './aggregate-metadata.js';
import { matches, parseRequirement, type Requirement } from './extra-spec-match.js';
import { perRequest } from './per-request.js';
import { PASS, type FilterResult, type HostFilter } from './types.js';

export const NAME = 'AggregateInstanceExtraSpecsFilter';
const SCOPE = 'aggregate_instance_extra_specs:';

interface Wanted {
  /** The metadata key, without the scope. */
  key: string;
  req: Requirement;
  summary: string;
}

const wantedOf = perRequest((spec: RequestSpec): Wanted[] => {
  const out: Wanted[] = [];
  for (const [k, value] of Object.entries(spec.flavor.extra_specs ?? {})) {
    if (!k.startsWith(SCOPE) || k.length === SCOPE.length) continue;
    const key = k.slice(SCOPE.length);
    out.push({ key, req: parseRequirement(String(value)), summary: `are in no aggregate whose metadata ${key} matches the flavor's '${value}' (${NAME})` });
  }
  return out;
});

/**
 * Passes hosts where, for every flavor extra spec `aggregate_instance_extra_specs:<key>`, some
 * aggregate of the host has metadata <key> with a value (comma-separated alternatives) that
 * satisfies it, with Nova's extra-spec operators. Unscoped keys are not read. Relevant only
 * when the flavor has that scope.
 */
export const aggregateInstanceExtraSpecsFilter = (): HostFilter => ({
  name: NAME,
  relevant: (spec) => wantedOf(spec).length > 0,
  filter(h: HostState, spec: RequestSpec): FilterResult {
    const wanted = wantedOf(spec);
    const aggs = h.aggregates;
    next: for (let i = 0; i < wanted.length; i++) {
      const w = wanted[i];
      let seen = false;
      for (let a = 0; a < aggs.length; a++) {
        const values = metadataValues(aggs[a], w.key);
        for (let v = 0; v < values.length; v++) {
          seen = true;
          if (matches(values[v], w.req)) continue next;
        }
      }
      const why = seen
        ? `its aggregates' ${w.key} (${aggs.flatMap((a) => metadataValues(a, w.key)).join(', ')}) do not satisfy '${w.req.text}'`
        : aggs.length
          ? `none of its aggregates (${aggs.map((a) => a.name).join(', ')}) sets ${w.key}`
          : `is in no aggregate, so nothing sets ${w.key}`;
      return { pass: false, reason: `${h.host}: ${why} (flavor extra spec ${SCOPE}${w.key})`, summary: w.summary };
    }
    return PASS;
  },
});
