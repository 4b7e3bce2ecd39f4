/** The tables bench/cluster-storm.ts prints: the variants side by side, then where the CPU and memory go in each. */
import type { GroupMemory } from './cpu.js';
import type { CreateResult, DeleteResult, ListResult } from './phases.js';
import { round } from './stats.js';

export interface VariantResult {
  variant: string;
  label: string;
  command: string;
  api_urls: string[];
  ready_s: number;
  load_avg: { at_start: number[]; before_create: number[]; after: number[] };
  /** CPU seconds per second of each process group, idle before the storm. */
  idle_cpu_per_s: { name: string; cpu_s: number }[];
  create: CreateResult;
  list: ListResult;
  delete: DeleteResult;
  /** CPU seconds of each process group (and of the benchmark's client) during the create phase, largest first. */
  cpu_during_create: { name: string; cpu_s: number }[];
  memory_idle: GroupMemory[];
  memory_after_create: GroupMemory[];
}

function table(rows: string[][]): void {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const [i, r] of rows.entries()) {
    console.log(r.map((c, j) => (c ?? '').padEnd(w[j])).join(' | '));
    if (i === 0) console.log(w.map((n) => '-'.repeat(n)).join('-|-'));
  }
}

const ms = (x: number | null) => (x === null ? '-' : `${(x * 1000).toFixed(0)} ms`);
const sum = (xs: { cpu_s: number }[]) => round(xs.reduce((a, x) => a + x.cpu_s, 0), 2);
/** CPU of the cloud only (not the benchmark's client). */
const cloudCpu = (r: VariantResult) => sum(r.cpu_during_create.filter((x) => !x.name.startsWith('bench client')));

export function printReport(results: VariantResult[]): void {
  const col = (f: (r: VariantResult) => string) => results.map(f);
  table([
    ['figure', ...col((r) => r.variant)],
    ['servers ACTIVE / requested', ...col((r) => `${r.create.active} / ${r.create.requested} (error ${r.create.error}, timed out ${r.create.timed_out})`)],
    ['create throughput', ...col((r) => `${r.create.servers_per_s ?? '-'} servers/s`)],
    ['create -> ACTIVE p50 / p95', ...col((r) => `${ms(r.create.create_to_active_s.p50)} / ${ms(r.create.create_to_active_s.p95)}`)],
    ['POST /servers p50 / p95', ...col((r) => `${ms(r.create.post_latency_s.p50)} / ${ms(r.create.post_latency_s.p95)}`)],
    ['GET /servers/detail (all present) p50', ...col((r) => `${ms(r.list.latency_s.p50)} (${r.list.servers_returned})`)],
    ['delete throughput', ...col((r) => `${r.delete.servers_per_s} servers/s`)],
    ['create wall', ...col((r) => `${r.create.wall_s} s`)],
    ['cloud CPU during create', ...col((r) => `${cloudCpu(r)} s (${round(cloudCpu(r) / r.create.wall_s, 2)} cores)`)],
    ['cloud CPU per server', ...col((r) => `${r.create.active ? round((cloudCpu(r) / r.create.active) * 1000, 1) : '-'} ms`)],
    ['client CPU during create', ...col((r) => `${r.cpu_during_create.find((x) => x.name.startsWith('bench client'))?.cpu_s ?? '-'} s`)],
    ['cloud idle CPU', ...col((r) => `${round(sum(r.idle_cpu_per_s) * 100, 1)}% of a core`)],
    ['RSS idle / after create (sum)', ...col((r) => `${round(r.memory_idle.reduce((a, m) => a + m.rssMiB, 0), 0)} / ${round(r.memory_after_create.reduce((a, m) => a + m.rssMiB, 0), 0)} MiB`)],
    ['PSS after create (sum)', ...col((r) => `${round(r.memory_after_create.reduce((a, m) => a + m.pssMiB, 0), 0)} MiB`)],
    ['load avg before create', ...col((r) => r.load_avg.before_create.join(' '))],
  ]);
  for (const r of results) {
    console.log(`\n${r.variant}: ${r.label}; CPU during the create phase (${r.create.wall_s} s) and memory after it`);
    const mem = new Map(r.memory_after_create.map((m) => [m.name, m]));
    const total = sum(r.cpu_during_create);
    table([
      ['process', 'CPU s', 'share', 'RSS MiB', 'PSS MiB', 'procs'],
      ...r.cpu_during_create.map((x) => {
        const m = mem.get(x.name);
        return [x.name, x.cpu_s.toFixed(2), `${total ? Math.round((x.cpu_s / total) * 100) : 0}%`, m ? String(m.rssMiB) : '', m ? String(m.pssMiB) : '', m ? String(m.processes) : ''];
      }),
    ]);
    if (r.create.errors.length) console.log(`create errors: ${r.create.errors.join('; ')}`);
    if (r.delete.errors.length) console.log(`delete errors: ${r.delete.errors.join('; ')}`);
  }
}
