import { free } from '../host-state.js';
import type { HostWeigher } from './types.js';

export const NAME = 'DiskWeigher';

/** Prefers hosts with the most free disk. */
export const diskWeigher = (): HostWeigher => ({ name: NAME, weigh: (h) => free(h, 'disk_gb') });
