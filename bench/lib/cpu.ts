/**
 * CPU time and memory of local processes, read from /proc (Linux only), for "where the time goes"
 * in a benchmark of several processes.
 *
 * A named root stands for a process and every descendant of it that is not itself (under) another
 * named root: PostgreSQL's postmaster with its backends, RabbitMQ's start script with the Erlang
 * VM, but the `cluster` supervisor without the services it spawned (they are roots of their own).
 * A process's CPU time counts utime + stime + cutime + cstime, so a backend that exits during a
 * phase still counts (its time moves into its parent's cutime when reaped) and nothing is counted
 * twice (cutime holds only children already reaped). Processes that left the tree without being
 * reaped by it (daemons such as epmd) are not counted.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { memoryOf } from './memory.js';
import { round } from './stats.js';

const TICKS = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

interface Stat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime + cutime + cstime, clock ticks. */
  ticks: number;
}

function statOf(pid: number): Stat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
  return { pid, ppid: Number(f[1]), comm, ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
}

function allStats(): Stat[] {
  const out: Stat[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const s = statOf(Number(e));
    if (s) out.push(s);
  }
  return out;
}

/** Each root's processes: the root and its descendants, stopping at other roots. Gone roots get []. */
export function processGroups(roots: Map<string, number>): Map<string, Stat[]> {
  const stats = allStats();
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const children = new Map<number, Stat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const rootPids = new Set(roots.values());
  const out = new Map<string, Stat[]>();
  for (const [name, pid] of roots) {
    const root = byPid.get(pid);
    const group: Stat[] = [];
    const stack = root ? [root] : [];
    while (stack.length) {
      const s = stack.pop()!;
      group.push(s);
      for (const c of children.get(s.pid) ?? []) if (!rootPids.has(c.pid)) stack.push(c);
    }
    out.set(name, group);
  }
  return out;
}

/** CPU seconds used so far by each named root's group (see the file comment). */
export type CpuSnapshot = Map<string, number>;

export function cpuSnapshot(roots: Map<string, number>): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  for (const [name, group] of processGroups(roots)) out.set(name, group.reduce((a, s) => a + s.ticks, 0) / TICKS);
  return out;
}

/** CPU seconds each root used between two snapshots, largest first. */
export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): { name: string; cpu_s: number }[] {
  return [...after]
    .map(([name, t]) => ({ name, cpu_s: round(t - (before.get(name) ?? 0), 2) }))
    .sort((a, b) => b.cpu_s - a.cpu_s);
}

export interface GroupMemory {
  name: string;
  processes: number;
  /** Sum of VmRSS over the group, MiB (shared pages counted in every process). */
  rssMiB: number;
  /** Sum of Pss over the group, MiB (shared pages split among sharers). */
  pssMiB: number;
}

/** Resident memory of each named root's group now. */
export function groupMemory(roots: Map<string, number>): GroupMemory[] {
  const out: GroupMemory[] = [];
  for (const [name, group] of processGroups(roots)) {
    const m = group.map((s) => memoryOf(s.pid));
    out.push({
      name,
      processes: group.length,
      rssMiB: round(m.reduce((a, x) => a + x.rssMiB, 0), 1),
      pssMiB: round(m.reduce((a, x) => a + x.pssMiB, 0), 1),
    });
  }
  return out;
}
