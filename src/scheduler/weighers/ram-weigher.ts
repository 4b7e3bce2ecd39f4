import type { HostWeigher } from './types.js';

export const NAME = 'RAMWeigher';

/**
 * Prefers hosts with the most free memory (spreads instances): free(h, 'memory_mb') of
 * host-state.ts, spelled out with fixed property names because it runs once per host per
 * decision (a keyed lookup by resource name is several times slower there).
 */
export const ramWeigher = (): HostWeigher => ({
  name: NAME,
  weigh: (h) => Math.floor((h.total.memory_mb - h.reserved.memory_mb) * h.ratio.memory_mb) - h.used.memory_mb,
});
