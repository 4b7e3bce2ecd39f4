import type { HostState } from '../host-state.js';
import type { RequestSpec } from '../rpcapi.js';
import { PASS, type FilterResult, type HostFilter } from './types.js';

export const NAME = 'AvailabilityZoneFilter';

/** Passes hosts in the requested availability zone (from aggregate metadata; default 'nova'). */
export const availabilityZoneFilter = (): HostFilter => ({
  name: NAME,
  filter(h: HostState, spec: RequestSpec): FilterResult {
    const want = spec.availability_zone;
    if (!want || h.availability_zone === want) return PASS;
    return {
      pass: false,
      reason: `${h.host}: is in availability zone '${h.availability_zone}', not the requested '${want}'`,
      summary: `are not in availability zone '${want}'`,
    };
  },
});
