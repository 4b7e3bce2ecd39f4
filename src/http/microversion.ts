import { invalid, notAcceptable } from '../errors.js';

/** A Compute API microversion such as 2.60. Compare with `atLeast`. */
export class Microversion {
  constructor(
    readonly major: number,
    readonly minor: number,
  ) {}

  static parse(s: string): Microversion | null {
    const m = /^(\d+)\.(\d+)$/.exec(s.trim());
    return m ? new Microversion(Number(m[1]), Number(m[2])) : null;
  }

  atLeast(v: string): boolean {
    const o = Microversion.parse(v)!;
    return this.major > o.major || (this.major === o.major && this.minor >= o.minor);
  }

  /** True when min <= this <= max (max optional). */
  within(min: string, max?: string): boolean {
    if (!this.atLeast(min)) return false;
    if (max === undefined) return true;
    const o = Microversion.parse(max)!;
    return this.major < o.major || (this.major === o.major && this.minor <= o.minor);
  }

  toString(): string {
    return `${this.major}.${this.minor}`;
  }
}

export const COMPUTE_MIN_VERSION = '2.1';
/** Highest Compute API microversion nova-ts serves. Every change up to here is honoured. */
export const COMPUTE_MAX_VERSION = '2.93';
export const DEFAULT_VERSION = new Microversion(2, 1);

/**
 * Reads the requested compute microversion from `OpenStack-API-Version: compute X.Y` or the
 * legacy `X-OpenStack-Nova-API-Version: X.Y`. Absent means the minimum; `latest` the maximum.
 * Malformed gives 400, out of range 406.
 */
export function requestedMicroversion(headers: Record<string, string | string[] | undefined>): Microversion {
  let raw: string | undefined;
  const modern = headers['openstack-api-version'];
  if (modern !== undefined) {
    const items = (Array.isArray(modern) ? modern.join(',') : modern).split(',');
    for (const item of items) {
      const [service, value] = item.trim().split(/\s+/, 2);
      if (service?.toLowerCase() === 'compute') raw = value ?? '';
    }
  }
  if (raw === undefined) {
    const legacy = headers['x-openstack-nova-api-version'];
    if (legacy !== undefined) raw = Array.isArray(legacy) ? legacy[0] : legacy;
  }
  const min = Microversion.parse(COMPUTE_MIN_VERSION)!;
  const max = Microversion.parse(COMPUTE_MAX_VERSION)!;
  if (raw === undefined) return min;
  if (raw.trim().toLowerCase() === 'latest') return max;
  const v = Microversion.parse(raw);
  if (!v) throw invalid(`API Version String ${raw} is of invalid format. Must be of format MajorNum.MinorNum.`);
  if (!v.within(COMPUTE_MIN_VERSION, COMPUTE_MAX_VERSION))
    throw notAcceptable(
      `Version ${raw} is not supported by the API. Minimum is ${COMPUTE_MIN_VERSION} and maximum is ${COMPUTE_MAX_VERSION}.`,
    );
  return v;
}
