import type { HostState } from '../host-state.js';
import type { RequestSpec } from '../rpcapi.js';
import { differentHostHint, firstHeld } from './hint-instances.js';
import { PASS, type FilterResult, type HostFilter } from './types.js';

export const NAME = 'DifferentHostFilter';

/**
 * Scheduler hint `different_host` (an instance uuid or a list): passes hosts holding none of
 * those instances, as in Nova. Relevant only when the hint is given.
 */
export const differentHostFilter = (): HostFilter => ({
  name: NAME,
  relevant: (spec) => differentHostHint(spec).list.length > 0,
  filter(h: HostState, spec: RequestSpec): FilterResult {
    const hint = differentHostHint(spec);
    if (hint.list.length === 0) return PASS;
    const held = firstHeld(h, hint);
    if (held === null) return PASS;
    return {
      pass: false,
      reason: `${h.host}: holds instance ${held} named in the different_host hint (${hint.list.length} instance(s))`,
      summary: `hold an instance named in the different_host hint (${NAME})`,
    };
  },
});
