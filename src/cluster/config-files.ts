/**
 * The config files of a local cluster: one INI file per process under `<dir>/etc/<name>.conf`
 * in the format of src/service-config.ts (mode 0600: they hold the DB, broker and service
 * passwords). planCluster decides the processes (names, hosts, data dirs, ports) and each one's
 * settings; writeConfigFiles writes them. Pure apart from the writing, so the plan is testable.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type ServiceKind = 'api' | 'scheduler' | 'conductor' | 'volume' | 'console-proxy' | 'compute' | 'network-agent';

export type IniSections = Record<string, Record<string, string | number | boolean>>;

export interface PlannedProcess {
  /** PID/log/config file name, e.g. `api-1`, `compute-host2`. */
  name: string;
  service: ServiceKind;
  /** The config file's contents. */
  ini: IniSections;
  /** For compute processes: the compute host names it runs (several with the fake driver's fake_hosts). */
  computeHosts?: string[];
}

/** How many processes of each service a cluster runs, and how its services report (what the user chooses). */
export interface ClusterShape {
  computes: number;
  driver: 'fake' | 'qemu';
  /** Fake driver: compute hosts per compute process (host<i>-1..M; 1: just host<i>). */
  fakeHostsPerCompute: number;
  apis: number;
  schedulers: number;
  conductors: number;
  reportIntervalSec: number;
  serviceDownTimeSec: number;
}

export interface ClusterPlanInput extends ClusterShape {
  dir: string;
  databaseUrl: string;
  transportUrl: string;
  /** Ports of the API processes, one each, on 127.0.0.1. */
  apiPorts: number[];
  consolePort: number;
  servicePassword: string;
  region: string;
}

/** The compute host names of compute process i (1-based): host<i>, or host<i>-1..M with several fake hosts. */
export function computeHostNames(i: number, fakeHostsPerCompute: number): string[] {
  if (fakeHostsPerCompute <= 1) return [`host${i}`];
  return Array.from({ length: fakeHostsPerCompute }, (_, j) => `host${i}-${j + 1}`);
}

/** Renders sections as INI text (DEFAULT first). */
export function renderIni(sections: IniSections, header = ''): string {
  const names = Object.keys(sections).sort((a, b) => (a === 'DEFAULT' ? -1 : b === 'DEFAULT' ? 1 : 0));
  const out: string[] = header ? header.split('\n').map((l) => `# ${l}`) : [];
  for (const s of names) {
    if (out.length) out.push('');
    out.push(`[${s}]`);
    for (const [k, v] of Object.entries(sections[s])) {
      const text = String(v);
      if (/[\r\n]/.test(text)) throw new Error(`config value of [${s}] ${k} has a line break`);
      out.push(`${k} = ${text}`);
    }
  }
  return out.join('\n') + '\n';
}

/** Every process of the cluster, in start order (api first: it migrates the DB and bootstraps Identity). */
export function planCluster(p: ClusterPlanInput): PlannedProcess[] {
  const apiDir = join(p.dir, 'api');
  const metadataSocket = join(apiDir, 'metadata.sock');
  const common = (name: string, host: string, dataDir = join(p.dir, name)) => ({
    data_dir: dataDir,
    host,
    transport_url: p.transportUrl,
    region: p.region,
    report_interval: p.reportIntervalSec,
    service_down_time: p.serviceDownTimeSec,
  });
  const db = { connection: p.databaseUrl };
  const apiUrl = `http://127.0.0.1:${p.apiPorts[0]}`;
  const authUrl = `${apiUrl}/identity/v3`;
  const out: PlannedProcess[] = [];
  for (let i = 1; i <= p.apis; i++) {
    const name = `api-${i}`;
    // Every API process shares one data dir (image files, the CA, secrets.json): on one machine
    // that is the shared storage several API machines would need. The first serves the metadata socket.
    out.push({
      name,
      service: 'api',
      ini: {
        DEFAULT: common(name, name, apiDir),
        database: db,
        // Every API names the first one in the catalog and clouds.yaml (in place of a load
        // balancer), so the catalog does not depend on which API started last.
        api: { listen: `127.0.0.1:${p.apiPorts[i - 1]}`, public_url: apiUrl },
        // The console URLs the API hands out name the console proxy process.
        console: { public_url: `http://127.0.0.1:${p.consolePort}` },
        // With qemu the API seeds the real tiny-linux guest as an image.
        ...(p.driver === 'qemu' ? { compute: { driver: 'qemu' } } : {}),
        metadata: { socket: i === 1 ? metadataSocket : join(apiDir, `metadata-${name}.sock`) },
      },
    });
  }
  for (let i = 1; i <= p.schedulers; i++) {
    const name = `scheduler-${i}`;
    out.push({ name, service: 'scheduler', ini: { DEFAULT: common(name, name), database: db } });
  }
  for (let i = 1; i <= p.conductors; i++) {
    const name = `conductor-${i}`;
    out.push({ name, service: 'conductor', ini: { DEFAULT: common(name, name), database: db } });
  }
  const serviceAuth = { auth_url: authUrl, username: 'nova', password: p.servicePassword, project_name: 'service' };
  // The volume manager reads image data (volumes from images) over the Image API, as compute hosts do.
  out.push({ name: 'volume', service: 'volume', ini: { DEFAULT: common('volume', 'storage'), database: db, service_auth: serviceAuth } });
  out.push({
    name: 'console-proxy',
    service: 'console-proxy',
    ini: { DEFAULT: common('console-proxy', 'console-proxy'), database: db, console: { listen: `127.0.0.1:${p.consolePort}` } },
  });
  for (let i = 1; i <= p.computes; i++) {
    const host = `host${i}`;
    const name = `compute-${host}`;
    const compute: Record<string, string | number> = { driver: p.driver };
    if (p.driver === 'fake') compute.fake_hosts = p.fakeHostsPerCompute;
    else compute.network_agent = 'separate';
    out.push({
      name,
      service: 'compute',
      computeHosts: computeHostNames(i, p.driver === 'fake' ? p.fakeHostsPerCompute : 1),
      ini: {
        DEFAULT: common(name, host),
        compute,
        service_auth: serviceAuth,
      },
    });
    if (p.driver === 'qemu') {
      const agent = `network-agent-${host}`;
      out.push({
        name: agent,
        service: 'network-agent',
        ini: {
          DEFAULT: common(agent, host),
          metadata: { socket: metadataSocket },
          service_auth: serviceAuth,
        },
      });
    }
  }
  return out;
}

/** Writes `<dir>/etc/<name>.conf` for each process (0600); returns name -> path. */
export function writeConfigFiles(dir: string, procs: PlannedProcess[]): Map<string, string> {
  const etc = join(dir, 'etc');
  mkdirSync(etc, { recursive: true });
  const files = new Map<string, string>();
  for (const proc of procs) {
    const file = join(etc, `${proc.name}.conf`);
    const header = `nova-ts ${proc.service} (${proc.name}), written by npm run cluster on every start.\nRun: nova-ts ${proc.service} --config ${file}`;
    writeFileSync(file, renderIni(proc.ini, header), { mode: 0o600 });
    files.set(proc.name, file);
  }
  return files;
}
