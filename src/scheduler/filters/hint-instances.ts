/**
 * The instance uuids of a scheduler hint (`same_host`, `different_host`): one uuid or a list,
 * parsed once per request, and how many of them a host holds among its allocation consumers.
 */
import type { HostState } from '../host-state.js';
import type { RequestSpec } from '../rpcapi.js';
import { perRequest } from './per-request.js';

export interface HintInstances {
  list: readonly string[];
  set: ReadonlySet<string>;
}

const EMPTY: HintInstances = { list: [], set: new Set() };

function parse(v: unknown): HintInstances {
  const raw = typeof v === 'string' ? [v] : Array.isArray(v) ? v : [];
  const list = [...new Set(raw.filter((x): x is string => typeof x === 'string' && x !== ''))];
  return list.length ? { list, set: new Set(list) } : EMPTY;
}

export const sameHostHint = perRequest((spec: RequestSpec) => parse(spec.scheduler_hints?.same_host));
export const differentHostHint = perRequest((spec: RequestSpec) => parse(spec.scheduler_hints?.different_host));

/** The first hinted instance the host holds, or null; walks the smaller side. */
export function firstHeld(h: HostState, hint: HintInstances): string | null {
  const consumers = h.consumers;
  if (hint.list.length <= consumers.size) {
    for (let i = 0; i < hint.list.length; i++) if (consumers.has(hint.list[i])) return hint.list[i];
  } else {
    for (const c of consumers) if (hint.set.has(c)) return c;
  }
  return null;
}
