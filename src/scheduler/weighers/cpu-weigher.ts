import type { HostWeigher } from './types.js';

export const NAME = 'CPUWeigher';

/** Prefers hosts with the most free vCPUs: free(h, 'vcpus'), spelled out (see ram-weigher.ts). */
export const cpuWeigher = (): HostWeigher => ({
  name: NAME,
  weigh: (h) => Math.floor((h.total.vcpus - h.reserved.vcpus) * h.ratio.vcpus) - h.used.vcpus,
});
