import type { HostState } from '../host-state.js';
import type { RequestSpec } from '../rpcapi.js';
import { membersOnHost } from './group-members.js';
import { perRequest } from './per-request.js';
import { PASS, type FilterResult, type HostFilter } from './types.js';

export const NAME = 'ServerGroupAntiAffinityFilter';

const summaryOf = perRequest((spec: RequestSpec): string => {
  const g = spec.group!;
  const max = g.max_server_per_host ?? 1;
  return max === 1
    ? `already hold a member of anti-affinity server group ${g.uuid} (${NAME})`
    : `already hold ${max} members of anti-affinity server group ${g.uuid}, its max_server_per_host (${NAME})`;
});

/**
 * Hard anti-affinity: passes hosts holding fewer than max_server_per_host (default 1) of the
 * group's members. A host already holding the instance being moved passes (a resize may stay on
 * its source, as in Nova). Relevant only when the request's group has the anti-affinity policy;
 * the claim re-checks the rule in the DB, so concurrent boots cannot break it.
 */
export const serverGroupAntiAffinityFilter = (): HostFilter => ({
  name: NAME,
  relevant: (spec) => spec.group?.policy === 'anti-affinity',
  filter(h: HostState, spec: RequestSpec): FilterResult {
    const g = spec.group;
    if (!g || g.policy !== 'anti-affinity') return PASS;
    if (spec.instance_uuids.length === 1 && h.consumers.has(spec.instance_uuids[0])) return PASS;
    const max = g.max_server_per_host ?? 1;
    if (membersOnHost(h, g, max) < max) return PASS;
    return {
      pass: false,
      reason: `${h.host}: already holds ${membersOnHost(h, g)} member(s) of server group ${g.uuid}, max_server_per_host ${max}`,
      summary: summaryOf(spec),
    };
  },
});
