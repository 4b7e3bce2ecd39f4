import { capacity, flavorResources, free, RESOURCE_KINDS, type HostState, type ResourceKind } from '../host-state.js';
import type { RequestSpec } from '../rpcapi.js';
import { PASS, type FilterResult, type HostFilter } from './types.js';

export const NAME = 'ResourceFilter';

export const RESOURCE_WORDS: Record<ResourceKind, { noun: string; unit: string }> = {
  vcpus: { noun: 'vCPUs', unit: 'vCPU' },
  memory_mb: { noun: 'memory', unit: 'MB' },
  disk_gb: { noun: 'disk', unit: 'GB' },
};

/**
 * Passes hosts with room for the flavor's VCPU, MEMORY_MB and DISK_GB, counting allocation
 * ratios and reserved amounts exactly as the claim does (so a pass here is a likely claim).
 */
export const resourceFilter = (): HostFilter => ({
  name: NAME,
  filter(h: HostState, spec: RequestSpec): FilterResult {
    const need = flavorResources(spec.flavor);
    for (const kind of RESOURCE_KINDS) {
      const f = free(h, kind);
      if (need[kind] <= f) continue;
      const w = RESOURCE_WORDS[kind];
      return {
        pass: false,
        reason:
          `${h.host}: not enough ${w.noun}: needs ${need[kind]} ${w.unit}, free ${Math.max(0, f)} ${w.unit} ` +
          `(capacity ${capacity(h, kind)} ${w.unit} = (${h.total[kind]} total - ${h.reserved[kind]} reserved) x ratio ${h.ratio[kind]}, ${h.used[kind]} used)`,
        summary: `lack ${w.noun}`,
        shortfall: { kind, need: need[kind], free: Math.max(0, f) },
      };
    }
    return PASS;
  },
});
