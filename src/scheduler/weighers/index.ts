import { invalid } from '../../errors.js';
import type { HostState } from '../host-state.js';
import type { RequestSpec } from '../rpcapi.js';
import type { HostWeigher } from './types.js';
import * as ram from './ram-weigher.js';
import * as cpu from './cpu-weigher.js';
import * as disk from './disk-weigher.js';
import * as numInstances from './num-instances-weigher.js';
import * as softAffinity from './server-group-soft-affinity-weigher.js';
import * as softAntiAffinity from './server-group-soft-anti-affinity-weigher.js';
import * as buildFailure from './build-failure-weigher.js';

export type { HostWeigher } from './types.js';

/** Every weigher by name; config.scheduler.weighers maps enabled names to multipliers. */
export const WEIGHERS: Record<string, () => HostWeigher> = {
  [ram.NAME]: ram.ramWeigher,
  [cpu.NAME]: cpu.cpuWeigher,
  [disk.NAME]: disk.diskWeigher,
  [numInstances.NAME]: numInstances.numInstancesWeigher,
  [softAffinity.NAME]: softAffinity.serverGroupSoftAffinityWeigher,
  [softAntiAffinity.NAME]: softAntiAffinity.serverGroupSoftAntiAffinityWeigher,
  [buildFailure.NAME]: buildFailure.buildFailureWeigher,
};

export interface WeightedWeigher {
  weigher: HostWeigher;
  multiplier: number;
}

export function makeWeighers(config: Record<string, number>): WeightedWeigher[] {
  return Object.entries(config).map(([n, multiplier]) => {
    const make = WEIGHERS[n];
    if (!make) throw invalid(`Unknown scheduler weigher '${n}'. Known weighers: ${Object.keys(WEIGHERS).join(', ')}.`);
    if (typeof multiplier !== 'number' || !Number.isFinite(multiplier))
      throw invalid(`Scheduler weigher '${n}' wants a finite number as its multiplier, got ${JSON.stringify(multiplier)}.`);
    return { weigher: make(), multiplier };
  });
}

/** The weighers that can change the order for this request: a non-zero multiplier and relevant. */
export function activeWeighers(weighers: readonly WeightedWeigher[], spec: RequestSpec): WeightedWeigher[] {
  return weighers.filter((w) => w.multiplier !== 0 && (w.weigher.relevant?.(spec) ?? true));
}

/**
 * Total weight per host (same order as hosts): each weigher's raw scores min-max normalised to
 * [0, 1] across these hosts (all equal -> 0), times its multiplier, summed (Nova's method).
 * Weighers with a zero multiplier or not relevant to the request are skipped: they would add
 * the same to every host.
 */
export function weighHosts(hosts: readonly HostState[], spec: RequestSpec, weighers: readonly WeightedWeigher[]): Float64Array {
  const n = hosts.length;
  const total = new Float64Array(n);
  const raw = new Float64Array(n);
  for (const { weigher, multiplier } of activeWeighers(weighers, spec)) {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = weigher.weigh(hosts[i], spec);
      raw[i] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const span = max - min;
    if (span === 0 || !Number.isFinite(span)) continue;
    const k = multiplier / span;
    for (let i = 0; i < n; i++) total[i] += k * (raw[i] - min);
  }
  return total;
}
