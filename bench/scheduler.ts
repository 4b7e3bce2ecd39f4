/**
 * Scheduler benchmark (issue 5), in the repo:
 *   npm run bench:scheduler                          # 100, 1,000 and 10,000 hosts
 *   npm run bench:scheduler -- --hosts 10000 --decisions 5000
 *
 * In this process, per host count: a temporary SQLite file DB (as the all-in-one uses: WAL,
 * the adapter's pragmas), migrated, with synthetic `services` + `compute_nodes` rows (no
 * compute service runs; every node 64 vCPUs, 256 GiB, 2 TB, heartbeat fresh) spread over three
 * availability zones (aggregates az1..az3 with `availability_zone` metadata). A Scheduler with
 * the default filters and weighers of src/config.ts (those not registered yet are left out,
 * and named) then makes scheduling decisions for a small flavor (1 vCPU, 512 MB, 1 GB), each
 * one a full select_destinations: cache freshness (reloaded every second, as in production),
 * ranking, and the atomic claim in the DB. Phases:
 *  - warm-up: --warmup decisions (JIT), not counted;
 *  - sequential: --decisions decisions one after the other;
 *  - concurrent: --decisions decisions from --concurrency callers at once;
 *  - az+group: --decisions decisions, each with availability_zone az1 and an anti-affinity
 *    server group of 10 (members = the group's instances placed so far plus this one),
 *    sequential;
 *  - rank only: --decisions rankings of the plain request over the loaded cache, no claim;
 *  - claim only: --decisions claims on random nodes, no ranking.
 * Per phase: decisions/s, p50/p95 per decision, the scheduler's own split of its time into
 * ranking and claiming, and this process's RSS. Prints a table, then one JSON line; exit status
 * 1 when a decision failed. The code measured is src/ transpiled by esbuild as for dist/
 * (--entry dist, the default, built into node_modules/.cache and removed after) or src/
 * through tsx (--entry tsx).
 */
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { SchedulerConfig } from '../src/config.js';
import type { Sql } from '../src/db/sql.js';
import type { RequestSpec, ServerGroupSpec } from '../src/scheduler/rpcapi.js';
import type { Scheduler } from '../src/scheduler/scheduler.js';
import { REPO_ROOT } from '../test/helpers/process.js';
import { pct, round } from './lib/stats.js';

const USAGE = `Usage: npm run bench:scheduler -- [options]
  --hosts LIST        host counts, comma-separated (default 100,1000,10000)
  --decisions N       decisions per phase (default 3000)
  --warmup N          warm-up decisions before the phases (default 500)
  --concurrency C     callers at once in the concurrent phase (default 16)
  --subset N          host_subset_size (default: the configured default)
  --entry dist|tsx    run src/ as esbuild transpiles it for dist/ (default; what \`npm start\`
                      runs) or src/ through tsx (which adds keepNames wrappers to closures)
  --keep              keep the temporary DB directories`;

const { values: a } = parseArgs({
  options: {
    hosts: { type: 'string', default: '100,1000,10000' },
    decisions: { type: 'string', default: '3000' },
    warmup: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '16' },
    subset: { type: 'string' },
    keep: { type: 'boolean', default: false },
    entry: { type: 'string', default: 'dist' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (a.help) {
  console.log(USAGE);
  process.exit(0);
}
const int = (v: string | undefined, what: string, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    console.error(`bench:scheduler: --${what} wants an integer >= ${min}, got ${String(v)}\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const hostCounts = String(a.hosts)
  .split(',')
  .map((s) => int(s.trim(), 'hosts', 1));
const decisions = int(a.decisions, 'decisions', 1);
const warmup = int(a.warmup, 'warmup', 0);
const concurrency = int(a.concurrency, 'concurrency', 1);
const log = (msg: string) => process.stderr.write(`[bench:scheduler] ${msg}\n`);
if (a.entry !== 'dist' && a.entry !== 'tsx') {
  console.error(`bench:scheduler: --entry wants dist or tsx\n${USAGE}`);
  process.exit(2);
}

/**
 * Transpiles src/ with the options of scripts/build.mjs into a directory of our own under
 * node_modules/.cache (so that packages resolve; dist/ itself is left alone), answering its root.
 */
async function buildSources(): Promise<string> {
  const out = mkdtempSync(join(REPO_ROOT, 'node_modules', '.cache', 'bench-scheduler-'));
  const sources = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
    );
  await build({ entryPoints: sources(join(REPO_ROOT, 'src')), outdir: out, outbase: REPO_ROOT, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning' });
  return out;
}
const codeRoot = a.entry === 'dist' ? await buildSources() : REPO_ROOT;
const load = <T>(path: string): Promise<T> => import(pathToFileURL(join(codeRoot, path)).href) as Promise<T>;
const { defaultConfig } = await load<typeof import('../src/config.js')>('src/config.js');
const { openDatabase } = await load<typeof import('../src/db/open.js')>('src/db/open.js');
const { FILTERS, makeFilters } = await load<typeof import('../src/scheduler/filters/index.js')>('src/scheduler/filters/index.js');
const { makeWeighers } = await load<typeof import('../src/scheduler/weighers/index.js')>('src/scheduler/weighers/index.js');
const { Scheduler: SchedulerClass } = await load<typeof import('../src/scheduler/scheduler.js')>('src/scheduler/scheduler.js');
const { rankHosts } = await load<typeof import('../src/scheduler/select.js')>('src/scheduler/select.js');
const { claim } = await load<typeof import('../src/scheduler/claims.js')>('src/scheduler/claims.js');

const ZONES = ['az1', 'az2', 'az3'];
const FLAVOR: RequestSpec['flavor'] = { id: 1, memory_mb: 512, vcpus: 1, root_gb: 1, ephemeral_gb: 0, swap: 0, extra_specs: {} };
const spec = (over: Partial<RequestSpec> = {}): RequestSpec => ({
  instance_uuids: [randomUUID()],
  project_id: 'bench-project',
  user_id: 'bench-user',
  flavor: FLAVOR,
  image: null,
  availability_zone: null,
  scheduler_hints: {},
  ...over,
});

/** The default scheduler settings, minus filters and weighers not registered (yet). */
function schedulerConfig(): { config: SchedulerConfig; missing: string[] } {
  const d = defaultConfig().scheduler;
  const missing = d.filters.filter((f) => !FILTERS[f]);
  const config = { ...d, filters: d.filters.filter((f) => FILTERS[f]) };
  if (a.subset) config.hostSubsetSize = int(a.subset, 'subset', 1);
  makeWeighers(config.weighers); // throws early on an unknown weigher
  return { config, missing };
}

/** Writes `n` hosts (service + node), three zones by aggregate, in one transaction. */
async function populate(sql: Sql, n: number): Promise<string[]> {
  const now = new Date().toISOString();
  const uuids: string[] = [];
  await sql.tx(async (tx) => {
    for (let z = 0; z < ZONES.length; z++) {
      await tx.run('INSERT INTO aggregates (uuid, name, created_at) VALUES (?, ?, ?)', [randomUUID(), `agg-${ZONES[z]}`, now]);
      const id = (await tx.get<{ id: number }>('SELECT id FROM aggregates WHERE name = ?', [`agg-${ZONES[z]}`]))!.id;
      await tx.run("INSERT INTO aggregate_metadata (aggregate_id, key, value) VALUES (?, 'availability_zone', ?)", [id, ZONES[z]]);
    }
    for (let i = 0; i < n; i++) {
      const host = `bench-h${String(i).padStart(5, '0')}`;
      await tx.run(
        `INSERT INTO services (uuid, host, "binary", topic, last_seen_up, created_at, updated_at) VALUES (?, ?, 'nova-compute', 'compute', ?, ?, ?)`,
        [randomUUID(), host, now, now, now],
      );
      const svc = (await tx.get<{ id: number }>(`SELECT id FROM services WHERE host = ? AND "binary" = 'nova-compute'`, [host]))!.id;
      const uuid = randomUUID();
      uuids.push(uuid);
      await tx.run(
        `INSERT INTO compute_nodes (uuid, service_id, host, hypervisor_hostname, hypervisor_type, hypervisor_version, host_ip, cpu_info,
           capabilities, vcpus, memory_mb, local_gb, created_at, updated_at) VALUES (?, ?, ?, ?, 'fake', 1000, '127.0.0.1', '{}', ?, 64, 262144, 2000, ?, ?)`,
        [uuid, svc, host, host, JSON.stringify({ supported_instances: [['x86_64', 'fake', 'hvm']] }), now, now],
      );
      const agg = (await tx.get<{ id: number }>('SELECT id FROM aggregates WHERE name = ?', [`agg-${ZONES[i % ZONES.length]}`]))!.id;
      await tx.run('INSERT INTO aggregate_hosts (aggregate_id, host) VALUES (?, ?)', [agg, host]);
    }
  });
  return uuids;
}

/** Keeps every synthetic service heartbeating (the ComputeFilter wants one within 60 s). */
const heartbeat = (sql: Sql) => sql.run("UPDATE services SET last_seen_up = ? WHERE \"binary\" = 'nova-compute'", [new Date().toISOString()]);

interface PhaseResult {
  phase: string;
  decisions: number;
  failed: number;
  wall_s: number;
  per_s: number;
  p50_ms: number | null;
  p95_ms: number | null;
  rank_ms_per_decision: number | null;
  claim_ms_per_decision: number | null;
  rss_mib: number;
}

const rss = () => Math.round(process.memoryUsage().rss / 1048576);

/** Runs `count` jobs from `c` callers at once; answers per-job latencies (ms) and failures. */
async function drive(count: number, c: number, job: (i: number) => Promise<void>): Promise<{ lat: number[]; failed: number; wall: number }> {
  const lat: number[] = [];
  let failed = 0;
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const s = performance.now();
      try {
        await job(i);
      } catch (e) {
        if (failed++ === 0) log(`first failure: ${(e as Error).message.slice(0, 300)}`);
      }
      lat.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: Math.min(c, count) }, worker));
  return { lat, failed, wall: performance.now() - t0 };
}

async function phase(name: string, sched: Scheduler | null, count: number, c: number, job: (i: number) => Promise<void>): Promise<PhaseResult> {
  const before = sched ? { ...sched.stats } : null;
  const { lat, failed, wall } = await drive(count, c, job);
  const st = sched?.stats;
  const perDecision = (k: 'rankMs' | 'claimMs') => (st && before ? round((st[k] - before[k]) / count, 4) : null);
  const r: PhaseResult = {
    phase: name,
    decisions: count,
    failed,
    wall_s: round(wall / 1000, 3),
    per_s: Math.round((count - failed) / (wall / 1000)),
    p50_ms: pct(lat, 50),
    p95_ms: pct(lat, 95),
    rank_ms_per_decision: perDecision('rankMs'),
    claim_ms_per_decision: perDecision('claimMs'),
    rss_mib: rss(),
  };
  log(`${name}: ${JSON.stringify(r)}`);
  return r;
}

async function runAt(hosts: number, config: SchedulerConfig) {
  const dir = mkdtempSync(join(tmpdir(), 'nova-ts-bench-sched-'));
  const sql = await openDatabase(`sqlite:${join(dir, 'nova.db')}`);
  try {
    let t = performance.now();
    const nodes = await populate(sql, hosts);
    const populate_s = round((performance.now() - t) / 1000, 2);
    const sched = new SchedulerClass(sql, config);
    t = performance.now();
    await sched.cache.reload();
    const load_ms = round(performance.now() - t, 1);
    log(`${hosts} hosts: populated in ${populate_s} s, cache loaded in ${load_ms} ms, RSS ${rss()} MiB`);
    const plain = () => sched.selectDestinations(spec()).then(() => undefined);
    const phases: PhaseResult[] = [];
    if (warmup) await drive(warmup, 1, plain);
    await heartbeat(sql);
    phases.push(await phase('sequential', sched, decisions, 1, plain));
    await heartbeat(sql);
    phases.push(await phase(`concurrent x${concurrency}`, sched, decisions, concurrency, plain));
    await heartbeat(sql);
    const groups = new Map<number, string[]>();
    phases.push(
      await phase('az1 + anti-affinity group of 10', sched, decisions, 1, async (i) => {
        const g = Math.floor(i / 10);
        const uuid = randomUUID();
        const members = [...(groups.get(g) ?? []), uuid];
        groups.set(g, members);
        const group: ServerGroupSpec = { uuid: `00000000-0000-4000-8000-${String(g).padStart(12, '0')}`, policy: 'anti-affinity', max_server_per_host: null, members };
        await sched.selectDestinations(spec({ instance_uuids: [uuid], availability_zone: 'az1', group }));
      }),
    );
    await heartbeat(sql);
    await sched.cache.reload();
    const filters = makeFilters(config.filters, config);
    const weighers = makeWeighers(config.weighers);
    const all = [...sched.cache.all()];
    const limit = config.hostSubsetSize + config.maxAttempts - 1;
    phases.push(
      await phase('rank only (no claim)', null, decisions, 1, async () => {
        if (rankHosts(all, spec(), filters, weighers, limit).ranked.length === 0) throw new Error('no host passed');
      }),
    );
    const res = { vcpus: 1, memory_mb: 512, disk_gb: 1 };
    phases.push(
      await phase('claim only (no ranking)', null, decisions, 1, async (i) => {
        const c = await claim(sql, { node_uuid: nodes[(i * 7919) % nodes.length], consumer_uuid: randomUUID(), resources: res, project_id: 'p', user_id: 'u' });
        if (!c.ok) throw new Error(c.reason);
      }),
    );
    const allocations = (await sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM allocations'))!.n;
    return { hosts, populate_s, cache_load_ms: load_ms, allocations_at_end: Number(allocations), phases };
  } finally {
    await sql.close();
    if (!a.keep) rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const { config, missing } = schedulerConfig();
  log(`filters: ${config.filters.join(', ')}${missing.length ? ` (not registered, left out: ${missing.join(', ')})` : ''}`);
  log(`weighers: ${JSON.stringify(config.weighers)}; host_subset_size ${config.hostSubsetSize}`);
  log(`code: ${a.entry === 'dist' ? `src/ transpiled by esbuild into ${codeRoot}` : 'src/ through tsx'}`);
  const machine = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, loadavg: loadavg().map((x) => round(x, 2)) };
  const results = [];
  for (const h of hostCounts) results.push(await runAt(h, config));
  const rows: string[][] = [['hosts', 'phase', 'decisions/s', 'p50 ms', 'p95 ms', 'rank ms', 'claim ms', 'failed', 'RSS MiB']];
  for (const r of results)
    for (const p of r.phases)
      rows.push([String(r.hosts), p.phase, String(p.per_s), String(p.p50_ms), String(p.p95_ms), String(p.rank_ms_per_decision ?? '-'), String(p.claim_ms_per_decision ?? '-'), String(p.failed), String(p.rss_mib)]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
  console.log(JSON.stringify({ machine, entry: a.entry, filters: config.filters, missing_filters: missing, weighers: config.weighers, decisions, warmup, concurrency, results }));
  return results.some((r) => r.phases.some((p) => p.failed > 0)) ? 1 : 0;
}

const cleanup = () => {
  if (a.entry === 'dist') rmSync(codeRoot, { recursive: true, force: true });
};
main().then(
  (code) => {
    cleanup();
    process.exit(code);
  },
  (e) => {
    console.error(e);
    cleanup();
    process.exit(1);
  },
);
