import type { HostWeigher } from './types.js';
import { membersOnHost } from '../filters/group-members.js';

export const NAME = 'ServerGroupSoftAntiAffinityWeigher';

/**
 * For a `soft-anti-affinity` group: weight = minus the members of the group already on the
 * host, so the instances spread as evenly as the hosts allow and never fail for lack of
 * distinct hosts. Other requests: skipped.
 */
export const serverGroupSoftAntiAffinityWeigher = (): HostWeigher => ({
  name: NAME,
  relevant: (spec) => spec.group?.policy === 'soft-anti-affinity',
  weigh: (h, spec) => (spec.group ? -membersOnHost(h, spec.group) : 0),
});
