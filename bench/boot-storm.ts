/**
 * Boot-storm benchmark of the all-in-one cloud, in the repo:
 *   npm run bench -- --servers 1000 --concurrency 50 --fake-hosts 100
 *
 * Starts nova-ts as a child process (dist/ built from src/ by default, or --entry tsx) with the
 * fake driver and N fake hosts in a temporary data dir; measures its memory idle; raises
 * admin's quota; runs the create, list and delete phases of bench/lib/phases.ts (the method of
 * ../shared/bench/boot_storm.py); measures memory again; stops the cloud (SIGTERM). Prints a
 * table, then one JSON line with every figure. Exit status 1 when a phase lost servers.
 */
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCloudProcess, type CloudProcess, type Entry } from '../test/helpers/process.js';
import { buildDist, gitDescribe } from './lib/machine.js';
import { memoryOf, type Memory } from './lib/memory.js';
import { login, readCloud } from './lib/openstack.js';
import { createPhase, deletePhase, listPhase } from './lib/phases.js';
import { prepareStorm } from './lib/storm.js';

/** Real Nova (Debian Zed, all-in-one, fake driver) on the same machine type: 100 servers at c10. */
const REAL_NOVA = { servers_per_s: 0.56, p50_s: 83, p95_s: 148, list_p50_s: 0.32, delete_per_s: 1.15, idle_rss_mib: 3500 };
const TARGETS = { servers_per_s: 100, p50_s: 0.2, idle_rss_mib: 150 };

const USAGE = `Usage: npm run bench -- [options]
  --servers N          servers to boot (default 1000)
  --concurrency C      concurrent API clients (default 50)
  --fake-hosts H       fake compute hosts in the cloud (default 100)
  --poll-interval S    seconds between status polls (default 0.05)
  --entry dist|tsx     run the built dist/ (built first; default) or src/ through tsx
  --flavor NAME        (default m1.tiny)      --image NAME   (default tiny-linux)
  --microversion X.Y   compute microversion sent (default 2.37, as the reference)
  --timeout S          per phase, seconds (default 600)
  --arg A              extra argument for nova-ts (repeatable), e.g. --arg=--fake-delay --arg=spawn=100`;

const { values: a } = parseArgs({
  options: {
    servers: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '50' },
    'fake-hosts': { type: 'string', default: '100' },
    'poll-interval': { type: 'string', default: '0.05' },
    entry: { type: 'string', default: 'dist' },
    flavor: { type: 'string', default: 'm1.tiny' },
    image: { type: 'string', default: 'tiny-linux' },
    microversion: { type: 'string', default: '2.37' },
    timeout: { type: 'string', default: '600' },
    arg: { type: 'string', multiple: true, default: [] },
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
    console.error(`boot-storm: --${k} wants a number >= ${min}, got ${String(a[k])}\n${USAGE}`);
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
const fakeHosts = Math.floor(num('fake-hosts', 1));
const entry = a.entry as Entry;
if (entry !== 'dist' && entry !== 'tsx') {
  console.error(`boot-storm: --entry wants dist or tsx\n${USAGE}`);
  process.exit(2);
}
const log = (msg: string) => process.stderr.write(`[boot-storm] ${msg}\n`);

let cloud: CloudProcess | undefined;
const stopCloud = async () => {
  const c = cloud;
  cloud = undefined;
  if (c) return c.stop();
};
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    void stopCloud().finally(() => process.exit(130));
  });

async function run(): Promise<number> {
  if (entry === 'dist') buildDist(log);
  const t0 = Date.now();
  cloud = await startCloudProcess({ entry, fakeHosts, args: a.arg as string[], readyTimeoutMs: 300_000 });
  log(`nova-ts (${entry}, ${fakeHosts} fake hosts) ready in ${Date.now() - t0} ms at ${cloud.url}, pid ${cloud.pid}`);
  const s = await login(readCloud(cloud.cloudsYaml, 'nova-ts'), a.microversion as string);

  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  await sleep(2000); // let start-up work (first resource reports) settle before measuring idle
  const memIdle = memoryOf(cloud.pid);
  log(`idle: RSS ${memIdle.rssMiB} MiB, PSS ${memIdle.pssMiB} MiB`);

  const { compute, prefix, body } = await prepareStorm(s, { flavor: a.flavor as string, image: a.image as string });
  log(`create: ${opts.servers} servers, concurrency ${opts.concurrency}, prefix ${prefix}`);
  const { ids, result: create } = await createPhase(s, compute, opts, body);
  log(`create: ${JSON.stringify(create)}`);
  const memLoaded = memoryOf(cloud.pid);
  const list = await listPhase(s, compute);
  log(`list: ${JSON.stringify(list)}`);
  const del = await deletePhase(s, compute, ids, prefix, opts);
  log(`delete: ${JSON.stringify(del)}`);
  await sleep(1000);
  const memAfter = memoryOf(cloud.pid);
  s.close();
  const stopped = await stopCloud();

  const result = {
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    servers: opts.servers,
    concurrency: opts.concurrency,
    fake_hosts: fakeHosts,
    entry,
    poll_interval_s: opts.pollInterval,
    microversion: a.microversion,
    node: process.version,
    commit: gitDescribe(),
    cpus: cpus().length,
    // The machine's load average (1, 5, 15 min) before and after: other work on the machine skews every figure.
    load_avg: { before: loadBefore, after: loadavg().map((x) => Math.round(x * 100) / 100) },
    memory: { idle: memIdle, after_create: memLoaded, after_delete: memAfter },
    create,
    list,
    delete: del,
    stop: stopped,
    reference_real_nova_100_at_c10: REAL_NOVA,
    targets: TARGETS,
  };
  printTable(result.create, list, del, memIdle, memLoaded, memAfter);
  console.log(`load average before ${loadBefore.join(' ')}, after ${result.load_avg.after.join(' ')} (${cpus().length} CPUs)`);
  if (create.slowest.length) console.log(`slowest: ${create.slowest.map((x) => `${x.id} ${x.latency_s} s on ${x.host} (POST #${x.index} sent at +${x.sent_at_s} s took ${x.post_s} s)`).join('; ')}`);
  console.log(JSON.stringify(result));
  return create.active === opts.servers && del.remaining === 0 ? 0 : 1;
}

function printTable(
  c: Awaited<ReturnType<typeof createPhase>>['result'],
  l: Awaited<ReturnType<typeof listPhase>>,
  d: Awaited<ReturnType<typeof deletePhase>>,
  idle: Memory,
  loaded: Memory,
  after: Memory,
): void {
  const ms = (x: number | null) => (x === null ? '-' : `${(x * 1000).toFixed(1)} ms`);
  const ratio = (ours: number | null, theirs: number, higherIsBetter: boolean) =>
    ours === null || ours === 0 ? '' : `${(higherIsBetter ? ours / theirs : theirs / ours).toFixed(0)}x`;
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const rows: [string, string, string, string][] = [
    ['figure', 'nova-ts', 'real Nova (100 @ c10)', 'target'],
    ['servers ACTIVE / requested', `${c.active} / ${c.requested} (error ${c.error}, timed out ${c.timed_out})`, '', ''],
    ['create throughput', `${c.servers_per_s ?? '-'} servers/s (${ratio(c.servers_per_s, REAL_NOVA.servers_per_s, true)})`, `${REAL_NOVA.servers_per_s} servers/s`, `>= ${TARGETS.servers_per_s}: ${mark((c.servers_per_s ?? 0) >= TARGETS.servers_per_s)}`],
    ['create -> ACTIVE p50', ms(c.create_to_active_s.p50), `${REAL_NOVA.p50_s} s`, `< 200 ms: ${mark((c.create_to_active_s.p50 ?? Infinity) < TARGETS.p50_s)}`],
    ['create -> ACTIVE p95', ms(c.create_to_active_s.p95), `${REAL_NOVA.p95_s} s`, ''],
    ['create -> ACTIVE p99', ms(c.create_to_active_s.p99), '', ''],
    ['POST /servers p50 / p95', `${ms(c.post_latency_s.p50)} / ${ms(c.post_latency_s.p95)}`, '', ''],
    [`GET /servers/detail (${l.servers_returned}) p50`, ms(l.latency_s.p50), `${REAL_NOVA.list_p50_s} s (100 servers)`, ''],
    [`GET /servers/detail (${l.servers_returned}) p95`, ms(l.latency_s.p95), '', ''],
    ['delete throughput', `${d.servers_per_s} servers/s (${ratio(d.servers_per_s, REAL_NOVA.delete_per_s, true)})`, `${REAL_NOVA.delete_per_s} servers/s`, ''],
    ['RSS idle (PSS)', `${idle.rssMiB} MiB (${idle.pssMiB} MiB)`, `${REAL_NOVA.idle_rss_mib} MiB (whole stack)`, `< ${TARGETS.idle_rss_mib} MiB: ${mark(idle.rssMiB < TARGETS.idle_rss_mib)}`],
    ['RSS after create / after delete', `${loaded.rssMiB} / ${after.rssMiB} MiB (peak ${after.peakRssMiB})`, '', ''],
  ];
  const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
  for (const [i, r] of rows.entries()) {
    console.log(r.map((cell, j) => cell.padEnd(w[j])).join(' | '));
    if (i === 0) console.log(w.map((n) => '-'.repeat(n)).join('-|-'));
  }
  if (c.errors.length) console.log(`create errors: ${c.errors.join('; ')}`);
  if (d.errors.length) console.log(`delete errors: ${d.errors.join('; ')}`);
}

run()
  .then(
    (code) => (process.exitCode = code),
    async (e: unknown) => {
      const out = cloud?.output() ?? '';
      await stopCloud().catch(() => undefined);
      console.error(`boot-storm: ${e instanceof Error ? e.message : String(e)}`);
      if (out) console.error(`nova-ts output (last 4000 chars):\n${out.slice(-4000)}`);
      process.exitCode = 1;
    },
  );
