import type { HostWeigher } from './types.js';

export const NAME = 'NumInstancesWeigher';

/**
 * Weight = the number of instances on the host (Nova's). Nova's default multiplier is 0 (off);
 * a positive multiplier packs (prefers busier hosts), a negative one spreads by count.
 */
export const numInstancesWeigher = (): HostWeigher => ({ name: NAME, weigh: (h) => h.instances });
