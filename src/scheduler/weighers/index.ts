import { invalid } from '../../errors.js';
import type { HostState } from '../host-state.js';
import type { RequestSpec } from '../rpcapi.js';
import type { HostWeigher } from './types.js';
import * as ram from './ram-weigher.js';
import * as cpu from './cpu-weigher.js';
import * as disk from './disk-weigher.js';

export type { HostWeigher } from './types.js';

/** Every weigher by name; config.scheduler.weighers maps enabled names to multipliers. */
export const WEIGHERS: Record<string, () => HostWeigher> = {
  [ram.NAME]: ram.ramWeigher,
  [cpu.NAME]: cpu.cpuWeigher,
  [disk.NAME]: disk.diskWeigher,
};

export interface WeightedWeigher {
  weigher: HostWeigher;
  multiplier: number;
}

export function makeWeighers(config: Record<string, number>): WeightedWeigher[] {
  return Object.entries(config).map(([n, multiplier]) => {
    const make = WEIGHERS[n];
    if (!make) throw invalid(`Unknown scheduler weigher '${n}'. Known weighers: ${Object.keys(WEIGHERS).join(', ')}.`);
    return { weigher: make(), multiplier };
  });
}

/** Total weight per host (same order as hosts): per-weigher min-max normalised, times multiplier. */
export function weighHosts(hosts: readonly HostState[], spec: RequestSpec, weighers: readonly WeightedWeigher[]): number[] {
  const total = new Array<number>(hosts.length).fill(0);
  for (const { weigher, multiplier } of weighers) {
    if (multiplier === 0) continue;
    const raw = hosts.map((h) => weigher.weigh(h, spec));
    let min = Infinity;
    let max = -Infinity;
    for (const v of raw) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const span = max - min;
    for (let i = 0; i < raw.length; i++) total[i] += multiplier * (span === 0 ? 0 : (raw[i] - min) / span);
  }
  return total;
}
