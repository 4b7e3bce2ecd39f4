/**
 * Network benchmark (issue 4), in the repo:
 *   npm run bench:network
 *
 * Four phases, each in this process, each cleaning up after itself:
 * - api (fake driver cloud, admin with its compute quota raised): --ports Neutron ports created
 *   on the shared network `private` by --concurrency workers (POST /network/v2.0/ports), then
 *   as many servers on `private` (POST /servers, networks [{uuid}]) with one poller
 *   (GET /servers/detail every 100 ms) stamping ACTIVE; this process's RSS along the way.
 * - agent: the network agent (createLinuxAgent) alone in a namespace of this benchmark's own,
 *   fed a synthetic host state of --agent-ports ports (as src/network/agent/agent-scale.test.ts):
 *   iptables rules, first sync, idle resync, one rule added to the ports' group, scattered
 *   remote-group members (no CIDR aggregation).
 * - boot (qemu driver cloud, logged in as demo over HTTP): a group `bench-web` (TCP 80 ingress
 *   from 0.0.0.0/0); one warm-up server alone, then --count servers at once on `private` with
 *   that group. Per server: POST sent -> ACTIVE (GET every 50 ms), POST sent -> first HTTP 200
 *   on its port 80, as seen by one prober process inside the host's namespace (each address
 *   polled every 100 ms, attempts overlapping, so a SYN lost to ARP does not delay it).
 * - rules (same cloud, two of the guests kept): a TCP rule (a new port each time) added to
 *   `bench-web`: POST sent -> the rule is in the ingress chains of both guests' ports in
 *   `ip netns exec <ns> iptables-save` (polled every 20 ms); then its DELETE -> gone from
 *   both. --rule-repeats times. (The namespace's own traffic to a guest is not filtered by
 *   the guest's ingress rules, see src/network/agent/firewall.ts, so a probe from the
 *   namespace could not see a rule take effect; the iptables state is what is measured.)
 * Prints a table, then one JSON line. Exit status 1 when something failed. On any failure or
 * Ctrl-C: the prober is killed, the QEMUs of this run's data dir are killed by PID, the clouds
 * closed with their namespaces removed, the agent's namespace removed, the data dirs deleted.
 */
import { parseArgs } from 'node:util';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultConfig } from '../src/config.js';
import { hostNamespace, startCloud, type Cloud } from '../src/cloud.js';
import { InProcessBus } from '../src/bus/in-process.js';
import { createLinuxAgent, type LinuxNetworkAgent, type SyncStats } from '../src/network/agent/agent.js';
import { ingressChain } from '../src/network/agent/firewall.js';
import { syntheticHostState } from '../src/network/agent/synthetic-state.js';
import type { HostNetworkState } from '../src/network/types.js';
import { guestFiles, isGuestProcess } from '../src/virt/qemu/process.js';
import { login, type Client } from '../test/helpers/cloud.js';
import { killQemusOf } from '../test/helpers/qemu.js';
import { memoryOf } from './lib/memory.js';
import { round, summary } from './lib/stats.js';

const USAGE = `Usage: npm run bench:network -- [options]
  --phases LIST     comma-separated, of api,agent,boot,rules (default all)
  --count N         guests booted at once in phase boot (default 5; rules keeps 2 of them)
  --ports N         ports, then servers, created through the API in phase api (default 200)
  --concurrency N   API workers in phase api (default 10)
  --agent-ports N   ports of the synthetic host in phase agent (default 200)
  --rule-repeats N  rule additions (and deletions) timed in phase rules (default 10)
  --timeout S       per guest, for ACTIVE and for HTTP 200 (default 300)`;

const { values: a } = parseArgs({
  options: {
    phases: { type: 'string', default: 'api,agent,boot,rules' },
    count: { type: 'string', default: '5' },
    ports: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '10' },
    'agent-ports': { type: 'string', default: '200' },
    'rule-repeats': { type: 'string', default: '10' },
    timeout: { type: 'string', default: '300' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (a.help) {
  console.log(USAGE);
  process.exit(0);
}
const num = (k: 'count' | 'ports' | 'concurrency' | 'agent-ports' | 'rule-repeats' | 'timeout', min: number): number => {
  const n = Number(a[k]);
  if (!Number.isInteger(n) || n < min) {
    console.error(`network: --${k} wants an integer >= ${min}, got ${String(a[k])}\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const PHASES = new Set(a.phases!.split(',').map((s) => s.trim()));
for (const p of PHASES)
  if (!['api', 'agent', 'boot', 'rules'].includes(p)) {
    console.error(`network: unknown phase ${p}\n${USAGE}`);
    process.exit(2);
  }
const COUNT = num('count', PHASES.has('rules') ? 2 : 1);
const API_N = num('ports', 1);
const CONC = num('concurrency', 1);
const AGENT_N = num('agent-ports', 1);
const REPEATS = num('rule-repeats', 1);
const TIMEOUT_S = num('timeout', 1);
const log = (msg: string) => process.stderr.write(`[network] ${msg}\n`);
const S = '/compute/v2.1/servers';
const N = '/network/v2.0';
const secs = (ms: number) => round(ms / 1000, 3);

// ---- everything to clean up ----------------------------------------------------------------
const clouds = new Set<{ cloud?: Cloud; dataDir: string }>();
let prober: ChildProcess | null = null;
let agent: LinuxNetworkAgent | null = null;
let agentNetns: string | null = null;
let agentDir: string | null = null;
let stopping = false;

/** Live QEMUs under <dataDir>/qemu/<host>/<uuid>/qemu.pid (pid checked against its uuid). */
function qemusOf(dataDir: string): number[] {
  const ls = (d: string) => {
    try {
      return readdirSync(d);
    } catch {
      return [];
    }
  };
  const pids: number[] = [];
  const root = join(dataDir, 'qemu');
  for (const host of ls(root))
    for (const uuid of ls(join(root, host))) {
      try {
        const pid = Number(readFileSync(guestFiles(join(root, host, uuid)).pid, 'utf8').trim());
        if (isGuestProcess(pid, uuid)) pids.push(pid);
      } catch {
        /* no pid file */
      }
    }
  return pids;
}

async function killQemus(dataDir: string): Promise<number> {
  const pids = qemusOf(dataDir);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
  const more = killQemusOf(dataDir).filter((p) => !pids.includes(p));
  const until = Date.now() + 10_000;
  while (qemusOf(dataDir).length && Date.now() < until) await sleep(50);
  return pids.length + more.length;
}

const netnsExists = (ns: string) => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').some((l) => l.split(' ')[0] === ns);

async function closeCloud(c: { cloud?: Cloud; dataDir: string }): Promise<number> {
  clouds.delete(c);
  let killed = await killQemus(c.dataDir);
  await c.cloud?.close({ removeNetworkNamespaces: true }).catch((e: unknown) => log(`closing a cloud failed: ${String(e)}`));
  killed += await killQemus(c.dataDir);
  for (const host of c.cloud?.hosts ?? ['host1']) {
    const ns = hostNamespace(c.dataDir, host);
    if (netnsExists(ns)) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
  rmSync(c.dataDir, { recursive: true, force: true });
  return killed;
}

function killProber(): void {
  if (prober?.pid && prober.exitCode === null) {
    try {
      process.kill(prober.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  prober = null;
}

async function stopAgent(): Promise<void> {
  await agent?.stop({ removeNamespace: true }).catch((e: unknown) => log(`stopping the agent failed: ${String(e)}`));
  agent = null;
  if (agentNetns && netnsExists(agentNetns)) spawnSync('ip', ['netns', 'del', agentNetns], { stdio: 'ignore' });
  agentNetns = null;
  if (agentDir) rmSync(agentDir, { recursive: true, force: true });
  agentDir = null;
}

let cleaning: Promise<number> | undefined;
function cleanup(): Promise<number> {
  return (cleaning ??= (async () => {
    stopping = true;
    killProber();
    await stopAgent();
    let killed = 0;
    for (const c of [...clouds]) killed += await closeCloud(c);
    return killed;
  })());
}
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    log(`${sig}: killing the prober and this run's QEMUs, removing namespaces`);
    void cleanup().finally(() => process.exit(130));
  });

async function newCloud(driver: 'fake' | 'qemu'): Promise<{ cloud: Cloud; dataDir: string; startS: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), `nova-ts-bench-net-${driver}-`));
  const entry: { cloud?: Cloud; dataDir: string } = { dataDir };
  clouds.add(entry);
  const config = defaultConfig({ dataDir, listenPort: 0, driver });
  config.databaseUrl = `sqlite:${join(dataDir, 'nova.db')}`;
  if (driver === 'qemu') config.qemu = { ...config.qemu, guestImageDir: process.env.NOVA_TS_GUEST_IMAGE_DIR ?? join(tmpdir(), 'nova-ts-guest-image-cache') };
  // Enough vCPUs for --ports m1.tiny servers on the one fake host (ratio 4).
  else config.fake = { ...config.fake, vcpus: Math.max(config.fake.vcpus, Math.ceil(API_N / 4) + 1) };
  const t = performance.now();
  entry.cloud = await startCloud(config);
  return { cloud: entry.cloud, dataDir, startS: secs(performance.now() - t) };
}

/** Runs fn over items with at most `conc` in flight. */
async function pool<T, R>(items: T[], conc: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(conc, items.length) }, async () => {
      while (next < items.length && !stopping) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

const rss = () => memoryOf(process.pid).rssMiB;
async function privateNetwork(c: Client): Promise<string> {
  const id = (await c.get(`${N}/networks?name=private`)).body?.networks?.[0]?.id;
  if (!id) throw new Error('no network named private');
  return id;
}

// ---- phase api: ports and servers through the API (fake driver) -----------------------------
async function phaseApi(): Promise<Record<string, unknown>> {
  const rss0 = rss();
  const { cloud, dataDir, startS } = await newCloud('fake');
  const entry = [...clouds].find((c) => c.dataDir === dataDir)!;
  try {
    await sleep(2000);
    const rssStarted = rss();
    const admin = await login(cloud.url, 'admin', cloud.secrets.adminPassword, 'admin');
    admin.microversion = '2.37';
    const q = await admin.put(`/compute/v2.1/os-quota-sets/${admin.projectId}`, { quota_set: { instances: -1, cores: -1, ram: -1 } });
    if (q.status !== 200) throw new Error(`raising admin's quota: ${q.status} ${JSON.stringify(q.body)}`);
    const net = await privateNetwork(admin);
    const flavor = (await admin.get('/compute/v2.1/flavors/detail')).body?.flavors?.find((f: any) => f.name === 'm1.tiny')?.id;
    const image = (await admin.get('/image/v2/images?name=tiny-linux')).body?.images?.[0]?.id;
    if (!flavor || !image) throw new Error(`flavor m1.tiny ${flavor}, image tiny-linux ${image}`);
    const idx = Array.from({ length: API_N }, (_, i) => i);
    const errors: string[] = [];

    log(`api: ${API_N} ports on private, ${CONC} at a time`);
    let t0 = performance.now();
    const ports = await pool(idx, CONC, async (i) => {
      const t = performance.now();
      const r = await admin.post(`${N}/ports`, { port: { network_id: net, name: `bench-port-${i}` } });
      if (r.status !== 201) errors.push(`POST port -> ${r.status} ${JSON.stringify(r.body)}`);
      return { id: r.body?.port?.id as string | undefined, ip: r.body?.port?.fixed_ips?.[0]?.ip_address as string | undefined, s: secs(performance.now() - t) };
    });
    const portsWall = secs(performance.now() - t0);
    const okPorts = ports.filter((p) => p.id);
    const uniqueIps = new Set(okPorts.map((p) => p.ip)).size;
    const rssPorts = rss();
    t0 = performance.now();
    await pool(okPorts, CONC, async (p) => {
      const r = await admin.delete(`${N}/ports/${p.id}`);
      if (r.status !== 204) errors.push(`DELETE port -> ${r.status} ${JSON.stringify(r.body)}`);
    });
    const portsDeleteWall = secs(performance.now() - t0);

    log(`api: ${API_N} servers on private, ${CONC} at a time`);
    const sent = new Map<string, number>();
    const active = new Map<string, number>();
    let posting = true;
    const poller = (async () => {
      while ((posting || active.size < sent.size) && !stopping && performance.now() - t0 < TIMEOUT_S * 1000) {
        const r = await admin.get(`${S}/detail?name=bench-srv-&limit=1000`);
        const now = performance.now();
        for (const s of r.body?.servers ?? []) {
          if (s.status === 'ACTIVE' && !active.has(s.id) && sent.has(s.id)) active.set(s.id, now);
          if (s.status === 'ERROR' && !active.has(s.id)) errors.push(`server ${s.id} ERROR: ${JSON.stringify(s.fault)}`);
        }
        if (errors.length) break;
        await sleep(100);
      }
    })();
    t0 = performance.now();
    const posts = await pool(idx, CONC, async (i) => {
      const t = performance.now();
      const r = await admin.post(S, { server: { name: `bench-srv-${i}`, flavorRef: flavor, imageRef: image, networks: [{ uuid: net }] } });
      const id = r.body?.server?.id as string | undefined;
      if (r.status !== 202 || !id) errors.push(`POST server -> ${r.status} ${JSON.stringify(r.body)}`);
      else sent.set(id, t);
      return secs(performance.now() - t);
    });
    posting = false;
    await poller;
    const serversWall = secs(Math.max(...active.values(), t0) - t0);
    const toActive = [...active].map(([id, t]) => secs(t - sent.get(id)!));
    const serverPorts = (await admin.get(`${N}/ports?network_id=${net}&device_owner=compute:nova`)).body?.ports?.length ?? null;
    const rssServers = rss();
    t0 = performance.now();
    await pool([...sent.keys()], CONC, async (id) => {
      const r = await admin.delete(`${S}/${id}`);
      if (r.status !== 204) errors.push(`DELETE server -> ${r.status}`);
    });
    while (!stopping && performance.now() - t0 < 120_000) {
      const left = (await admin.get(`${S}?name=bench-srv-&limit=1000`)).body?.servers?.length ?? 0;
      const leftPorts = (await admin.get(`${N}/ports?network_id=${net}&device_owner=compute:nova`)).body?.ports?.length ?? 0;
      if (!left && !leftPorts) break;
      await sleep(100);
    }
    const serversDeleteWall = secs(performance.now() - t0);
    if (active.size !== API_N) errors.push(`${active.size} of ${API_N} servers seen ACTIVE`);
    if (uniqueIps !== API_N) errors.push(`${uniqueIps} distinct IPs for ${API_N} ports`);
    return {
      driver: cloud.driverSummary,
      cloud_start_s: startS,
      n: API_N,
      concurrency: CONC,
      ports: { created: okPorts.length, distinct_ips: uniqueIps, wall_s: portsWall, per_s: round(okPorts.length / portsWall, 1), post_s: summary(ports.map((p) => p.s)), delete_wall_s: portsDeleteWall },
      servers: { active: active.size, ports_seen: serverPorts, wall_s: serversWall, per_s: round(active.size / serversWall, 1), post_s: summary(posts), create_to_active_s: summary(toActive), delete_wall_s: serversDeleteWall },
      rss_mib: { before_cloud: rss0, cloud_started: rssStarted, with_ports: rssPorts, with_servers: rssServers, after_delete: rss() },
      errors: errors.slice(0, 10),
    };
  } finally {
    await closeCloud(entry);
  }
}

// ---- phase agent: the agent alone with a synthetic host of AGENT_N ports --------------------
function syntheticState(step: number, netId: string, subId: string, ids: string[]): HostNetworkState {
  return syntheticHostState({ host: 'bench', netId, subnetId: subId, portIds: ids, step });
}

async function phaseAgent(): Promise<Record<string, unknown>> {
  agentNetns = `nts-bench-${process.pid}`;
  agentDir = mkdtempSync(join(tmpdir(), 'nova-ts-bench-net-agent-'));
  const bus = new InProcessBus();
  const netId = randomUUID();
  const subId = randomUUID();
  const ids = Array.from({ length: AGENT_N }, () => randomUUID());
  let state = syntheticState(1, netId, subId, ids);
  try {
    agent = createLinuxAgent({ host: 'bench', netns: agentNetns, bus, source: { hostState: async () => state }, metadataSocket: null, stateDir: join(agentDir, 'state'), log: () => undefined });
    const view = (s: SyncStats) => ({
      rules: s.rules,
      applied: s.firewallApplied,
      link_changes: s.linkChanges,
      links_ms: Math.round(s.linksMs),
      iptables_ms: Math.round(s.firewallMs),
      dnsmasq_ms: Math.round(s.dhcpMs),
      total_ms: Math.round(s.totalMs),
    });
    log(`agent: ${AGENT_N} ports in namespace ${agentNetns}`);
    const t0 = performance.now();
    await agent.start();
    const startMs = Math.round(performance.now() - t0);
    const first = view(agent.lastSync()!);
    const save = spawnSync('ip', ['netns', 'exec', agentNetns, 'iptables-save', '-t', 'filter'], { encoding: 'utf8' }).stdout;
    const saveRules = save.split('\n').filter((l) => l.startsWith('-A ')).length;
    await agent.sync();
    const idle = view(agent.lastSync()!);
    for (const p of state.ports) p.ingress.push({ ethertype: 'IPv4', protocol: 'tcp', port_min: 443, port_max: 443, remote: null });
    await agent.sync();
    const ruleAdded = view(agent.lastSync()!);
    state = syntheticState(2, netId, subId, ids);
    await agent.sync();
    const scattered = view(agent.lastSync()!);
    const t1 = performance.now();
    await stopAgent();
    const removeMs = Math.round(performance.now() - t1);
    return { ports: AGENT_N, start_ms: startMs, iptables_save_rules: saveRules, first_sync: first, idle_resync: idle, one_rule_added_to_group: ruleAdded, scattered_members: scattered, stop_and_remove_namespace_ms: removeMs };
  } finally {
    await stopAgent();
    await bus.close();
  }
}

// ---- phases boot and rules: real guests (qemu driver) ----------------------------------------
/**
 * Runs in the host's namespace: reads `<ip> <server name>` lines on stdin, polls http://<ip>/ every
 * 100 ms (attempts overlap) and prints `ok <ip> <epoch ms>` at the first HTTP 200 whose page names
 * that server (tiny-linux serves `<h1>name</h1>`), so an earlier guest with the same address cannot answer for it.
 */
const PROBER = `
import http from 'node:http';
import { createInterface } from 'node:readline';
const polling = new Map();
const attempt = (ip, want) => {
  const req = http.get({ host: ip, port: 80, path: '/', agent: false, timeout: 2000 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d) => (body += d));
    res.on('end', () => {
      if (res.statusCode === 200 && body.includes(want) && polling.has(ip)) {
        clearInterval(polling.get(ip));
        polling.delete(ip);
        process.stdout.write('ok ' + ip + ' ' + Date.now() + '\\n');
      }
    });
  });
  req.on('timeout', () => req.destroy());
  req.on('error', () => {});
};
createInterface({ input: process.stdin }).on('line', (l) => {
  const [ip, name] = l.trim().split(' ');
  if (!/^[0-9.]+$/.test(ip) || !name || polling.has(ip)) return;
  const want = '<h1>' + name + '</h1>';
  polling.set(ip, setInterval(() => attempt(ip, want), 100));
  attempt(ip, want);
}).on('close', () => process.exit(0));
process.stdout.write('ready\\n');
`;

interface Prober {
  /** Epoch ms of the first HTTP 200 from the guest `name` at ip (watched anew each call). */
  watch(ip: string, name: string): Promise<number>;
}

async function startProber(ns: string, dir: string): Promise<Prober> {
  const file = join(dir, 'probe.mjs');
  writeFileSync(file, PROBER);
  const p = spawn('ip', ['netns', 'exec', ns, process.execPath, file], { stdio: ['pipe', 'pipe', 'inherit'] });
  prober = p;
  const waiting = new Map<string, (ms: number) => void>();
  let ready: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  createInterface({ input: p.stdout! }).on('line', (line) => {
    if (line === 'ready') return ready();
    const [, ip, ms] = line.split(' ');
    waiting.get(ip)?.(Number(ms));
  });
  await Promise.race([isReady, sleep(10_000, undefined, { ref: false }).then(() => Promise.reject(new Error('the prober did not start')))]);
  return {
    watch(ip, name) {
      p.stdin!.write(`${ip} ${name}\n`);
      return new Promise((r) => waiting.set(ip, r));
    },
  };
}

interface Boot {
  id: string;
  ip: string | null;
  post_s: number;
  active_s: number | null;
  http_s: number | null;
  error?: string;
}

async function boot(c: Client, probe: Prober, name: string, ctx: { flavor: string; image: string; net: string }): Promise<Boot> {
  const t0 = performance.now();
  const e0 = Date.now();
  const late = () => performance.now() - t0 > TIMEOUT_S * 1000;
  const r = await c.post(S, { server: { name, flavorRef: ctx.flavor, imageRef: ctx.image, networks: [{ uuid: ctx.net }], security_groups: [{ name: 'bench-web' }] } });
  const b: Boot = { id: r.body?.server?.id ?? '', ip: null, post_s: secs(performance.now() - t0), active_s: null, http_s: null };
  if (r.status !== 202 || !b.id) return { ...b, error: `POST /servers -> ${r.status} ${JSON.stringify(r.body)}` };
  let http: Promise<void> | null = null;
  while (!stopping && b.active_s === null && !b.error) {
    const g = await c.get(`${S}/${b.id}`);
    const s = g.body?.server;
    const ip = s?.addresses?.private?.[0]?.addr;
    if (ip && !http) {
      b.ip = ip;
      http = probe.watch(ip, name).then((ms) => void (b.http_s = secs(ms - e0)));
    }
    if (s?.status === 'ACTIVE') b.active_s = secs(performance.now() - t0);
    else if (g.status !== 200 || s?.status === 'ERROR') b.error = `status ${g.status} ${s?.status ?? ''} ${JSON.stringify(s?.fault ?? g.body)}`;
    else if (late()) b.error = `not ACTIVE after ${TIMEOUT_S} s`;
    else await sleep(50);
  }
  if (b.error) return b;
  if (!http) return { ...b, error: 'ACTIVE without an address on private' };
  const left = Math.max(1, TIMEOUT_S * 1000 - (performance.now() - t0));
  await Promise.race([http, sleep(left, undefined, { ref: false })]);
  if (b.http_s === null) b.error = `no HTTP 200 on ${b.ip}:80 after ${TIMEOUT_S} s`;
  return b;
}

async function deleteServers(c: Client, ids: string[]): Promise<number | null> {
  const t0 = performance.now();
  await Promise.all(ids.map((id) => c.delete(`${S}/${id}`)));
  while (performance.now() - t0 < 120_000 && !stopping) {
    if ((await Promise.all(ids.map((id) => c.get(`${S}/${id}`)))).every((g) => g.status === 404)) return secs(performance.now() - t0);
    await sleep(100);
  }
  return null;
}

const iptablesSave = (ns: string) =>
  new Promise<string>((resolve, reject) =>
    execFile('ip', ['netns', 'exec', ns, 'iptables-save', '-t', 'filter'], { maxBuffer: 64 << 20 }, (e, out) => (e ? reject(e) : resolve(out))),
  );

/** Times --rule-repeats additions and deletions of a TCP rule on bench-web until the iptables state shows them. */
async function phaseRules(c: Client, ns: string, group: string, serverIds: string[]): Promise<Record<string, unknown>> {
  const portIds: string[] = [];
  for (const id of serverIds) for (const p of (await c.get(`${N}/ports?device_id=${id}`)).body?.ports ?? []) portIds.push(p.id);
  const chains = portIds.map(ingressChain);
  const count = (save: string, port: number) =>
    save.split('\n').filter((l) => chains.some((ch) => l.startsWith(`-A ${ch} `)) && l.includes(` --dport ${port} `)).length;
  /** Polls every 20 ms until pred holds of the save; seconds from t0, polls made. */
  const until = async (t0: number, pred: (save: string) => boolean): Promise<{ s: number | null; polls: number }> => {
    let polls = 0;
    while (!stopping && performance.now() - t0 < 30_000) {
      const t = performance.now();
      polls++;
      if (pred(await iptablesSave(ns))) return { s: secs(performance.now() - t0), polls };
      await sleep(Math.max(0, 20 - (performance.now() - t)));
    }
    return { s: null, polls };
  };
  const adds: number[] = [];
  const dels: number[] = [];
  const replies: number[] = [];
  const errors: string[] = [];
  const saveMs: number[] = [];
  for (let i = 0; i < REPEATS && !stopping; i++) {
    const port = 20000 + i;
    if (count(await iptablesSave(ns), port) !== 0) errors.push(`port ${port} already in the rules`);
    await sleep(300 + Math.random() * 700); // not in step with the agent's debounce or resync
    let t0 = performance.now();
    const r = await c.post(`${N}/security-group-rules`, {
      security_group_rule: { security_group_id: group, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: port, port_range_max: port, remote_ip_prefix: '0.0.0.0/0' },
    });
    replies.push(secs(performance.now() - t0));
    if (r.status !== 201) {
      errors.push(`POST rule -> ${r.status} ${JSON.stringify(r.body)}`);
      break;
    }
    const add = await until(t0, (s) => count(s, port) === chains.length);
    if (add.s === null) errors.push(`rule for port ${port} not in iptables after 30 s`);
    else adds.push(add.s);
    await sleep(300 + Math.random() * 700);
    t0 = performance.now();
    const d = await c.delete(`${N}/security-group-rules/${r.body.security_group_rule.id}`);
    if (d.status !== 204) errors.push(`DELETE rule -> ${d.status}`);
    const del = await until(t0, (s) => count(s, port) === 0);
    if (del.s === null) errors.push(`rule for port ${port} still in iptables 30 s after its DELETE`);
    else dels.push(del.s);
    const t = performance.now();
    await iptablesSave(ns);
    saveMs.push(performance.now() - t);
  }
  return {
    measured: 'API call sent -> the rule present in (or gone from) the ingress chain of every port of the group in `ip netns exec <ns> iptables-save`, polled every 20 ms',
    guests: serverIds.length,
    chains: chains.length,
    repeats: REPEATS,
    post_reply_s: summary(replies),
    add_s: summary(adds),
    delete_s: summary(dels),
    iptables_save_ms: round(saveMs.reduce((x, y) => x + y, 0) / Math.max(1, saveMs.length), 1),
    errors,
  };
}

async function phaseGuests(): Promise<{ boot?: Record<string, unknown>; rules?: Record<string, unknown> }> {
  const { cloud, dataDir, startS } = await newCloud('qemu');
  const entry = [...clouds].find((c) => c.dataDir === dataDir)!;
  try {
    const ns = hostNamespace(dataDir, cloud.hosts[0]);
    log(`qemu cloud ready in ${startS} s at ${cloud.url} (${cloud.driverSummary}), namespace ${ns}`);
    const demo = await login(cloud.url, 'demo', cloud.secrets.demoPassword, 'demo');
    demo.microversion = '2.37';
    const flavor = (await demo.get('/compute/v2.1/flavors/detail')).body?.flavors?.find((f: any) => f.name === 'm1.tiny')?.id;
    const image = (await demo.get('/image/v2/images?name=tiny-linux')).body?.images?.[0]?.id;
    const net = await privateNetwork(demo);
    if (!flavor || !image) throw new Error(`flavor m1.tiny ${flavor}, image tiny-linux ${image}`);
    const sg = await demo.post(`${N}/security-groups`, { security_group: { name: 'bench-web', description: 'HTTP from anywhere' } });
    if (sg.status !== 201) throw new Error(`POST security-groups -> ${sg.status} ${JSON.stringify(sg.body)}`);
    const group = sg.body.security_group.id as string;
    const rule = await demo.post(`${N}/security-group-rules`, {
      security_group_rule: { security_group_id: group, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 80, port_range_max: 80, remote_ip_prefix: '0.0.0.0/0' },
    });
    if (rule.status !== 201) throw new Error(`POST security-group-rules -> ${rule.status} ${JSON.stringify(rule.body)}`);
    const probe = await startProber(ns, dataDir);
    const ctx = { flavor, image, net };
    const rssBefore = rss();

    log('boot: warm-up server alone (fills the base image cache)');
    const warm = await boot(demo, probe, 'bench-net-warmup', ctx);
    log(`warm-up: ${JSON.stringify(warm)}`);
    if (warm.error) throw new Error(`warm-up failed: ${warm.error}`);
    await deleteServers(demo, [warm.id]);

    log(`boot: ${COUNT} servers at once on private with bench-web`);
    const load0 = loadavg()[0];
    const boots = await Promise.all(Array.from({ length: COUNT }, (_, i) => boot(demo, probe, `bench-net-${i + 1}`, ctx)));
    for (const b of boots) log(`server: ${JSON.stringify(b)}`);
    const ok = boots.filter((b) => !b.error);
    const rssGuests = rss();
    const qemuRss = qemusOf(dataDir).map((p) => memoryOf(p).rssMiB);
    const pick = (k: 'active_s' | 'http_s' | 'post_s') => summary(boots.flatMap((b) => (b[k] === null ? [] : [b[k]])));
    const bootResult = {
      driver: cloud.driverSummary,
      cloud_start_s: startS,
      namespace: ns,
      warmup: warm,
      count: COUNT,
      create_to_active_s: pick('active_s'),
      create_to_http_200_s: pick('http_s'),
      post_s: pick('post_s'),
      servers: boots,
      load_avg_1m_before: round(load0, 2),
      rss_mib: { nova_ts_before_guests: rssBefore, nova_ts_with_guests: rssGuests, qemu_mean: qemuRss.length ? round(qemuRss.reduce((x, y) => x + y, 0) / qemuRss.length, 1) : null },
      errors: boots.flatMap((b) => (b.error ? [`${b.id}: ${b.error}`] : [])),
    };
    let rulesResult: Record<string, unknown> | undefined;
    if (PHASES.has('rules')) {
      if (ok.length < 2) throw new Error('fewer than two guests booted: no rules phase');
      const keep = ok.slice(0, 2).map((b) => b.id);
      const rest = boots.map((b) => b.id).filter((id) => id && !keep.includes(id));
      if (rest.length) await deleteServers(demo, rest);
      log(`rules: ${REPEATS} additions and deletions with ${keep.length} guests`);
      rulesResult = await phaseRules(demo, ns, group, keep);
    }
    const deleteS = await deleteServers(demo, boots.map((b) => b.id).filter(Boolean));
    return { boot: { ...bootResult, delete_s: deleteS }, rules: rulesResult };
  } finally {
    killProber();
    await closeCloud(entry);
  }
}

// ---- report ----------------------------------------------------------------------------------
function printTable(r: any): void {
  const s = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${x.toFixed(2)} s`);
  const trio = (x: any) => `${s(x.p50)} / ${s(x.p95)} / ${s(x.max)}`;
  const rows: [string, string][] = [['machine', `${r.machine.cpus} x ${r.machine.cpu_model}, ${r.machine.total_mib} MiB, node ${r.node}, commit ${r.commit}`]];
  if (r.api) {
    const x = r.api;
    rows.push(
      [`api: ${x.n} ports on private (${x.concurrency} at a time)`, `${s(x.ports.wall_s)} wall, ${x.ports.per_s}/s, POST p50/p95 ${s(x.ports.post_s.p50)} / ${s(x.ports.post_s.p95)}; ${x.ports.distinct_ips} distinct IPs; delete all ${s(x.ports.delete_wall_s)}`],
      [`api: ${x.n} servers on private (fake)`, `${s(x.servers.wall_s)} to all ACTIVE, ${x.servers.per_s}/s, create -> ACTIVE p50/p95/max ${trio(x.servers.create_to_active_s)}; delete all ${s(x.servers.delete_wall_s)}`],
      ['api: nova-ts RSS started / ports / servers', `${x.rss_mib.cloud_started} / ${x.rss_mib.with_ports} / ${x.rss_mib.with_servers} MiB (process before the cloud ${x.rss_mib.before_cloud}, after deleting ${x.rss_mib.after_delete})`],
    );
  }
  if (r.agent) {
    const x = r.agent;
    const f = (y: any) => `${y.rules} rules, total ${y.total_ms} ms (iptables ${y.iptables_ms}, links ${y.links_ms}, dnsmasq ${y.dnsmasq_ms})`;
    rows.push(
      [`agent: ${x.ports} ports, first sync`, `${f(x.first_sync)}; iptables-save shows ${x.iptables_save_rules} -A lines`],
      ['agent: idle resync', f(x.idle_resync)],
      ['agent: one rule added to the group', f(x.one_rule_added_to_group)],
      ['agent: scattered members', f(x.scattered_members)],
    );
  }
  if (r.boot) {
    const x = r.boot;
    rows.push(
      ['boot: warm-up -> ACTIVE / HTTP 200', `${s(x.warmup.active_s)} / ${s(x.warmup.http_s)}`],
      [`boot: ${x.count} at once -> ACTIVE p50/p95/max`, trio(x.create_to_active_s)],
      [`boot: ${x.count} at once -> HTTP 200 p50/p95/max`, trio(x.create_to_http_200_s)],
      ['boot: nova-ts RSS before / with guests', `${x.rss_mib.nova_ts_before_guests} / ${x.rss_mib.nova_ts_with_guests} MiB (QEMU mean ${x.rss_mib.qemu_mean} MiB)`],
    );
  }
  if (r.rules) {
    const x = r.rules;
    rows.push(
      [`rules: add -> in iptables (${x.repeats}x) p50/max`, `${s(x.add_s.p50)} / ${s(x.add_s.max)} (POST reply p50 ${s(x.post_reply_s.p50)})`],
      [`rules: delete -> gone p50/max`, `${s(x.delete_s.p50)} / ${s(x.delete_s.max)} (one iptables-save ${x.iptables_save_ms} ms)`],
    );
  }
  const w = Math.max(...rows.map((x) => x[0].length));
  for (const [k, v] of rows) console.log(`${k.padEnd(w)} | ${v}`);
  for (const e of r.errors as string[]) console.log(`error: ${e}`);
}

function gitDescribe(): string {
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' });
  if (head.status !== 0) return 'unknown';
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src'], { cwd, encoding: 'utf8' });
  return head.stdout.trim() + (dirty.stdout.trim() ? '+dirty' : '');
}

async function run(): Promise<number> {
  if (process.getuid?.() !== 0 && (PHASES.has('agent') || PHASES.has('boot') || PHASES.has('rules'))) throw new Error('phases agent, boot and rules need root (network namespaces)');
  const result: any = {
    date: new Date().toISOString(),
    command: `npm run bench:network -- ${process.argv.slice(2).join(' ')}`.trim(),
    commit: gitDescribe(),
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', total_mib: Math.round(totalmem() / 1048576) },
    node: process.version,
    load_avg_before: loadavg().map((x) => round(x, 2)),
  };
  if (PHASES.has('api')) result.api = await phaseApi();
  if (PHASES.has('agent')) result.agent = await phaseAgent();
  if (PHASES.has('boot') || PHASES.has('rules')) Object.assign(result, await phaseGuests());
  const killed = await cleanup();
  result.qemus_killed_at_cleanup = killed;
  result.errors = [...(result.api?.errors ?? []), ...(result.boot?.errors ?? []), ...(result.rules?.errors ?? [])];
  if (result.boot && result.boot.delete_s === null) result.errors.push('guests still listed 120 s after DELETE');
  if (killed) result.errors.push(`cleanup killed ${killed} QEMU(s) the deletes had left`);
  printTable(result);
  console.log(JSON.stringify(result));
  return result.errors.length ? 1 : 0;
}

run().then(
  (code) => (process.exitCode = code),
  async (e: unknown) => {
    log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    await cleanup().catch(() => 0);
    process.exitCode = 1;
  },
);
