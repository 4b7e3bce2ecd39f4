import { invalid } from '../../errors.js';
import type { HostFilter } from './types.js';
import { DEFAULT_FILTER_CONFIG, type FilterConfig } from './filter-config.js';
import * as compute from './compute-filter.js';
import * as az from './availability-zone-filter.js';
import * as resource from './resource-filter.js';
import * as capabilities from './compute-capabilities-filter.js';
import * as image from './image-properties-filter.js';
import * as affinity from './server-group-affinity-filter.js';
import * as antiAffinity from './server-group-anti-affinity-filter.js';
import * as aggregateSpecs from './aggregate-instance-extra-specs-filter.js';
import * as tenancy from './aggregate-multi-tenancy-isolation.js';
import * as sameHost from './same-host-filter.js';
import * as differentHost from './different-host-filter.js';
import * as numInstances from './num-instances-filter.js';
import * as ioOps from './io-ops-filter.js';

export type { HostFilter, FilterResult } from './types.js';
export type { FilterConfig } from './filter-config.js';

/** Every filter by name; config.scheduler.filters enables them, in that order. */
export const FILTERS: Record<string, (config: FilterConfig) => HostFilter> = {
  [compute.NAME]: compute.computeFilter,
  [az.NAME]: az.availabilityZoneFilter,
  [resource.NAME]: resource.resourceFilter,
  [capabilities.NAME]: capabilities.computeCapabilitiesFilter,
  [image.NAME]: image.imagePropertiesFilter,
  [affinity.NAME]: affinity.serverGroupAffinityFilter,
  [antiAffinity.NAME]: antiAffinity.serverGroupAntiAffinityFilter,
  [aggregateSpecs.NAME]: aggregateSpecs.aggregateInstanceExtraSpecsFilter,
  [tenancy.NAME]: tenancy.aggregateMultiTenancyIsolation,
  [sameHost.NAME]: sameHost.sameHostFilter,
  [differentHost.NAME]: differentHost.differentHostFilter,
  [numInstances.NAME]: numInstances.numInstancesFilter,
  [ioOps.NAME]: ioOps.ioOpsFilter,
};

export function makeFilters(names: readonly string[], config: FilterConfig = DEFAULT_FILTER_CONFIG): HostFilter[] {
  return names.map((n) => {
    const make = FILTERS[n];
    if (!make) throw invalid(`Unknown scheduler filter '${n}'. Known filters: ${Object.keys(FILTERS).join(', ')}.`);
    return make(config);
  });
}
