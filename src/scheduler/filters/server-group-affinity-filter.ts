import type { HostState } from '../host-state.js';
import type { RequestSpec } from '../rpcapi.js';
import { membersOnHost } from './group-members.js';
import { perRequest } from './per-request.js';
import { PASS, type FilterResult, type HostFilter } from './types.js';

export const NAME = 'ServerGroupAffinityFilter';

interface Placed {
  /** Members that are not instances of this request, i.e. already placed somewhere. */
  count: number;
  summary: string;
}

const placedOf = perRequest((spec: RequestSpec): Placed => {
  const g = spec.group!;
  const mine = new Set(spec.instance_uuids);
  let count = 0;
  for (const m of g.members) if (!mine.has(m)) count++;
  return { count, summary: `do not hold the members of affinity server group ${g.uuid} (${NAME})` };
});

/**
 * Hard affinity: once the group has members placed, only a host holding one of them passes;
 * the first placement of a group may go anywhere. Contract with the caller: `group.members`
 * lists the group's instances that hold (or are about to get) allocations, and members that
 * are not in `instance_uuids` count as placed. So a multi-create ranks each instance after the
 * first with `instance_uuids` narrowed to those not yet placed. Relevant only for the affinity
 * policy; the claim re-checks it in the DB.
 */
export const serverGroupAffinityFilter = (): HostFilter => ({
  name: NAME,
  relevant: (spec) => spec.group?.policy === 'affinity',
  filter(h: HostState, spec: RequestSpec): FilterResult {
    const g = spec.group;
    if (!g || g.policy !== 'affinity' || g.members.length === 0) return PASS;
    const placed = placedOf(spec);
    if (placed.count === 0 || membersOnHost(h, g, 1) > 0) return PASS;
    return {
      pass: false,
      reason: `${h.host}: holds none of the ${placed.count} placed member(s) of affinity server group ${g.uuid}`,
      summary: placed.summary,
    };
  },
});
