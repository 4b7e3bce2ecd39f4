import { free } from '../host-state.js';
import type { HostWeigher } from './types.js';

export const NAME = 'RAMWeigher';

/** Prefers hosts with the most free memory (spreads instances). */
export const ramWeigher = (): HostWeigher => ({ name: NAME, weigh: (h) => free(h, 'memory_mb') });
