/**
 * The config file of one service process (`nova-ts <service> --config FILE`): INI like
 * nova.conf, every key overridable by the environment as `NOVA_TS_<SECTION>_<KEY>` (upper
 * case; the DEFAULT section: `NOVA_TS_<KEY>`). The result is the all-in-one's Config (same
 * defaults) plus the settings only a split deployment has.
 *
 * Strict: an unknown section or key, a bad value, a missing required key or a DB connection
 * given to a process that must never have one is an Error naming the file, the section and
 * the key (or the environment variable) and what to do. Environment variables that name no
 * key are ignored (NOVA_TS_ is also the prefix of a few older variables).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultConfig, DEFAULT_CONSOLE_PORT, DEFAULT_PORT, type Config } from './config.js';
import { FILTERS } from './scheduler/filters/index.js';
import { WEIGHERS } from './scheduler/weighers/index.js';

export const SERVICES = ['api', 'scheduler', 'conductor', 'compute', 'network-agent', 'console-proxy', 'volume'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Services that open the DB ([database] connection required). */
export const DB_SERVICES: readonly ServiceName[] = ['api', 'scheduler', 'conductor', 'volume', 'console-proxy'];
/** Services that must never be given DB settings (they reach it only through the conductor). */
export const NO_DB_SERVICES: readonly ServiceName[] = ['compute', 'network-agent'];

/** The Identity API and a service user, for compute hosts to move image data over the Image API. */
export interface ServiceAuth {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  /** The CA certificate (PEM file) an https Identity and Image API is checked against; absent: the system's CAs. */
  caFile?: string;
}

export interface ServiceConfig {
  /** The file read (absolute). */
  file: string;
  /** The all-in-one Config these settings map onto (databaseUrl '' when there is no [database] connection). */
  config: Config;
  /** This process's host name: a compute, network-agent or volume host, or the name of its services row. */
  host: string;
  /** `inprocess`, `amqp://…` or `rabbit://…` (src/bus/open.ts). */
  transportUrl: string;
  /** [database] connection, or null when the file has none. */
  databaseUrl: string | null;
  /** [service_auth], or null when the file has none. */
  serviceAuth: ServiceAuth | null;
  /** The API's metadata server socket (the api serves it; network agents proxy guests to it). */
  metadataSocket: string;
  /** Compute with the qemu driver: run the host's network agent inside the compute process, or rely on a `network-agent` process. */
  networkAgent: 'inside' | 'separate';
  /** Volume manager: format of new volume files. */
  volumeFormat: 'qcow2' | 'raw';
}

type Setter = (s: ServiceConfig, raw: string, where: string) => void;

function fail(where: string, what: string): never {
  throw new Error(`${where}: ${what}`);
}

function num(where: string, raw: string, o: { integer?: boolean; min: number; max: number }): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || (o.integer && !Number.isInteger(n)) || n < o.min || n > o.max)
    fail(where, `wants ${o.integer ? 'a whole number' : 'a number'} from ${o.min} to ${o.max}, got '${raw}'`);
  return n;
}
const int = (min: number, max: number, set: (s: ServiceConfig, n: number) => void): Setter => (s, raw, w) => set(s, num(w, raw, { integer: true, min, max }));
const real = (min: number, max: number, set: (s: ServiceConfig, n: number) => void): Setter => (s, raw, w) => set(s, num(w, raw, { min, max }));
const str = (set: (s: ServiceConfig, v: string) => void): Setter => (s, raw) => set(s, raw);
function oneOf<T extends string>(values: readonly T[], set: (s: ServiceConfig, v: T) => void): Setter {
  return (s, raw, w) => {
    if (!(values as readonly string[]).includes(raw)) fail(w, `wants one of ${values.join(', ')}, got '${raw}'`);
    set(s, raw as T);
  };
}
const bool = (set: (s: ServiceConfig, v: boolean) => void): Setter => (s, raw, w) => {
  const v = raw.toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(v)) set(s, true);
  else if (['false', 'no', '0', 'off'].includes(v)) set(s, false);
  else fail(w, `wants true or false, got '${raw}'`);
};
function hostPort(where: string, raw: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(raw);
  if (!m || Number(m[2]) > 65535) fail(where, `wants HOST:PORT, got '${raw}'`);
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}
const list = (raw: string) => raw.split(',').map((x) => x.trim()).filter(Boolean);
function pairs(where: string, raw: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kv of list(raw)) {
    const [k, v] = kv.split('=').map((x) => x.trim());
    if (!k || v === undefined) fail(where, `wants NAME=NUMBER,..., got '${kv}'`);
    out[k] = num(where, v, { min: -1e9, max: 1e9 });
  }
  return out;
}
function known(where: string, names: string[], registry: Record<string, unknown>): string[] {
  for (const n of names) if (!(n in registry)) fail(where, `unknown name '${n}'. Known: ${Object.keys(registry).join(', ')}`);
  return names;
}

/** Every section and key the file may hold, and how each applies. */
const KEYS: Record<string, Record<string, Setter>> = {
  DEFAULT: {
    data_dir: () => undefined, // read first (other defaults derive from it)
    host: str((s, v) => (s.host = v)),
    transport_url: str((s, v) => (s.transportUrl = v)),
    region: str((s, v) => (s.config.region = v)),
    service_down_time: int(1, 86400, (s, n) => (s.config.serviceDownTimeSec = n)),
    report_interval: real(0.05, 3600, (s, n) => (s.config.compute.reportIntervalSec = n)),
    token_ttl: int(60, 86400 * 30, (s, n) => (s.config.tokenTtlSec = n)),
  },
  database: {
    connection: (s, raw, w) => {
      if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(raw)) fail(w, `wants sqlite:/path/file.db or postgres://user:pass@host:port/db, got '${raw}'`);
      s.databaseUrl = raw;
      s.config.databaseUrl = raw;
    },
  },
  api: {
    listen: (s, raw, w) => {
      const hp = hostPort(w, raw);
      s.config.listenHost = hp.host;
      s.config.listenPort = hp.port;
    },
    tls: bool((s, v) => (s.config.tls = v)),
    // The URL in the catalog and clouds.yaml when clients reach the API elsewhere (a load balancer).
    public_url: (s, raw, w) => {
      if (raw && !/^https?:\/\/[^/]+/.test(raw)) fail(w, `wants the API's http(s) base URL, e.g. https://api.example:8774, got '${raw}'`);
      s.config.publicUrl = raw.replace(/\/+$/, '') || undefined;
    },
  },
  console: {
    listen: (s, raw, w) => {
      const hp = hostPort(w, raw);
      s.config.consoles.listenHost = hp.host;
      s.config.consoles.listenPort = hp.port;
    },
    token_ttl: int(1, 86400, (s, n) => (s.config.consoles.tokenTtlSec = n)),
    public_url: (s, raw, w) => {
      if (raw && !/^https?:\/\/[^/]+/.test(raw)) fail(w, `wants an http(s) URL, got '${raw}'`);
      s.config.consoles.publicUrl = raw || undefined;
    },
  },
  compute: {
    driver: oneOf(['fake', 'qemu'] as const, (s, v) => (s.config.driver = v)),
    fake_hosts: int(1, 10000, (s, n) => (s.config.fakeHosts = n)),
    network_agent: oneOf(['inside', 'separate'] as const, (s, v) => (s.networkAgent = v)),
    default_availability_zone: str((s, v) => (s.config.compute.defaultAvailabilityZone = v)),
    power_sync_interval: real(0.05, 3600, (s, n) => (s.config.compute.powerSyncIntervalSec = n)),
    cpu_allocation_ratio: real(0.0001, 1000, (s, n) => (s.config.compute.cpuAllocationRatio = n)),
    ram_allocation_ratio: real(0.0001, 1000, (s, n) => (s.config.compute.ramAllocationRatio = n)),
    disk_allocation_ratio: real(0.0001, 1000, (s, n) => (s.config.compute.diskAllocationRatio = n)),
    reserved_host_cpus: int(0, 1 << 20, (s, n) => (s.config.compute.reservedHostCpus = n)),
    reserved_host_memory_mb: int(0, 1 << 30, (s, n) => (s.config.compute.reservedHostMemoryMb = n)),
    reserved_host_disk_mb: int(0, 1 << 30, (s, n) => (s.config.compute.reservedHostDiskMb = n)),
    // Nova's instance_build_timeout: seconds a build may go without progress before the conductor sets ERROR (0: never).
    build_timeout: int(0, 86400 * 7, (s, n) => (s.config.compute.buildTimeoutSec = n)),
  },
  fake: {
    vcpus: int(1, 1 << 20, (s, n) => (s.config.fake.vcpus = n)),
    memory_mb: int(1, 1 << 30, (s, n) => (s.config.fake.memoryMb = n)),
    disk_gb: int(1, 1 << 30, (s, n) => (s.config.fake.diskGb = n)),
    delays: (s, raw, w) => (s.config.fake.delays = pairs(w, raw)),
    failures: (s, raw, w) => (s.config.fake.failures = pairs(w, raw)),
    failing_hosts: str((s, v) => (s.config.fake.failingHosts = list(v))),
  },
  qemu: {
    binary: str((s, v) => (s.config.qemu.binary = v)),
    accel: oneOf(['auto', 'kvm', 'tcg'] as const, (s, v) => (s.config.qemu.accel = v)),
    shutdown_timeout: int(0, 3600, (s, n) => (s.config.qemu.shutdownTimeoutSec = n)),
    console_log_cap_bytes: int(4096, 1 << 30, (s, n) => (s.config.qemu.consoleLogCapBytes = n)),
    guest_image_dir: str((s, v) => (s.config.qemu.guestImageDir = resolve(v))),
  },
  scheduler: {
    filters: (s, raw, w) => (s.config.scheduler.filters = known(w, list(raw), FILTERS)),
    weighers: (s, raw, w) => {
      const p = pairs(w, raw);
      known(w, Object.keys(p), WEIGHERS);
      s.config.scheduler.weighers = p;
    },
    host_subset_size: int(1, 1000, (s, n) => (s.config.scheduler.hostSubsetSize = n)),
    max_attempts: int(1, 100, (s, n) => (s.config.scheduler.maxAttempts = n)),
    max_instances_per_host: int(1, 1_000_000, (s, n) => (s.config.scheduler.maxInstancesPerHost = n)),
    max_io_ops_per_host: int(1, 1_000_000, (s, n) => (s.config.scheduler.maxIoOpsPerHost = n)),
    audit_interval: int(0, 86400, (s, n) => (s.config.scheduler.auditIntervalSec = n)),
  },
  service_auth: {
    auth_url: (s, raw, w) => {
      if (!/^https?:\/\/[^/]+/.test(raw)) fail(w, `wants the Identity API's URL, e.g. http://127.0.0.1:8774/identity/v3, got '${raw}'`);
      auth(s).authUrl = raw;
    },
    username: str((s, v) => (auth(s).username = v)),
    password: str((s, v) => (auth(s).password = v)),
    project_name: str((s, v) => (auth(s).projectName = v)),
    // The cloud's CA (the API's <data_dir>/ca/ca.pem) for an API served with [api] tls = true.
    cafile: str((s, v) => {
      if (v) auth(s).caFile = resolve(v);
      else if (s.serviceAuth) delete s.serviceAuth.caFile;
    }),
  },
  metadata: {
    socket: str((s, v) => (s.metadataSocket = resolve(v))),
  },
  volume: {
    format: oneOf(['qcow2', 'raw'] as const, (s, v) => (s.volumeFormat = v)),
  },
};

function auth(s: ServiceConfig): ServiceAuth {
  return (s.serviceAuth ??= { authUrl: '', username: 'nova', password: '', projectName: 'service' });
}

/** The environment variable overriding a key. */
export function envName(section: string, key: string): string {
  return (section === 'DEFAULT' ? `NOVA_TS_${key}` : `NOVA_TS_${section}_${key}`).toUpperCase();
}

/** Parses INI text into section -> key -> {value, line}. Comments: lines starting with # or ;, and ` #` after a value. */
export function parseIni(text: string, file: string): Map<string, Map<string, { value: string; line: number }>> {
  const out = new Map<string, Map<string, { value: string; line: number }>>();
  let section: string | null = null;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)[#;].*$/, '').trim();
    if (!line) return;
    const where = `${file}:${i + 1}`;
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec) {
      section = sec[1].trim();
      if (!out.has(section)) out.set(section, new Map());
      return;
    }
    const kv = /^([A-Za-z0-9_.-]+)\s*[=:]\s*(.*)$/.exec(line);
    if (!kv) fail(where, `expected '[section]' or 'key = value', got '${raw.trim()}'`);
    if (section === null) fail(where, `'${kv[1]}' comes before any [section]; put it under [DEFAULT]`);
    out.get(section)!.set(kv[1], { value: kv[2].trim(), line: i + 1 });
  });
  return out;
}

/**
 * Reads FILE and the environment into a ServiceConfig. With `service`, also checks what that
 * service needs: a DB connection for the DB services, none for compute and network-agent.
 */
export function loadServiceConfig(path: string, env: NodeJS.ProcessEnv = process.env, service?: ServiceName): ServiceConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read the config file: ${(e as Error).message}`, { cause: e });
  }
  return parseServiceConfig(text, file, env, service);
}

/** loadServiceConfig on text already read (file names it in messages). */
export function parseServiceConfig(text: string, file: string, env: NodeJS.ProcessEnv = {}, service?: ServiceName): ServiceConfig {
  const ini = parseIni(text, file);
  // Every value with where it came from: the file, then the environment over it.
  const values: { section: string; key: string; value: string; where: string }[] = [];
  for (const [section, keys] of ini) {
    const known = KEYS[section];
    if (!known) fail(`${file}: [${section}]`, `unknown section. Known sections: ${Object.keys(KEYS).join(', ')}`);
    for (const [key, { value, line }] of keys) {
      if (!(key in known)) fail(`${file}:${line}: [${section}] ${key}`, `unknown key. Known keys of [${section}]: ${Object.keys(known).join(', ')}`);
      values.push({ section, key, value, where: `${file}:${line}: [${section}] ${key}` });
    }
  }
  for (const [section, keys] of Object.entries(KEYS))
    for (const key of Object.keys(keys)) {
      const name = envName(section, key);
      const v = env[name];
      if (v === undefined) continue;
      const at = values.findIndex((x) => x.section === section && x.key === key);
      const entry = { section, key, value: v.trim(), where: `${file}: [${section}] ${key} (set by the environment as ${name})` };
      if (at >= 0) values[at] = entry;
      else values.push(entry);
    }

  const dataDirEntry = values.find((x) => x.section === 'DEFAULT' && x.key === 'data_dir');
  if (dataDirEntry && !dataDirEntry.value) fail(dataDirEntry.where, 'wants a directory');
  const base = defaultConfig(dataDirEntry ? { dataDir: resolve(dataDirEntry.value) } : {});
  // Listeners default as the all-in-one's; no DB until [database] connection names one.
  base.listenPort = DEFAULT_PORT;
  base.consoles.listenPort = DEFAULT_CONSOLE_PORT;
  base.databaseUrl = '';
  if (!dataDirEntry) base.qemu.guestImageDir = env.NOVA_TS_GUEST_IMAGE_DIR ?? base.qemu.guestImageDir;
  const s: ServiceConfig = {
    file,
    config: base,
    host: hostname() || 'localhost',
    transportUrl: 'inprocess',
    databaseUrl: null,
    serviceAuth: null,
    metadataSocket: join(base.dataDir, 'metadata.sock'),
    networkAgent: 'inside',
    volumeFormat: 'qcow2',
  };
  for (const v of values) KEYS[v.section][v.key](s, v.value, v.where);

  if (!/^[A-Za-z0-9_.-]{1,63}$/.test(s.host)) fail(`${file}: [DEFAULT] host`, `wants a host name (letters, digits, '.', '-', '_'), got '${s.host}'`);
  if (s.transportUrl && s.transportUrl !== 'inprocess' && !/^(amqp|amqps|rabbit):\/\//.test(s.transportUrl))
    fail(`${file}: [DEFAULT] transport_url`, `wants inprocess or amqp://user:pass@host:port/vhost, got '${s.transportUrl}'`);
  if (s.serviceAuth) {
    const missing = (['authUrl', 'password'] as const).filter((k) => !s.serviceAuth![k]);
    if (missing.length) fail(`${file}: [service_auth]`, `${missing.map((k) => (k === 'authUrl' ? 'auth_url' : 'password')).join(' and ')} missing; give auth_url, username, password and project_name`);
  }
  if (service) checkForService(s, service);
  return s;
}

/** What a service needs from its config; throws naming the key to fix. */
export function checkForService(s: ServiceConfig, service: ServiceName): void {
  if (NO_DB_SERVICES.includes(service) && s.databaseUrl !== null)
    fail(
      `${s.file}: [database] connection`,
      `the ${service} service never opens the database (it reaches it through the conductor); remove the [database] section from its config file`,
    );
  if (DB_SERVICES.includes(service) && s.databaseUrl === null)
    fail(`${s.file}: [database] connection`, `the ${service} service needs the database: set connection = postgres://user:pass@host:port/db (or sqlite:/path for one machine)`);
  if (service === 'compute' && s.config.driver === 'qemu' && s.config.fakeHosts > 1)
    fail(`${s.file}: [compute] fake_hosts`, 'applies to the fake driver only; the qemu driver runs one compute host per process');
}
