/**
 * End-to-end harness on `npm run cluster`'s library (src/cluster/cluster.ts startCluster): a
 * real multi-process cloud (PostgreSQL, RabbitMQ, every service a process of its own) in a
 * temporary dir, plus a small admin client of its HTTP API (fetch with a token).
 *
 * Contract: startTestCluster resolves with the running cluster; `settings` are passed to every
 * service process as NOVA_TS_<SECTION>_<KEY> environment overrides of its config file (only
 * while the processes start: this process's environment is restored afterwards). stop() stops
 * the cluster (services, broker, database), then SIGKILLs whatever a PID file under DIR/pids
 * still names, and removes DIR; idempotent, safe after a failed start.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLUSTER_DEFAULTS, startCluster, type Cluster, type ClusterOptions } from '../../src/cluster/cluster.js';
import { adminToken } from '../../src/cluster/readiness.js';
import { processAlive } from '../../src/cluster/supervisor.js';
import { loadSecrets } from '../../src/clouds-yaml.js';

export interface TestCluster {
  cluster: Cluster;
  dir: string;
  /** Base URLs of every API process (api-1 first). */
  apiUrls: string[];
  /** An admin client per API process. */
  apis: ApiClient[];
  /** Milliseconds startCluster took. */
  startMs: number;
  stop(): Promise<void>;
}

/** Whether this process may signal pid: a live process of ours (the tests' notion of a leftover). */
export function signalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every PID file under DIR/pids (name -> pid). */
export function readPidFiles(dir: string): Map<string, number> {
  const pids = join(dir, 'pids');
  if (!existsSync(pids)) return new Map();
  return new Map(
    readdirSync(pids)
      .filter((f) => f.endsWith('.pid'))
      .map((f) => [f.slice(0, -4), Number(readFileSync(join(pids, f), 'utf8').trim())] as const)
      .filter(([, pid]) => pid > 0),
  );
}

export async function startTestCluster(
  opts: Partial<Omit<ClusterOptions, 'dataDir'>> & { settings?: Record<string, string | number> } = {},
): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'nova-ts-failures-'));
  // PostgreSQL and RabbitMQ run as their own users when we are root: they must get through.
  chmodSync(dir, 0o755);
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(opts.settings ?? {})) {
    saved.set(k, process.env[k]);
    process.env[k] = String(v);
  }
  const seen = new Map<string, number>();
  let cluster: Cluster | null = null;
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      for (const [n, p] of readPidFiles(dir)) seen.set(n, p);
      if (cluster) await cluster.stop().catch(() => undefined);
      // Whatever is still alive (a failed stop, a start that died half-way) goes by its PID.
      for (const [n, p] of readPidFiles(dir)) seen.set(n, p);
      for (const [, pid] of seen) if (pid !== process.pid && processAlive(pid)) process.kill(pid, 'SIGKILL');
      // NOVA_TS_TEST_KEEP_DIR=1 keeps DIR (logs, configs) to read after a run.
      if (process.env.NOVA_TS_TEST_KEEP_DIR) process.stderr.write(`# cluster dir kept: ${dir}\n`);
      else rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    })());
  const t0 = Date.now();
  try {
    const { settings: _s, ...rest } = opts;
    cluster = await startCluster({
      ...CLUSTER_DEFAULTS,
      apiPort: 0,
      consolePort: 0,
      ...rest,
      dataDir: dir,
      onEvent: (line) => process.env.NOVA_TS_TEST_VERBOSE && process.stderr.write(`cluster: ${line}\n`),
    });
  } catch (e) {
    await stop();
    throw e;
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const startMs = Date.now() - t0;
  for (const [n, p] of readPidFiles(dir)) seen.set(n, p);
  const apiUrls = [...cluster.processes.values()]
    .filter((p) => p.name.startsWith('api-'))
    .map((p) => {
      const conf = readFileSync(join(dir, 'etc', `${p.name}.conf`), 'utf8');
      const listen = /^\[api\][^[]*?^listen = (\S+)$/m.exec(conf);
      if (!listen) throw new Error(`no [api] listen in ${p.name}.conf`);
      return `http://${listen[1]}`;
    });
  const password = loadSecrets(join(dir, 'api')).adminPassword;
  const apis = apiUrls.map((u) => new ApiClient(u, password));
  return { cluster, dir, apiUrls, apis, startMs, stop };
}

export interface ServerView {
  id: string;
  name: string;
  status: string;
  'OS-EXT-SRV-ATTR:host'?: string | null;
  'OS-EXT-STS:task_state'?: string | null;
  fault?: { code: number; message: string; details?: string };
}

/** A minimal admin client of one API process (project admin). Retries once with a new token on 401. */
export class ApiClient {
  private token: string | null = null;
  constructor(
    readonly url: string,
    private readonly password: string,
  ) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; text: string }> {
    for (let attempt = 0; ; attempt++) {
      this.token ??= await adminToken(this.url, this.password);
      const res = await fetch(`${this.url}${path}`, {
        method,
        headers: { 'x-auth-token': this.token, 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await res.text();
      if (res.status === 401 && attempt === 0) {
        this.token = null;
        continue;
      }
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = null;
      }
      return { status: res.status, body: parsed, text };
    }
  }

  async ok<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    const r = await this.request(method, path, body, headers);
    if (r.status >= 300) throw new Error(`${method} ${path} answered ${r.status}: ${r.text.slice(0, 500)}`);
    return r.body as T;
  }

  compute<T>(method: string, path: string, body?: unknown, microversion = '2.53'): Promise<T> {
    return this.ok<T>(method, `/compute/v2.1${path}`, body, { 'openstack-api-version': `compute ${microversion}` });
  }

  /** The id of an image / flavor / network by name (what `--image NAME` does in the CLI). */
  async imageId(name: string): Promise<string> {
    const r = await this.ok<{ images: { id: string }[] }>('GET', `/image/v2/images?name=${encodeURIComponent(name)}`);
    if (!r.images[0]) throw new Error(`no image ${name}`);
    return r.images[0].id;
  }
  async flavorId(name: string): Promise<string> {
    const r = await this.compute<{ flavors: { id: string; name: string }[] }>('GET', '/flavors');
    const f = r.flavors.find((x) => x.name === name);
    if (!f) throw new Error(`no flavor ${name}`);
    return f.id;
  }
  async networkId(name: string): Promise<string> {
    const r = await this.ok<{ networks: { id: string }[] }>('GET', `/network/v2.0/networks?name=${encodeURIComponent(name)}`);
    if (!r.networks[0]) throw new Error(`no network ${name}`);
    return r.networks[0].id;
  }

  /** Lifts the admin project's compute quotas (instances, cores, RAM) for a storm. */
  async unlimitedQuota(): Promise<void> {
    const r = await this.ok<{ projects: { id: string }[] }>('GET', '/identity/v3/projects?name=admin');
    const project = r.projects[0]?.id;
    if (!project) throw new Error('no admin project');
    await this.compute('PUT', `/os-quota-sets/${project}`, { quota_set: { instances: -1, cores: -1, ram: -1 } });
  }

  /** Every server of every project, with details (2.53: fault, host). */
  async servers(): Promise<ServerView[]> {
    const out: ServerView[] = [];
    let marker = '';
    for (;;) {
      const r = await this.compute<{ servers: ServerView[] }>('GET', `/servers/detail?all_tenants=1&limit=1000${marker ? `&marker=${marker}` : ''}`);
      out.push(...r.servers);
      if (r.servers.length < 1000) return out;
      marker = r.servers[r.servers.length - 1].id;
    }
  }
}

/** Polls probe every everyMs (500) until it answers something other than undefined; throws after timeoutMs naming what. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
