import type { HostState } from '../host-state.js';
import type { ServerGroupSpec } from '../rpcapi.js';

/**
 * How many of the group's members hold an allocation on this host (Nova counts the group's
 * instances on the host). Walks the smaller of the two sets, so a large group or a busy host
 * costs no more than the other side.
 */
export function membersOnHost(h: HostState, group: ServerGroupSpec): number {
  const members = group.members;
  const consumers = h.consumers;
  if (consumers.size === 0 || members.length === 0) return 0;
  let n = 0;
  if (members.length <= consumers.size) {
    for (const m of members) if (consumers.has(m)) n++;
  } else {
    const set = new Set(members);
    for (const c of consumers) if (set.has(c)) n++;
  }
  return n;
}
