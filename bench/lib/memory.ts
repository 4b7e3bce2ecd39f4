/** Memory of a local process, read from /proc (Linux only; zeros elsewhere). */
import { readFileSync } from 'node:fs';

export interface Memory {
  /** Resident set size now (VmRSS), MiB. */
  rssMiB: number;
  /** Proportional set size (Pss from smaps_rollup), MiB; shared pages split among sharers. */
  pssMiB: number;
  /** Peak resident set size since the process started (VmHWM), MiB. */
  peakRssMiB: number;
}

const kib = (text: string, key: string): number => {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
};
const mib = (k: number) => Math.round((k / 1024) * 10) / 10;

/** Reads the memory figures of `pid`; fields it cannot read are 0. */
export function memoryOf(pid: number): Memory {
  let status = '';
  let rollup = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    /* not Linux, or gone */
  }
  try {
    rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    /* kernel without smaps_rollup */
  }
  return { rssMiB: mib(kib(status, 'VmRSS')), pssMiB: mib(kib(rollup, 'Pss')), peakRssMiB: mib(kib(status, 'VmHWM')) };
}
