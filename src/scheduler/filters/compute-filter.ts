import { serviceUp, SERVICE_DOWN_TIME_SEC, type HostState } from '../host-state.js';
import { PASS, type FilterResult, type HostFilter } from './types.js';

export const NAME = 'ComputeFilter';

/** Passes hosts whose nova-compute service is enabled, not forced down, and heartbeating. */
export const computeFilter = (): HostFilter => ({
  name: NAME,
  filter(h: HostState): FilterResult {
    const s = h.service;
    const fail = (why: string): FilterResult => ({ pass: false, reason: `${h.host}: ${why}`, summary: 'have their compute service disabled or down' });
    if (!s.exists) return fail('no nova-compute service is registered for this host');
    if (s.disabled) return fail(`compute service is disabled${s.disabled_reason ? ` (${s.disabled_reason})` : ''}`);
    if (s.forced_down) return fail('compute service is forced down');
    if (!serviceUp(h)) {
      const ago = s.last_seen_up ? `${Math.round((Date.now() - s.last_seen_up) / 1000)} s ago` : 'never';
      return fail(`compute service is down: last heartbeat ${ago} (down after ${SERVICE_DOWN_TIME_SEC} s)`);
    }
    return PASS;
  },
});
