import { invalid } from '../../errors.js';
import type { HostFilter } from './types.js';
import * as compute from './compute-filter.js';
import * as az from './availability-zone-filter.js';
import * as resource from './resource-filter.js';

export type { HostFilter, FilterResult } from './types.js';

/** Every filter by name; config.scheduler.filters enables them, in that order. */
export const FILTERS: Record<string, () => HostFilter> = {
  [compute.NAME]: compute.computeFilter,
  [az.NAME]: az.availabilityZoneFilter,
  [resource.NAME]: resource.resourceFilter,
};

export function makeFilters(names: readonly string[]): HostFilter[] {
  return names.map((n) => {
    const make = FILTERS[n];
    if (!make) throw invalid(`Unknown scheduler filter '${n}'. Known filters: ${Object.keys(FILTERS).join(', ')}.`);
    return make();
  });
}
