/**
 * Boot benchmark of the qemu driver, in the repo:
 *   npm run bench:qemu -- --count 5
 *
 * Starts the all-in-one cloud in this process with `driver: 'qemu'` in a temporary data dir
 * (the tiny-linux guest image is built once into, or found in, $NOVA_TS_GUEST_IMAGE_DIR or
 * <os tmpdir>/nova-ts-guest-image-cache, the cache the tests share), logs in as demo and:
 * 1. warm-up: boots one server alone (its first boot converts the image into the host's base
 *    cache) and reports it apart, then deletes it;
 * 2. boots --count servers at once (m1.tiny, tiny-linux, networks none, a `#!/bin/sh` user
 *    data that echoes a marker): per server, POST sent -> ACTIVE (GET every 50 ms) and POST
 *    sent -> the guest's `up` banner and the marker in os-getConsoleOutput (every 200 ms);
 * 3. after the guests have been idle --idle seconds: VmRSS (and Pss) of each guest's QEMU
 *    (pid from <dataDir>/qemu/<host>/<uuid>/qemu.pid) and of this process (the whole cloud);
 *    how many such guests fit: MemAvailable at start / mean RSS, and the scheduler's bounds;
 * 4. deletes them and waits until the API answers 404 and every QEMU has exited.
 * Prints a table, then one JSON line. Exit status 1 when a server failed or a QEMU was left.
 * Whatever happens (failure, Ctrl-C), the QEMUs of this run's data dir are killed by PID,
 * the cloud is closed and the data dir removed.
 */
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultConfig } from '../src/config.js';
import { hostNamespace, startCloud, type Cloud } from '../src/cloud.js';
import { guestFiles, isGuestProcess } from '../src/virt/qemu/process.js';
import { login, type Client } from '../test/helpers/cloud.js';
import { cpuTicks, isLiveQemu, killQemusOf, removeHostNamespace } from '../test/helpers/qemu.js';
import { memoryOf, type Memory } from './lib/memory.js';
import { round, summary } from './lib/stats.js';

/** The issue's targets, and the real Nova (libvirt/KVM, published tests) for comparison. */
const TARGETS = { create_to_active_p50_s: 1, create_to_user_data_p50_s: 10 };
const REAL_NOVA_KVM_TO_ACTIVE_MEDIAN_S = 12.9;

const USAGE = `Usage: npm run bench:qemu -- [options]
  --count N       servers booted at once after the warm-up one (default 5)
  --idle S        seconds the guests idle before their memory is read (default 10)
  --timeout S     per server, for ACTIVE and for its user data output (default 300)
  --microversion  compute microversion sent (default 2.37)`;

const { values: a } = parseArgs({
  options: {
    count: { type: 'string', default: '5' },
    idle: { type: 'string', default: '10' },
    timeout: { type: 'string', default: '300' },
    microversion: { type: 'string', default: '2.37' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (a.help) {
  console.log(USAGE);
  process.exit(0);
}
const num = (k: 'count' | 'idle' | 'timeout', min: number): number => {
  const n = Number(a[k]);
  if (!Number.isFinite(n) || n < min) {
    console.error(`qemu-boot: --${k} wants a number >= ${min}, got ${String(a[k])}\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const COUNT = Math.floor(num('count', 1));
const IDLE_S = num('idle', 0);
const TIMEOUT_S = num('timeout', 1);
const log = (msg: string) => process.stderr.write(`[qemu-boot] ${msg}\n`);
const S = '/compute/v2.1/servers';

let cloud: Cloud | undefined;
let dataDir: string | undefined;
let stopping = false;
/** uuid -> pid of every QEMU seen in this run's data dir (all of them this run's guests). */
const qemus = new Map<string, number>();

/** Records the live QEMUs under <dataDir>/qemu/<host>/<uuid>/qemu.pid (the pid must name the uuid). */
function scanQemus(): void {
  if (!dataDir) return;
  const root = join(dataDir, 'qemu');
  const ls = (d: string) => {
    try {
      return readdirSync(d);
    } catch {
      return [];
    }
  };
  for (const host of ls(root))
    for (const uuid of ls(join(root, host))) {
      if (!/^[0-9a-f]{8}-[0-9a-f-]{27}$/.test(uuid)) continue;
      try {
        const pid = Number(readFileSync(guestFiles(join(root, host, uuid)).pid, 'utf8').trim());
        if (isGuestProcess(pid, uuid)) qemus.set(uuid, pid);
      } catch {
        /* no pid file (yet, or any more) */
      }
    }
}

const alive = (uuids: Iterable<string>) => [...uuids].filter((u) => qemus.has(u) && isGuestProcess(qemus.get(u)!, u));

/** SIGKILLs the QEMUs of this run still alive, by PID (checked against their uuid or data dir); returns how many. */
async function killQemus(): Promise<number> {
  scanQemus();
  const left = alive(qemus.keys());
  for (const u of left) {
    try {
      process.kill(qemus.get(u)!, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
  // Second net: any QEMU whose command line names a path in this data dir (a pid file not read yet).
  const more = dataDir ? killQemusOf(dataDir).filter((p) => !left.some((u) => qemus.get(u) === p)) : [];
  const until = Date.now() + 10_000;
  while ((alive(left).length || more.some(isLiveQemu)) && Date.now() < until) await sleep(50);
  return left.length + more.length;
}

let cleaning: Promise<number> | undefined;
/** Kills leftover QEMUs, closes the cloud, kills any QEMU a build in flight started, removes the data dir. */
function cleanup(): Promise<number> {
  return (cleaning ??= (async () => {
    stopping = true;
    let killed = await killQemus();
    await cloud?.close({ removeNetworkNamespaces: true }).catch((e: unknown) => log(`closing the cloud failed: ${String(e)}`));
    killed += await killQemus();
    if (dataDir) {
      removeHostNamespace(hostNamespace(dataDir, 'host1'));
      rmSync(dataDir, { recursive: true, force: true });
    }
    return killed;
  })());
}
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    log(`${sig}: killing this run's QEMUs and closing the cloud`);
    void cleanup().finally(() => process.exit(130));
  });

interface Boot {
  id: string;
  /** Seconds from the POST being sent: its reply, ACTIVE seen, the `up` banner, the marker. */
  post_s: number;
  active_s: number | null;
  up_s: number | null;
  user_data_s: number | null;
  /** When its QEMU process was started (from /proc/<pid>/stat; 10 ms resolution). */
  qemu_started_s: number | null;
  /** The guest's own uptime when it printed the banner (its `boot took N s` line). */
  guest_boot_s: number | null;
  /** CPU seconds its QEMU had used when the banner was seen. */
  qemu_cpu_s: number | null;
  pid: number | null;
  error?: string;
}

/** Creates one server and follows it until ACTIVE and until its user data has printed its marker. */
async function boot(c: Client, name: string, flavorRef: string, imageRef: string): Promise<Boot> {
  const tag = randomBytes(4).toString('hex');
  // The shell computes 42, so only the script's output (never its text) matches.
  const userData = Buffer.from(`#!/bin/sh\necho "bench-marker-$((6 * 7))-${tag}"\n`).toString('base64');
  const want = `bench-marker-42-${tag}`;
  const t0 = performance.now();
  const tEpoch = Date.now();
  const since = () => round((performance.now() - t0) / 1000, 3);
  const late = () => performance.now() - t0 > TIMEOUT_S * 1000;
  const r = await c.post(S, { server: { name, flavorRef, imageRef, networks: 'none', user_data: userData } });
  const b: Boot = { id: r.body?.server?.id ?? '', post_s: since(), active_s: null, up_s: null, user_data_s: null, qemu_started_s: null, guest_boot_s: null, qemu_cpu_s: null, pid: null };
  if (r.status !== 202 || !b.id) return { ...b, error: `POST /servers -> ${r.status} ${JSON.stringify(r.body)}` };
  const status = async () => {
    while (!stopping && !b.error) {
      const g = await c.get(`${S}/${b.id}`);
      const st = g.body?.server?.status;
      if (st === 'ACTIVE') {
        b.active_s = since();
        scanQemus();
        b.pid = qemus.get(b.id) ?? null;
        if (b.pid) b.qemu_started_s = startedAt(b.pid, tEpoch);
        return;
      }
      if (g.status !== 200 || st === 'ERROR') b.error = `status ${g.status} ${st ?? ''} ${JSON.stringify(g.body?.server?.fault ?? g.body)}`;
      else if (late()) b.error = `not ACTIVE after ${TIMEOUT_S} s (status ${st})`;
      else await sleep(50);
    }
  };
  const console_ = async () => {
    while (!stopping && !b.error && (b.user_data_s === null || b.up_s === null)) {
      // Before the guest runs the API answers 409; keep asking.
      const o = await c.post(`${S}/${b.id}/action`, { 'os-getConsoleOutput': { length: 200 } });
      const out = o.status === 200 ? String(o.body?.output ?? '') : '';
      if (b.up_s === null && /=== tiny-linux \S+ up/.test(out)) {
        b.up_s = since();
        b.guest_boot_s = Number(/boot took ([\d.]+) s/.exec(out)?.[1] ?? NaN) || null;
        b.qemu_cpu_s = b.pid ? qemuCpuS(b.pid) : null;
      }
      if (b.user_data_s === null && out.includes(want)) b.user_data_s = since();
      if (b.user_data_s !== null && b.up_s !== null) return;
      if (late()) b.error = `no ${b.user_data_s === null ? 'user data output' : '`up` banner'} on the console after ${TIMEOUT_S} s`;
      else await sleep(200);
    }
  };
  await Promise.all([status(), console_()]);
  return b;
}

/** Deletes servers at once; seconds until the API answers 404 for all and until all their QEMUs exited. */
async function deleteAll(c: Client, ids: string[]): Promise<{ api_gone_s: number | null; qemu_gone_s: number | null; errors: string[] }> {
  const t0 = performance.now();
  const since = () => round((performance.now() - t0) / 1000, 3);
  const errors: string[] = [];
  await Promise.all(
    ids.map(async (id) => {
      const r = await c.delete(`${S}/${id}`);
      if (r.status !== 204) errors.push(`DELETE ${id} -> ${r.status} ${JSON.stringify(r.body)}`);
    }),
  );
  let apiGone: number | null = null;
  let qemuGone: number | null = null;
  while ((apiGone === null || qemuGone === null) && performance.now() - t0 < 120_000 && !stopping) {
    if (apiGone === null && (await Promise.all(ids.map((id) => c.get(`${S}/${id}`)))).every((g) => g.status === 404)) apiGone = since();
    if (qemuGone === null && alive(ids).length === 0) qemuGone = since();
    await sleep(100);
  }
  if (apiGone === null) errors.push('servers still listed 120 s after DELETE');
  if (qemuGone === null) errors.push(`QEMU still running 120 s after DELETE: ${alive(ids).join(', ')}`);
  return { api_gone_s: apiGone, qemu_gone_s: qemuGone, errors };
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
const qemuCpuS = (pid: number): number | null => {
  try {
    return round(cpuTicks(pid) / CLK_TCK, 2);
  } catch {
    return null;
  }
};

/** Seconds from `fromEpochMs` to the start of process pid (field 22 of /proc/<pid>/stat, ticks since boot). */
function startedAt(pid: number, fromEpochMs: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const uptimeS = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const bootEpochMs = Date.now() - uptimeS * 1000;
    return round((bootEpochMs + (ticks / CLK_TCK) * 1000 - fromEpochMs) / 1000, 2);
  } catch {
    return null;
  }
}

/**
 * Where a QEMU's resident memory is (MiB): the guest's RAM (the anonymous mapping of the flavor's
 * size), TCG's translated code (the anonymous rwx mapping; none under KVM), and the rest.
 */
function qemuMemory(pid: number, ramMb: number): Memory & { guest_ram: number; tcg_code: number; other: number } {
  const m = memoryOf(pid);
  let ram = 0;
  let code = 0;
  try {
    for (const block of readFileSync(`/proc/${pid}/smaps`, 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
      const [, perms, inode] = /^\S+ (\S+) \S+ \S+ (\d+)/.exec(block) ?? [];
      const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(block)?.[1] ?? 0);
      if (inode !== '0') continue;
      if (perms === 'rw-p' && kb('Size') === ramMb * 1024) ram += kb('Rss');
      else if (perms === 'rwxp') code += kb('Rss');
    }
  } catch {
    /* gone */
  }
  const mib = (k: number) => round(k / 1024, 1);
  return { ...m, guest_ram: mib(ram), tcg_code: mib(code), other: round(m.rssMiB - mib(ram) - mib(code), 1) };
}

const memAvailableMiB = () => Number(/^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024;
const times = (bs: Boot[], k: 'active_s' | 'qemu_started_s' | 'up_s' | 'user_data_s' | 'post_s') => summary(bs.flatMap((b) => (b[k] === null ? [] : [b[k]])));

async function run(): Promise<number> {
  const loadBefore = loadavg().map((x) => round(x, 2));
  const memAvailable = Math.round(memAvailableMiB());
  dataDir = mkdtempSync(join(tmpdir(), 'nova-ts-bench-qemu-'));
  const config = defaultConfig({ dataDir, listenPort: 0, driver: 'qemu' });
  config.databaseUrl = `sqlite:${join(dataDir, 'nova.db')}`;
  config.qemu = { ...config.qemu, guestImageDir: process.env.NOVA_TS_GUEST_IMAGE_DIR ?? join(tmpdir(), 'nova-ts-guest-image-cache') };
  const t = performance.now();
  cloud = await startCloud(config);
  const startS = round((performance.now() - t) / 1000, 2);
  log(`cloud ready in ${startS} s at ${cloud.url} (${cloud.driverSummary}), data dir ${dataDir}`);
  const demo = await login(cloud.url, 'demo', cloud.secrets.demoPassword, 'demo');
  demo.microversion = a.microversion;
  const flavor = (await demo.get(`/compute/v2.1/flavors/detail`)).body?.flavors?.find((f: any) => f.name === 'm1.tiny');
  const imageId = (await demo.get('/image/v2/images?name=tiny-linux')).body?.images?.[0]?.id;
  if (!flavor || !imageId) throw new Error(`flavor m1.tiny -> ${flavor?.id}, image tiny-linux -> ${imageId}`);
  const novaIdle = memoryOf(process.pid);

  log('warm-up: one server alone (its first boot converts the image into the base cache)');
  const warm = await boot(demo, 'bench-warmup', flavor.id, imageId);
  log(`warm-up: ${JSON.stringify(warm)}`);
  if (warm.error) throw new Error(`warm-up server failed: ${warm.error}`);
  const warmDelete = await deleteAll(demo, [warm.id]);

  log(`${COUNT} servers at once`);
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  const boots = await Promise.all(Array.from({ length: COUNT }, (_, i) => boot(demo, `bench-${i + 1}`, flavor.id, imageId)));
  const batchWallS = round((performance.now() - t1) / 1000, 2);
  const cpu = process.cpuUsage(cpu0);
  const novaCpuS = round((cpu.user + cpu.system) / 1e6, 2);
  for (const b of boots) log(`server ${b.id || '-'}: ${JSON.stringify(b)}`);
  const ok = boots.filter((b) => !b.error);
  const running = ok.filter((b) => b.pid !== null);

  log(`guests idle ${IDLE_S} s before their memory is read`);
  await sleep(IDLE_S * 1000);
  const guestMem = running.map((b) => qemuMemory(b.pid!, flavor.ram)).filter((m) => m.rssMiB > 0);
  const mean = (k: 'rssMiB' | 'pssMiB' | 'guest_ram' | 'tcg_code' | 'other') =>
    guestMem.length ? round(guestMem.reduce((x, m) => x + m[k], 0) / guestMem.length, 1) : null;
  const rss = guestMem.map((m) => m.rssMiB);
  const meanRss = mean('rssMiB');
  const novaLoaded = memoryOf(process.pid);
  // The scheduler's bound: usable capacity = (total - reserved) x allocation ratio, per resource.
  const node = await cloud.sql.get<any>(
    'SELECT vcpus, memory_mb, local_gb, cpu_allocation_ratio, ram_allocation_ratio, disk_allocation_ratio, reserved_host_cpus, reserved_host_memory_mb, reserved_host_disk_mb FROM compute_nodes WHERE deleted = 0',
  );
  const fit = (total: number, reserved: number, ratio: number, per: number) => (per > 0 ? Math.floor(((total - reserved) * ratio) / per) : null);
  const scheduler = node && {
    ram: fit(node.memory_mb, node.reserved_host_memory_mb, node.ram_allocation_ratio, flavor.ram),
    vcpus: fit(node.vcpus, node.reserved_host_cpus, node.cpu_allocation_ratio, flavor.vcpus),
    disk: fit(node.local_gb, Math.ceil(node.reserved_host_disk_mb / 1024), node.disk_allocation_ratio, flavor.disk),
    ratios: { ram: node.ram_allocation_ratio, vcpus: node.cpu_allocation_ratio, disk: node.disk_allocation_ratio },
  };
  const quota = (await demo.get(`/compute/v2.1/os-quota-sets/${demo.projectId}`)).body?.quota_set?.instances ?? null;

  log('deleting them');
  const del = await deleteAll(demo, ok.map((b) => b.id));
  const killed = await cleanup();

  const result = {
    date: new Date().toISOString(),
    command: `npm run bench:qemu -- ${process.argv.slice(2).join(' ')}`.trim(),
    commit: gitDescribe(),
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', total_mib: Math.round(totalmem() / 1048576), mem_available_mib_at_start: memAvailable },
    driver: cloud.driverSummary,
    node: process.version,
    load_avg: { before: loadBefore, after: loadavg().map((x) => round(x, 2)) },
    cloud_start_s: startS,
    warmup: { ...warm, delete: warmDelete },
    count: COUNT,
    create_to_active_s: times(boots, 'active_s'),
    create_to_qemu_started_s: times(boots, 'qemu_started_s'),
    create_to_up_banner_s: times(boots, 'up_s'),
    create_to_user_data_s: times(boots, 'user_data_s'),
    post_s: times(boots, 'post_s'),
    guest_boot_s: summary(boots.flatMap((b) => (b.guest_boot_s === null ? [] : [b.guest_boot_s]))),
    batch: { wall_s: batchWallS, qemu_cpu_s_to_up: round(boots.reduce((x, b) => x + (b.qemu_cpu_s ?? 0), 0), 2), nova_ts_cpu_s: novaCpuS },
    servers: boots,
    guest_memory_mib: {
      idle_s: IDLE_S,
      n: rss.length,
      rss_mean: meanRss,
      rss_max: rss.length ? Math.max(...rss) : null,
      pss_mean: mean('pssMiB'),
      // Of the RSS: the guest's RAM it has touched, TCG's translated code, QEMU itself.
      guest_ram_mean: mean('guest_ram'),
      tcg_code_mean: mean('tcg_code'),
      other_mean: mean('other'),
      flavor_ram_mb: flavor.ram,
    },
    fit: {
      by_mem_available: meanRss ? Math.floor(memAvailable / meanRss) : null,
      by_scheduler: scheduler,
      demo_quota_instances: quota,
    },
    nova_ts_memory_mib: { before_guests: novaIdle, with_guests: novaLoaded },
    delete: del,
    qemus_killed_at_cleanup: killed,
    targets: TARGETS,
    real_nova_kvm_to_active_median_s: REAL_NOVA_KVM_TO_ACTIVE_MEDIAN_S,
  };
  printTable(result);
  console.log(JSON.stringify(result));
  return ok.length === COUNT && boots.every((b) => b.user_data_s !== null) && del.errors.length === 0 && warmDelete.errors.length === 0 && killed === 0 ? 0 : 1;
}

function printTable(r: any): void {
  const s = (x: number | null) => (x === null ? '-' : `${x.toFixed(2)} s`);
  const trio = (x: any) => `${s(x.p50)} / ${s(x.p95)} / ${s(x.max)}`;
  const mark = (v: number | null, lim: number) => (v !== null && v < lim ? 'met' : 'MISSED');
  const f = r.fit;
  const rows: [string, string][] = [
    ['machine', `${r.machine.cpus} x ${r.machine.cpu_model}, ${r.machine.total_mib} MiB, ${r.driver}, commit ${r.commit}`],
    ['cloud start (guest image ready)', s(r.cloud_start_s)],
    ['warm-up: -> ACTIVE / up / user data', `${s(r.warmup.active_s)} / ${s(r.warmup.up_s)} / ${s(r.warmup.user_data_s)} (guest's own boot ${s(r.warmup.guest_boot_s)}, QEMU CPU ${s(r.warmup.qemu_cpu_s)})`],
    [`${r.count} at once: -> ACTIVE p50/p95/max`, `${trio(r.create_to_active_s)} (target p50 < ${TARGETS.create_to_active_p50_s} s: ${mark(r.create_to_active_s.p50, TARGETS.create_to_active_p50_s)}; real Nova on KVM: median ${REAL_NOVA_KVM_TO_ACTIVE_MEDIAN_S} s)`],
    [`${r.count} at once: -> QEMU process started`, trio(r.create_to_qemu_started_s)],
    [`${r.count} at once: -> up banner`, trio(r.create_to_up_banner_s)],
    [`${r.count} at once: -> user data output`, `${trio(r.create_to_user_data_s)} (target p50 < ${TARGETS.create_to_user_data_p50_s} s: ${mark(r.create_to_user_data_s.p50, TARGETS.create_to_user_data_p50_s)})`],
    ['POST /servers p50 / max', `${s(r.post_s.p50)} / ${s(r.post_s.max)}`],
    [`${r.count} at once: guest's own boot time / QEMU CPU to up`, `${s(r.guest_boot_s.p50)} p50 / ${s(r.batch.qemu_cpu_s_to_up / r.count)} mean (all: ${s(r.batch.qemu_cpu_s_to_up)} CPU in ${s(r.batch.wall_s)}; nova-ts + client ${s(r.batch.nova_ts_cpu_s)} CPU)`],
    [`QEMU RSS per idle ${r.guest_memory_mib.flavor_ram_mb} MB guest, mean / max`, `${r.guest_memory_mib.rss_mean} / ${r.guest_memory_mib.rss_max} MiB (Pss ${r.guest_memory_mib.pss_mean}; guest RAM ${r.guest_memory_mib.guest_ram_mean} + TCG code ${r.guest_memory_mib.tcg_code_mean} + QEMU ${r.guest_memory_mib.other_mean})`],
    ['guests that fit', `${f.by_mem_available ?? '-'} by RSS (MemAvailable ${r.machine.mem_available_mib_at_start} MiB); scheduler: ${f.by_scheduler ? `${f.by_scheduler.ram} by RAM, ${f.by_scheduler.vcpus} by vCPU, ${f.by_scheduler.disk} by disk` : '-'}; demo quota ${f.demo_quota_instances}`],
    ['nova-ts RSS before guests / with guests', `${r.nova_ts_memory_mib.before_guests.rssMiB} / ${r.nova_ts_memory_mib.with_guests.rssMiB} MiB`],
    ['delete: API 404 / QEMUs exited', `${s(r.delete.api_gone_s)} / ${s(r.delete.qemu_gone_s)}`],
  ];
  const w = Math.max(...rows.map((x) => x[0].length));
  for (const [k, v] of rows) console.log(`${k.padEnd(w)} | ${v}`);
  for (const b of r.servers as Boot[]) if (b.error) console.log(`server ${b.id || '-'} failed: ${b.error}`);
  for (const e of r.delete.errors as string[]) console.log(`delete: ${e}`);
  if (r.qemus_killed_at_cleanup) console.log(`cleanup killed ${r.qemus_killed_at_cleanup} QEMU(s) the deletes had left`);
}

/** HEAD's short hash, with `+dirty` when tracked files under src/ have changes. */
function gitDescribe(): string {
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' });
  if (head.status !== 0) return 'unknown';
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src'], { cwd, encoding: 'utf8' });
  return head.stdout.trim() + (dirty.stdout.trim() ? '+dirty' : '');
}

run().then(
  (code) => (process.exitCode = code),
  async (e: unknown) => {
    log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    const killed = await cleanup().catch(() => 0);
    if (killed) log(`killed ${killed} QEMU(s) of this run`);
    process.exitCode = 1;
  },
);
