/**
 * Command-line options for scheduling: which filters and weighers run (Nova's
 * enabled_filters and *_weight_multiplier), host_subset_size, the per-host limits, and the
 * inventory each compute host reports (allocation ratios, reserved amounts). Names are checked
 * against the registries at parse time, so a typo stops the start with the list of known names.
 */
import type { Config } from './config.js';
import { FILTERS } from './scheduler/filters/index.js';
import { WEIGHERS } from './scheduler/weighers/index.js';

export const SCHEDULER_USAGE = `  --scheduler-filters A,B,...   enabled scheduler filters, in order (default: all but NumInstances and IoOps)
  --scheduler-weighers W=M,...  enabled weighers with their multipliers (replaces the default set)
  --host-subset-size N          claim one of the best N hosts at random (default 1)
  --max-instances-per-host N    NumInstancesFilter limit (default 50)
  --max-io-ops-per-host N       IoOpsFilter limit (default 8)
  --cpu-allocation-ratio X      VCPU overcommit each compute host reports (default 4.0)
  --ram-allocation-ratio X      MEMORY_MB overcommit (default 1.0)
  --disk-allocation-ratio X     DISK_GB overcommit (default 1.0)
  --reserved-host-memory-mb N   memory kept back for the host (default 512)
  --reserved-host-cpus N        vCPUs kept back for the host (default 0)
  --reserved-host-disk-mb N     disk kept back for the host (default 0)
`;

export const SCHEDULER_OPTIONS = {
  'scheduler-filters': { type: 'string' },
  'scheduler-weighers': { type: 'string' },
  'host-subset-size': { type: 'string' },
  'max-instances-per-host': { type: 'string' },
  'max-io-ops-per-host': { type: 'string' },
  'cpu-allocation-ratio': { type: 'string' },
  'ram-allocation-ratio': { type: 'string' },
  'disk-allocation-ratio': { type: 'string' },
  'reserved-host-memory-mb': { type: 'string' },
  'reserved-host-cpus': { type: 'string' },
  'reserved-host-disk-mb': { type: 'string' },
} as const;

type Values = Partial<Record<keyof typeof SCHEDULER_OPTIONS, string>>;

function number(flag: string, raw: string, o: { integer?: boolean; min: number; max: number }): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || (o.integer && !Number.isInteger(n)) || n < o.min || n > o.max)
    throw new Error(`--${flag} wants ${o.integer ? 'a whole number' : 'a number'} from ${o.min} to ${o.max}, got ${raw}`);
  return n;
}

function names(flag: string, raw: string, known: Record<string, unknown>): string[] {
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of list) if (!(n in known)) throw new Error(`--${flag}: unknown name '${n}'. Known: ${Object.keys(known).join(', ')}`);
  return list;
}

/** Applies the scheduling options present in `values` to config (in place). */
export function applySchedulerOptions(config: Config, values: Values): void {
  const s = config.scheduler;
  const c = config.compute;
  if (values['scheduler-filters'] !== undefined) s.filters = names('scheduler-filters', values['scheduler-filters'], FILTERS);
  if (values['scheduler-weighers'] !== undefined) {
    const out: Record<string, number> = {};
    for (const kv of values['scheduler-weighers'].split(',').filter(Boolean)) {
      const [k, v] = kv.split('=');
      names('scheduler-weighers', k ?? '', WEIGHERS);
      if (v === undefined) throw new Error(`--scheduler-weighers wants NAME=MULTIPLIER, got ${kv}`);
      out[k] = number('scheduler-weighers', v, { min: -1e9, max: 1e9 });
    }
    s.weighers = out;
  }
  const int = (flag: keyof Values, min: number, max: number, set: (n: number) => void) => {
    const raw = values[flag];
    if (raw !== undefined) set(number(flag, raw, { integer: true, min, max }));
  };
  const ratio = (flag: keyof Values, set: (n: number) => void) => {
    const raw = values[flag];
    if (raw !== undefined) set(number(flag, raw, { min: 0.0001, max: 1000 }));
  };
  int('host-subset-size', 1, 1000, (n) => (s.hostSubsetSize = n));
  int('max-instances-per-host', 1, 1_000_000, (n) => (s.maxInstancesPerHost = n));
  int('max-io-ops-per-host', 1, 1_000_000, (n) => (s.maxIoOpsPerHost = n));
  ratio('cpu-allocation-ratio', (n) => (c.cpuAllocationRatio = n));
  ratio('ram-allocation-ratio', (n) => (c.ramAllocationRatio = n));
  ratio('disk-allocation-ratio', (n) => (c.diskAllocationRatio = n));
  int('reserved-host-memory-mb', 0, 1 << 30, (n) => (c.reservedHostMemoryMb = n));
  int('reserved-host-cpus', 0, 1 << 20, (n) => (c.reservedHostCpus = n));
  int('reserved-host-disk-mb', 0, 1 << 30, (n) => (c.reservedHostDiskMb = n));
}
