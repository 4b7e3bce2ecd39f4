import type { HostState } from '../host-state.js';
import type { RequestSpec } from '../rpcapi.js';
import { firstHeld, sameHostHint } from './hint-instances.js';
import { PASS, type FilterResult, type HostFilter } from './types.js';

export const NAME = 'SameHostFilter';

/**
 * Scheduler hint `same_host` (an instance uuid or a list): passes hosts holding at least one of
 * those instances, as in Nova. Relevant only when the hint is given.
 */
export const sameHostFilter = (): HostFilter => ({
  name: NAME,
  relevant: (spec) => sameHostHint(spec).list.length > 0,
  filter(h: HostState, spec: RequestSpec): FilterResult {
    const hint = sameHostHint(spec);
    if (hint.list.length === 0 || firstHeld(h, hint) !== null) return PASS;
    return {
      pass: false,
      reason: `${h.host}: holds none of the ${hint.list.length} instance(s) of the same_host hint (${hint.list.join(', ')})`,
      summary: `do not hold an instance named in the same_host hint (${NAME})`,
    };
  },
});
