import type { HostState } from '../host-state.js';
import type { RequestSpec } from '../rpcapi.js';

/**
 * A weigher gives each passing host a raw score (higher is better). The scheduler normalises
 * each weigher's scores to [0, 1] across the candidate hosts, multiplies by the configured
 * multiplier and sums, as Nova does; a negative multiplier turns spreading into stacking.
 */
export interface HostWeigher {
  readonly name: string;
  /** False when every host would weigh the same for this request (skipped). Omitted means always. */
  relevant?(spec: RequestSpec): boolean;
  weigh(host: HostState, spec: RequestSpec): number;
}
