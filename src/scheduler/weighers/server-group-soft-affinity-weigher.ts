import type { HostWeigher } from './types.js';
import { membersOnHost } from '../filters/group-members.js';

export const NAME = 'ServerGroupSoftAffinityWeigher';

/**
 * For a `soft-affinity` group: weight = members of the group already on the host, so the
 * instances gather where the group is without ever failing a request. Other requests: skipped.
 */
export const serverGroupSoftAffinityWeigher = (): HostWeigher => ({
  name: NAME,
  relevant: (spec) => spec.group?.policy === 'soft-affinity',
  weigh: (h, spec) => (spec.group ? membersOnHost(h, spec.group) : 0),
});
