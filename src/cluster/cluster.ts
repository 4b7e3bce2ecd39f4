/**
 * A local multi-process cloud on one machine (`npm run cluster`): PostgreSQL and RabbitMQ (private
 * ones under DIR unless URLs of running ones are given), then every service as a process of its
 * own, configured by DIR/etc/<name>.conf, exactly as on separate machines (docs/deploy.md).
 *
 * Contract: startCluster resolves once every process said it is ready and os-services lists every
 * compute host up; DIR/clouds.yaml then names the first API. On failure it stops what it started
 * and rejects with the reason (and the log to read). stop() stops the services (computes and
 * network agents first, the APIs last), then the broker and the database if it started them;
 * idempotent. Processes that die on their own are reported through onEvent and not restarted.
 */
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSecrets, writeCloudsYaml } from '../clouds-yaml.js';
import { planCluster, writeConfigFiles, type ClusterShape, type PlannedProcess, type ServiceKind } from './config-files.js';
import { startPostgres, type PrivatePostgres } from './postgres.js';
import { startRabbitMq, type RabbitMq } from './rabbitmq.js';
import { freeLocalPort } from './ports.js';
import { serverDir } from './server-dirs.js';
import { waitComputesUp } from './readiness.js';
import { leftoverProcesses, pidFile, startProcess, writePidFile, type Supervised } from './supervisor.js';

export interface ClusterOptions extends ClusterShape {
  dataDir: string;
  /** A running PostgreSQL to use (the database is created when missing); default a private one under DIR/postgres. */
  databaseUrl?: string;
  /** A running RabbitMQ to use; default a private one under DIR/rabbitmq. */
  transportUrl?: string;
  /** First API's port on 127.0.0.1 (further APIs take the next ones); 0: free ports. */
  apiPort: number;
  /** Console proxy's port on 127.0.0.1; 0: a free one. */
  consolePort: number;
  /** Milliseconds to wait for everything to be up (default 180 s). */
  readyTimeoutMs?: number;
  /** Aborting it while starting stops what has started and rejects. */
  signal?: AbortSignal;
  /** Progress lines and process exits, for the console. */
  onEvent?: (line: string) => void;
}

export interface Cluster {
  dir: string;
  /** The first API's base URL. */
  url: string;
  cloudsYaml: string;
  /** Every service process by name (api-1, compute-host1, ...). */
  processes: Map<string, Supervised>;
  /** The compute host names (what os-services lists as nova-compute). */
  computeHosts: string[];
  postgres: PrivatePostgres | null;
  rabbitmq: RabbitMq | null;
  stop(): Promise<void>;
}

export const CLUSTER_DEFAULTS = {
  computes: 1,
  driver: 'fake' as const,
  fakeHostsPerCompute: 1,
  apis: 1,
  schedulers: 1,
  conductors: 1,
  apiPort: 8774,
  consolePort: 6080,
  reportIntervalSec: 2,
  serviceDownTimeSec: 10,
};

/** How to run nova-ts from here: src/main.ts through tsx when we run from src/, else dist/src/main.js. */
function novaTsCommand(): { command: string; args: string[]; cwd: string } {
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith('.ts');
  const main = join(dirname(here), '..', fromSource ? 'main.ts' : 'main.js');
  const root = join(dirname(here), '..', '..', fromSource ? '' : '..');
  return { command: process.execPath, args: fromSource ? ['--import', 'tsx', main] : [main], cwd: root };
}

/** Stop order: what depends on others goes first. */
const STOP_TIERS: ServiceKind[][] = [['compute', 'network-agent'], ['console-proxy', 'volume'], ['conductor', 'scheduler'], ['api']];

/** Creates the database of `url` when it does not exist (connecting to the server's `postgres` database). */
async function ensureDatabase(url: string): Promise<void> {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: url });
  try {
    await c.connect();
    await c.end();
    return;
  } catch (e) {
    await c.end().catch(() => undefined);
    if ((e as { code?: string }).code !== '3D000') throw new Error(`cannot connect to the database at --database-url: ${(e as Error).message}`, { cause: e });
  }
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  u.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: u.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
}

/** Rejects unless something accepts TCP connections at the broker URL's host and port. */
function checkReachable(url: string): Promise<void> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'amqps:' ? 5671 : 5672));
  return new Promise((res, rej) => {
    const s = connect({ host: u.hostname, port });
    const t = setTimeout(() => (s.destroy(), rej(new Error(`no broker answers at ${u.hostname}:${port} (--transport-url)`))), 5000);
    s.once('connect', () => (clearTimeout(t), s.destroy(), res()));
    s.once('error', (e) => (clearTimeout(t), rej(new Error(`no broker answers at ${u.hostname}:${port} (--transport-url): ${e.message}`))));
  });
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const dir = resolve(opts.dataDir);
  const say = opts.onEvent ?? (() => undefined);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const left = leftoverProcesses(dir);
  if (left.length)
    throw new Error(`processes of an earlier cluster in ${dir} still run: ${left.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}; stop them first (kill <pid>)`);
  const removeOwnPid = writePidFile(dir, 'cluster', process.pid);
  const processes = new Map<string, Supervised>();
  let postgres: PrivatePostgres | null = null;
  let rabbitmq: RabbitMq | null = null;
  const undo: (() => void)[] = [removeOwnPid];
  let stopping = false;
  let plan: PlannedProcess[] = [];

  const stopAll = async () => {
    stopping = true;
    for (const tier of STOP_TIERS) {
      const procs = plan.filter((p) => tier.includes(p.service)).map((p) => processes.get(p.name)).filter((p): p is Supervised => !!p);
      await Promise.all(
        procs.map(async (p) => {
          const e = await p.stop();
          if (e.killed) say(`${p.name} did not stop on SIGTERM within 20 s: killed`);
        }),
      );
    }
    if (rabbitmq) await rabbitmq.stop();
    if (postgres) await postgres.stop();
    for (const u of undo.reverse()) u();
  };

  try {
    let databaseUrl = opts.databaseUrl;
    if (databaseUrl) await ensureDatabase(databaseUrl);
    else {
      say('starting PostgreSQL');
      postgres = await startPostgres({ dir: serverDir(dir, 'postgres', 'postgres'), logFile: join(dir, 'logs', 'postgres.log') });
      undo.push(writePidFile(dir, 'postgres', postgres.pid()));
      databaseUrl = await postgres.ensureDb('nova');
    }
    let transportUrl = opts.transportUrl;
    if (transportUrl) await checkReachable(transportUrl);
    else {
      say('starting RabbitMQ');
      rabbitmq = await startRabbitMq({ dir: serverDir(dir, 'rabbitmq', 'rabbitmq') });
      undo.push(writePidFile(dir, 'rabbitmq', rabbitmq.pid));
      transportUrl = rabbitmq.url;
    }
    const apiPorts: number[] = [];
    for (let i = 0; i < opts.apis; i++) apiPorts.push(opts.apiPort === 0 ? await freeLocalPort() : opts.apiPort + i);
    const consolePort = opts.consolePort === 0 ? await freeLocalPort() : opts.consolePort;
    // The API processes' secrets (admin, demo and service user passwords), made before any starts
    // so that every config file can be written now.
    mkdirSync(join(dir, 'api'), { recursive: true });
    const secrets = loadSecrets(join(dir, 'api'));
    plan = planCluster({
      dir,
      computes: opts.computes,
      driver: opts.driver,
      fakeHostsPerCompute: opts.fakeHostsPerCompute,
      apis: opts.apis,
      schedulers: opts.schedulers,
      conductors: opts.conductors,
      databaseUrl,
      transportUrl,
      apiPorts,
      consolePort,
      reportIntervalSec: opts.reportIntervalSec,
      serviceDownTimeSec: opts.serviceDownTimeSec,
      servicePassword: secrets.servicePassword,
      region: 'RegionOne',
    });
    const files = writeConfigFiles(dir, plan);
    const nova = novaTsCommand();
    const timeoutMs = opts.readyTimeoutMs ?? 180_000;
    const deadline = Date.now() + timeoutMs;
    const launch = (p: PlannedProcess) => {
      const proc = startProcess(dir, {
        name: p.name,
        command: nova.command,
        args: [...nova.args, p.service, '--config', files.get(p.name)!],
        cwd: nova.cwd,
        env: process.env,
        readyPattern: new RegExp(`\\b${p.service} ready\\b`),
      });
      processes.set(p.name, proc);
      void proc.exited.then((e) => {
        if (!stopping) say(`${p.name} (pid ${proc.pid}) exited (${e.signal ? `signal ${e.signal}` : `code ${e.code}`}); not restarted, see ${proc.logFile}`);
      });
      return proc;
    };
    const aborted = new Promise<never>((_, reject) => {
      const fail = () => reject(new Error('interrupted while starting'));
      if (opts.signal?.aborted) fail();
      opts.signal?.addEventListener('abort', fail, { once: true });
    });
    aborted.catch(() => undefined);
    const ready = (names: string[]) =>
      Promise.race([aborted, Promise.all(names.map((n) => processes.get(n)!.ready(Math.max(1000, deadline - Date.now()))))]);
    const startWave = async (kinds: ServiceKind[]) => {
      const wave = plan.filter((p) => kinds.includes(p.service)).map(launch);
      if (wave.length === 0) return;
      await ready(wave.map((p) => p.name));
      say(`ready: ${wave.map((p) => p.name).join(', ')}`);
    };
    // The first API migrates the database and bootstraps Identity (the service user) before anything else needs them.
    say('starting the services');
    const [first, ...otherApis] = plan.filter((p) => p.service === 'api');
    launch(first);
    await ready([first.name]);
    say(`ready: ${first.name}`);
    for (const p of otherApis) launch(p);
    await startWave(['scheduler', 'conductor', 'volume', 'console-proxy']);
    await ready(otherApis.map((p) => p.name));
    await startWave(['network-agent']);
    await startWave(['compute']);

    const url = `http://127.0.0.1:${apiPorts[0]}`;
    const computeHosts = plan.flatMap((p) => p.computeHosts ?? []);
    await waitComputesUp({
      url,
      password: secrets.adminPassword,
      computeHosts,
      timeoutMs: Math.max(1000, deadline - Date.now()),
      abort: () => {
        if (opts.signal?.aborted) return 'interrupted while starting';
        const dead = [...processes.values()].find((p) => !p.running());
        return dead ? `${dead.name} exited; see ${dead.logFile}` : null;
      },
    });
    const cloudsYaml = writeCloudsYaml(dir, url, 'RegionOne', secrets);
    let stopped: Promise<void> | undefined;
    return {
      dir,
      url,
      cloudsYaml,
      processes,
      computeHosts,
      postgres,
      rabbitmq,
      stop: () => (stopped ??= stopAll()),
    };
  } catch (e) {
    await stopAll().catch(() => undefined);
    throw e;
  }
}

export { pidFile };
