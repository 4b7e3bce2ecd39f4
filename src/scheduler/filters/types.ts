import type { RequestSpec } from '../rpcapi.js';
import type { HostState, ResourceKind } from '../host-state.js';

/**
 * A host filter: a pure function of one host and the request. A rejection is a value with a
 * reason naming the host and the numbers involved; `summary` groups rejections in the
 * NoValidHost message ("3 of 3 hosts <summary>"), and for resource shortfalls `shortfall`
 * lets the message quote the need and the most free.
 */
export type FilterResult =
  | { pass: true }
  | {
      pass: false;
      reason: string;
      summary: string;
      shortfall?: { kind: ResourceKind; need: number; free: number };
    };

export interface HostFilter {
  readonly name: string;
  /**
   * False when the filter has nothing to check for this request (no group, no hint, no
   * extra spec it reads): the scheduler then skips it for every host. Omitted means always.
   */
  relevant?(spec: RequestSpec): boolean;
  filter(host: HostState, spec: RequestSpec): FilterResult;
}

export const PASS: FilterResult = { pass: true };
