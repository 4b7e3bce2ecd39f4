/** Percentiles and summaries as ../shared/bench/boot_storm.py computes them (linear interpolation). */

export function pct(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const k = ((s.length - 1) * p) / 100;
  const lo = Math.floor(k);
  const hi = Math.min(lo + 1, s.length - 1);
  return round(s[lo] + (s[hi] - s[lo]) * (k - lo));
}

export function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export interface Summary {
  n: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

/** Summary of durations in seconds. */
export function summary(xs: number[]): Summary {
  return {
    n: xs.length,
    p50: pct(xs, 50),
    p95: pct(xs, 95),
    p99: pct(xs, 99),
    max: xs.length ? round(Math.max(...xs)) : null,
    mean: xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length) : null,
  };
}
