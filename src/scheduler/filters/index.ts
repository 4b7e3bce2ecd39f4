import { invalid } from '../../errors.js';
import type { HostFilter } from './types.js';
import type { SchedulerConfig } from '../../config.js';
import * as compute from './compute-filter.js';
import * as az from './availability-zone-filter.js';
import * as resource from './resource-filter.js';

export type { HostFilter, FilterResult } from './types.js';

/** Every filter by name; config.scheduler.filters enables them, in that order. */
export const FILTERS: Record<string, (config: FilterConfig) => HostFilter> = {
  [compute.NAME]: compute.computeFilter,
  [az.NAME]: az.availabilityZoneFilter,
  [resource.NAME]: resource.resourceFilter,
};

/** The scheduler settings filters may read (limits such as maxInstancesPerHost). */
export type FilterConfig = Pick<SchedulerConfig, 'maxInstancesPerHost' | 'maxIoOpsPerHost'>;
const DEFAULT_FILTER_CONFIG: FilterConfig = { maxInstancesPerHost: 50, maxIoOpsPerHost: 8 };

export function makeFilters(names: readonly string[], config: FilterConfig = DEFAULT_FILTER_CONFIG): HostFilter[] {
  return names.map((n) => {
    const make = FILTERS[n];
    if (!make) throw invalid(`Unknown scheduler filter '${n}'. Known filters: ${Object.keys(FILTERS).join(', ')}.`);
    return make(config);
  });
}
