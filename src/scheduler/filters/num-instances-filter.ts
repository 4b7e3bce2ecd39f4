import type { HostState } from '../host-state.js';
import { PASS, type FilterResult, type HostFilter } from './types.js';
import type { FilterConfig } from './filter-config.js';

export const NAME = 'NumInstancesFilter';

/** Passes hosts with fewer instances than config.scheduler.maxInstancesPerHost (Nova's max_instances_per_host). */
export const numInstancesFilter = (config: FilterConfig): HostFilter => {
  const max = config.maxInstancesPerHost;
  const summary = `already have the most instances allowed per host, ${max} (${NAME})`;
  return {
    name: NAME,
    filter(h: HostState): FilterResult {
      if (h.instances < max) return PASS;
      return { pass: false, reason: `${h.host}: has ${h.instances} instances, max_instances_per_host ${max}`, summary };
    },
  };
};
