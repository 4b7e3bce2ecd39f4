import type { HostWeigher } from './types.js';

export const NAME = 'DiskWeigher';

/** Prefers hosts with the most free disk: free(h, 'disk_gb'), spelled out (see ram-weigher.ts). */
export const diskWeigher = (): HostWeigher => ({
  name: NAME,
  weigh: (h) => Math.floor((h.total.disk_gb - h.reserved.disk_gb) * h.ratio.disk_gb) - h.used.disk_gb,
});
