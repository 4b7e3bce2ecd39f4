import { free } from '../host-state.js';
import type { HostWeigher } from './types.js';

export const NAME = 'CPUWeigher';

/** Prefers hosts with the most free vCPUs. */
export const cpuWeigher = (): HostWeigher => ({ name: NAME, weigh: (h) => free(h, 'vcpus') });
