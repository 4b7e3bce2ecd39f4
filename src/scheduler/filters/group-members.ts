/**
 * How many members of a server group a host holds: the group's members that are allocation
 * consumers on the host. Walks the smaller side (a big group on a near-empty host, or a busy
 * host with a small group) and allocates nothing.
 */
import type { HostState } from '../host-state.js';
import type { ServerGroupSpec } from '../rpcapi.js';
import { perRequest } from './per-request.js';

const memberSet = perRequest((g: ServerGroupSpec): ReadonlySet<string> => new Set(g.members));

export function membersOnHost(h: HostState, g: ServerGroupSpec, stopAt = Infinity): number {
  const consumers = h.consumers;
  const members = g.members;
  let n = 0;
  if (members.length <= consumers.size) {
    for (let i = 0; i < members.length && n < stopAt; i++) if (consumers.has(members[i])) n++;
  } else {
    const set = memberSet(g);
    for (const c of consumers) {
      if (set.has(c) && ++n >= stopAt) break;
    }
  }
  return n;
}
