/**
 * Boot storm on many processes against the all-in-one, on the same machine (issue 8):
 *   npm run bench:cluster -- --servers 500 --concurrency 20
 *
 * Builds dist/, then for each variant in turn (one at a time, each on a fresh deployment):
 *   aio      the all-in-one (one process, SQLite) with computes x fake-hosts-per-compute fake hosts;
 *   aio-pg   the same process on a private PostgreSQL (what the database alone costs);
 *   cluster  `npm run cluster` (PostgreSQL, RabbitMQ, every service a process): --computes
 *            compute processes of --fake-hosts-per-compute fake hosts each, --apis API processes.
 * Each waits for the machine's 1-minute load to drop below --max-load, measures idle CPU for
 * --idle-seconds, then runs the create, list and delete phases of bench/lib/phases.ts (the method
 * of bench/boot-storm.ts), its clients spread over every API process's URL. Where the time goes:
 * CPU seconds of each process (with its children: PostgreSQL's backends) during the create phase
 * from /proc/<pid>/stat, and each one's resident memory after the create phase. Prints tables,
 * then one JSON line with every figure. Stops and removes everything it started, also on failure
 * and on Ctrl-C. Exit status 1 when a phase lost servers.
 */
import { parseArgs } from 'node:util';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCloudProcess } from '../test/helpers/process.js';
import { startPostgres } from '../src/cluster/postgres.js';
import { startClusterProcess } from './lib/cluster.js';
import { cpuDelta, cpuSnapshot, groupMemory } from './lib/cpu.js';
import { buildDist, gitDescribe, loadNow, waitForQuiet } from './lib/machine.js';
import { login, readCloud } from './lib/openstack.js';
import { createPhase, deletePhase, listPhase } from './lib/phases.js';
import { round } from './lib/stats.js';
import { prepareStorm } from './lib/storm.js';
import { printReport, type VariantResult } from './lib/cluster-report.js';

const VARIANTS = ['aio', 'aio-pg', 'cluster'] as const;
type Variant = (typeof VARIANTS)[number];

const USAGE = `Usage: npm run bench:cluster -- [options]
  --servers N                  servers per storm (default 500)
  --concurrency C              concurrent API clients (default 20)
  --computes N                 compute processes of the cluster (default 4)
  --fake-hosts-per-compute M   fake hosts per compute process (default 50; the all-in-one gets N x M)
  --apis K                     API processes of the cluster (default 2)
  --schedulers K, --conductors K   (default 1 each)
  --variants LIST              comma-separated, from aio,aio-pg,cluster (default all three)
  --max-load L                 wait until the 1-minute load average is below L (default 2.5)
  --load-wait S                give up when it stays above for S seconds (default 1800)
  --idle-seconds S             idle CPU measured over S seconds before the storm (default 10)
  --poll-interval S            seconds between status polls (default 0.05)
  --timeout S                  per phase, seconds (default 600)
  --flavor NAME (m1.tiny)  --image NAME (tiny-linux)  --microversion X.Y (2.37)`;

const { values: a } = parseArgs({
  options: {
    servers: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '20' },
    computes: { type: 'string', default: '4' },
    'fake-hosts-per-compute': { type: 'string', default: '50' },
    apis: { type: 'string', default: '2' },
    schedulers: { type: 'string', default: '1' },
    conductors: { type: 'string', default: '1' },
    variants: { type: 'string', default: VARIANTS.join(',') },
    'max-load': { type: 'string', default: '2.5' },
    'load-wait': { type: 'string', default: '1800' },
    'idle-seconds': { type: 'string', default: '10' },
    'poll-interval': { type: 'string', default: '0.05' },
    timeout: { type: 'string', default: '600' },
    flavor: { type: 'string', default: 'm1.tiny' },
    image: { type: 'string', default: 'tiny-linux' },
    microversion: { type: 'string', default: '2.37' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (a.help) {
  console.log(USAGE);
  process.exit(0);
}
const num = (k: keyof typeof a, min: number): number => {
  const n = Number(a[k]);
  if (!Number.isFinite(n) || n < min) {
    console.error(`cluster-storm: --${k} wants a number >= ${min}, got ${String(a[k])}\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const opts = {
  servers: Math.floor(num('servers', 1)),
  concurrency: Math.floor(num('concurrency', 1)),
  pollInterval: num('poll-interval', 0.001),
  timeout: num('timeout', 1),
};
const computes = Math.floor(num('computes', 1));
const perCompute = Math.floor(num('fake-hosts-per-compute', 1));
const apis = Math.floor(num('apis', 1));
const maxLoad = num('max-load', 0.1);
const variants = (a.variants as string).split(',').map((v) => v.trim()) as Variant[];
const bad = variants.find((v) => !VARIANTS.includes(v));
if (bad !== undefined || variants.length === 0) {
  console.error(`cluster-storm: --variants takes ${VARIANTS.join(', ')}; got ${a.variants}\n${USAGE}`);
  process.exit(2);
}
const log = (msg: string) => process.stderr.write(`[cluster-storm] ${msg}\n`);

/** One running deployment under test. */
interface Deployment {
  label: string;
  cloudsYaml: string;
  /** Base URLs of its API processes. */
  apiUrls: string[];
  /** Processes to account for: name -> PID (with their children). */
  pids: Map<string, number>;
  command: string;
  output(): string;
  stop(): Promise<void>;
}

/** Cleanups of whatever runs now, last started first. */
const running = new Set<() => Promise<void>>();
const stopAll = async () => {
  for (const stop of [...running].reverse()) {
    running.delete(stop);
    await stop().catch((e: unknown) => log(`stopping: ${(e as Error).message}`));
  }
};
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    log(`${sig}: stopping what runs`);
    void stopAll().finally(() => process.exit(130));
  });

async function deploy(v: Variant): Promise<Deployment> {
  const hosts = computes * perCompute;
  if (v === 'cluster') {
    const args = ['--computes', String(computes), '--fake-hosts-per-compute', String(perCompute), '--apis', String(apis)];
    args.push('--schedulers', String(a.schedulers), '--conductors', String(a.conductors), '--driver', 'fake');
    // Ports free on this machine, and the all-in-one's heartbeat period (10 s, down after 60 s).
    args.push('--api-port', '0', '--console-port', '0', '--report-interval', '10', '--service-down-time', '60');
    const c = await startClusterProcess(args);
    running.add(c.stop);
    const stop = async () => (running.delete(c.stop), c.stop());
    return { label: `PostgreSQL + RabbitMQ, ${apis} API, ${a.schedulers} scheduler, ${a.conductors} conductor and ${computes} compute processes (${perCompute} fake hosts each)`, ...c, stop };
  }
  let pg: Awaited<ReturnType<typeof startPostgres>> | undefined;
  let pgDir: string | undefined;
  const args: string[] = [];
  if (v === 'aio-pg') {
    pgDir = mkdtempSync(join(tmpdir(), 'nova-ts-bench-pg-'));
    chmodSync(pgDir, 0o755); // PostgreSQL runs as the postgres user
    const dropPg = async () => {
      await pg?.stop();
      rmSync(pgDir!, { recursive: true, force: true });
    };
    running.add(dropPg);
    pg = await startPostgres({ dir: pgDir, logFile: join(pgDir, 'postgres.log') });
    args.push('--database', await pg.ensureDb('nova'));
  }
  const cloud = await startCloudProcess({ entry: 'dist', fakeHosts: hosts, args, readyTimeoutMs: 300_000 });
  const stopCloud = async () => void (await cloud.stop());
  running.add(stopCloud);
  const pids = new Map([['nova-ts', cloud.pid]]);
  if (pg) pids.set('postgres', pg.pid());
  return {
    label: `all-in-one process on ${pg ? 'PostgreSQL' : 'SQLite'}, ${hosts} fake hosts`,
    cloudsYaml: cloud.cloudsYaml,
    apiUrls: [cloud.url],
    pids,
    command: `nova-ts --driver fake --fake-hosts ${hosts}${pg ? ' --database postgres://...' : ''}`,
    output: cloud.output,
    // Variants run one at a time, so what runs now is this one's cloud (and PostgreSQL).
    stop: stopAll,
  };
}

/** The compute endpoint of the catalog, once per API process (same path, each API's origin). */
function computeUrls(compute: string, apiUrls: string[]): string[] {
  return apiUrls.map((base) => {
    const u = new URL(compute);
    const b = new URL(base);
    u.protocol = b.protocol;
    u.host = b.host;
    return u.toString().replace(/\/$/, '');
  });
}

async function measure(v: Variant): Promise<VariantResult> {
  log(`${v}: waiting for a quiet machine (1-minute load < ${maxLoad}) before starting it`);
  const loadAtStart = await waitForQuiet(maxLoad, num('load-wait', 0), log);
  const t0 = Date.now();
  const dep = await deploy(v);
  try {
    const readyS = round((Date.now() - t0) / 1000, 1);
    log(`${v}: ${dep.label} ready in ${readyS} s (${[...dep.pids].map(([n, p]) => `${n}=${p}`).join(' ')})`);
    const s = await login(readCloud(dep.cloudsYaml, 'nova-ts'), a.microversion as string);
    const storm = await prepareStorm(s, { flavor: a.flavor as string, image: a.image as string });
    const urls = computeUrls(storm.compute, dep.apiUrls);
    log(`${v}: clients spread over ${urls.join(', ')}`);
    await sleep(2000);
    const loadBefore = await waitForQuiet(maxLoad, num('load-wait', 0), log);
    const idleS = num('idle-seconds', 1);
    const idle0 = cpuSnapshot(dep.pids);
    await sleep(idleS * 1000);
    const idle = cpuDelta(idle0, cpuSnapshot(dep.pids));
    const memIdle = groupMemory(dep.pids);

    log(`${v}: create ${opts.servers} servers at concurrency ${opts.concurrency} (load ${loadBefore.join(' ')})`);
    const cpu0 = cpuSnapshot(dep.pids);
    const client0 = process.cpuUsage();
    const { ids, result: create } = await createPhase(s, urls, opts, storm.body);
    const clientUs = process.cpuUsage(client0);
    const cpuCreate = cpuDelta(cpu0, cpuSnapshot(dep.pids));
    cpuCreate.push({ name: 'bench client (this process)', cpu_s: round((clientUs.user + clientUs.system) / 1e6, 2) });
    const memLoaded = groupMemory(dep.pids);
    log(`${v}: create ${create.active}/${create.requested} ACTIVE, ${create.servers_per_s} servers/s`);
    const list = await listPhase(s, urls);
    const del = await deletePhase(s, urls, ids, storm.prefix, opts);
    log(`${v}: delete ${del.deleted} at ${del.servers_per_s} servers/s`);
    s.close();
    return {
      variant: v,
      label: dep.label,
      command: dep.command,
      api_urls: urls,
      ready_s: readyS,
      load_avg: { at_start: loadAtStart, before_create: loadBefore, after: loadNow() },
      idle_cpu_per_s: idle.map((x) => ({ name: x.name, cpu_s: round(x.cpu_s / idleS, 3) })),
      create,
      list,
      delete: del,
      cpu_during_create: cpuCreate,
      memory_idle: memIdle,
      memory_after_create: memLoaded,
    };
  } catch (e) {
    const out = dep.output();
    throw new Error(`${v}: ${(e as Error).message}${out ? `\noutput (last 3000 chars):\n${out.slice(-3000)}` : ''}`, { cause: e });
  } finally {
    await dep.stop();
  }
}

async function run(): Promise<number> {
  buildDist(log);
  const results: VariantResult[] = [];
  for (const v of variants) results.push(await measure(v));
  const record = {
    date: new Date().toISOString(),
    command: `npm run bench:cluster -- ${process.argv.slice(2).join(' ')}`.trim(),
    commit: gitDescribe(),
    node: process.version,
    cpus: cpus().length,
    memory_gib: round(totalmem() / 2 ** 30, 1),
    servers: opts.servers,
    concurrency: opts.concurrency,
    poll_interval_s: opts.pollInterval,
    microversion: a.microversion,
    results,
  };
  printReport(results);
  console.log(JSON.stringify(record));
  return results.every((r) => r.create.active === opts.servers && r.delete.remaining === 0) ? 0 : 1;
}

run().then(
  (code) => (process.exitCode = code),
  async (e: unknown) => {
    await stopAll();
    console.error(`cluster-storm: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
