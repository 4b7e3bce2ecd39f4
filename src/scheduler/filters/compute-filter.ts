import { DEFAULT_SERVICE_DOWN_TIME_SEC, serviceUp, type HostState } from '../host-state.js';
import type { FilterConfig } from './filter-config.js';
import { PASS, type FilterResult, type HostFilter } from './types.js';

export const NAME = 'ComputeFilter';
const SUMMARY = 'have their compute service disabled or down';

const fail = (h: HostState, why: string): FilterResult => ({ pass: false, reason: `${h.host}: ${why}`, summary: SUMMARY });

/** Passes hosts whose nova-compute service is enabled, not forced down, and heartbeating within the service down time. */
export const computeFilter = (config?: Partial<FilterConfig>): HostFilter => {
  const downTimeSec = config?.serviceDownTimeSec ?? DEFAULT_SERVICE_DOWN_TIME_SEC;
  return {
    name: NAME,
    filter(h: HostState): FilterResult {
      const s = h.service;
      if (s.exists && !s.disabled && !s.forced_down && serviceUp(h, downTimeSec)) return PASS;
      if (!s.exists) return fail(h, 'no nova-compute service is registered for this host');
      if (s.disabled) return fail(h, `compute service is disabled${s.disabled_reason ? ` (${s.disabled_reason})` : ''}`);
      if (s.forced_down) return fail(h, 'compute service is forced down');
      const ago = s.last_seen_up ? `${Math.round((Date.now() - s.last_seen_up) / 1000)} s ago` : 'never';
      return fail(h, `compute service is down: last heartbeat ${ago} (down after ${downTimeSec} s)`);
    },
  };
};
