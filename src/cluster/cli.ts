/**
 * The command line of `npm run cluster`: parses the options, starts the cluster, prints `ready`
 * (with how to use it), and stops everything on SIGTERM or Ctrl-C. Exit status 0 after a clean
 * stop, 1 when the cluster could not start, 2 on bad options.
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { CLUSTER_DEFAULTS, startCluster, type ClusterOptions } from './cluster.js';

const d = CLUSTER_DEFAULTS;
export const CLUSTER_USAGE = `Usage: npm run cluster -- [options]

Runs a nova-ts cloud as separate processes on this machine (PostgreSQL, RabbitMQ, the API,
scheduler, conductor, volume, console proxy and N compute hosts), each configured by its own
file under DIR/etc/. Prints "ready" when every compute host reports up; Ctrl-C stops it all.

  --data-dir DIR                 where everything lives (default ~/.nova-ts-cluster)
  --computes N                   compute processes, hosts host1..hostN (default ${d.computes})
  --driver fake|qemu             virt driver of the compute hosts (default ${d.driver})
  --fake-hosts-per-compute M     fake driver: M hosts per compute process, host<i>-1..M (default ${d.fakeHostsPerCompute})
  --apis K                       API processes (default ${d.apis}; they share DIR/api)
  --schedulers K                 scheduler processes (default ${d.schedulers})
  --conductors K                 conductor processes (default ${d.conductors})
  --database-url URL             use this PostgreSQL (postgres://user:pass@host:port/db) instead of a private one
  --transport-url URL            use this RabbitMQ (amqp://user:pass@host:port/) instead of a private one
  --api-port P                   first API's port on 127.0.0.1, the others follow (default ${d.apiPort}; 0: free ports)
  --console-port P               console proxy's port on 127.0.0.1 (default ${d.consolePort}; 0: a free one)
  --report-interval S            seconds between service heartbeats (default ${d.reportIntervalSec})
  --service-down-time S          seconds without a heartbeat before a service is down (default ${d.serviceDownTimeSec})
  -h, --help                     this text
`;

function whole(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} wants a whole number from ${min} to ${max}, got ${raw}`);
  return n;
}

/** Parses the options; throws with a message naming the bad one. Returns null for --help. */
export function parseClusterArgs(argv: string[]): ClusterOptions | null {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      computes: { type: 'string' },
      driver: { type: 'string' },
      'fake-hosts-per-compute': { type: 'string' },
      apis: { type: 'string' },
      schedulers: { type: 'string' },
      conductors: { type: 'string' },
      'database-url': { type: 'string' },
      'transport-url': { type: 'string' },
      'api-port': { type: 'string' },
      'console-port': { type: 'string' },
      'report-interval': { type: 'string' },
      'service-down-time': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return null;
  if (positionals.length) throw new Error(`unexpected argument ${positionals[0]}`);
  const driver = values.driver ?? d.driver;
  if (driver !== 'fake' && driver !== 'qemu') throw new Error(`--driver wants fake or qemu, got ${driver}`);
  const fakeHostsPerCompute = whole('fake-hosts-per-compute', values['fake-hosts-per-compute'], d.fakeHostsPerCompute, 1, 10000);
  if (driver === 'qemu' && fakeHostsPerCompute > 1) throw new Error('--fake-hosts-per-compute applies to the fake driver only');
  const db = values['database-url'];
  if (db !== undefined && !/^postgres(ql)?:\/\/[^/]+\/[^/?]+/.test(db)) throw new Error(`--database-url wants postgres://user:pass@host:port/database, got ${db}`);
  const mq = values['transport-url'];
  if (mq !== undefined && !/^(amqp|amqps|rabbit):\/\/[^/]+/.test(mq)) throw new Error(`--transport-url wants amqp://user:pass@host:port/vhost, got ${mq}`);
  const reportIntervalSec = whole('report-interval', values['report-interval'], d.reportIntervalSec, 1, 3600);
  const serviceDownTimeSec = whole('service-down-time', values['service-down-time'], d.serviceDownTimeSec, 1, 86400);
  if (serviceDownTimeSec <= reportIntervalSec) throw new Error('--service-down-time must be longer than --report-interval, or every service would flap down between heartbeats');
  return {
    dataDir: resolve(values['data-dir'] ?? process.env.NOVA_TS_CLUSTER_DIR ?? join(homedir(), '.nova-ts-cluster')),
    computes: whole('computes', values.computes, d.computes, 1, 1000),
    driver,
    fakeHostsPerCompute,
    apis: whole('apis', values.apis, d.apis, 1, 32),
    schedulers: whole('schedulers', values.schedulers, d.schedulers, 1, 32),
    conductors: whole('conductors', values.conductors, d.conductors, 1, 32),
    databaseUrl: db,
    transportUrl: mq,
    apiPort: whole('api-port', values['api-port'], d.apiPort, 0, 65535),
    consolePort: whole('console-port', values['console-port'], d.consolePort, 0, 65535),
    reportIntervalSec,
    serviceDownTimeSec,
  };
}

export async function main(argv: string[]): Promise<void> {
  let opts: ClusterOptions | null;
  try {
    opts = parseClusterArgs(argv);
  } catch (e) {
    process.stderr.write(`cluster: ${(e as Error).message}\n\n${CLUSTER_USAGE}`);
    process.exit(2);
  }
  if (!opts) {
    process.stdout.write(CLUSTER_USAGE);
    return;
  }
  const say = (line: string) => process.stdout.write(`cluster: ${line}\n`);
  // A signal while starting stops what has started so far, then exits.
  let interrupted = false;
  let cluster: Awaited<ReturnType<typeof startCluster>> | null = null;
  const abort = new AbortController();
  const onSignal = (sig: string) => {
    if (interrupted) return;
    interrupted = true;
    say(`${sig} received, stopping`);
    if (cluster) void cluster.stop().then(() => (say('stopped'), process.exit(0)));
    else abort.abort();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  const t0 = Date.now();
  try {
    cluster = await startCluster({ ...opts, signal: abort.signal, onEvent: say });
  } catch (e) {
    if (interrupted) {
      say('stopped');
      process.exit(0);
    }
    process.stderr.write(`cluster: ${(e as Error).message}\n`);
    process.exit(1);
  }
  if (interrupted) {
    await cluster.stop();
    say('stopped');
    process.exit(0);
  }
  const procs = [...cluster.processes.values()].map((p) => `${p.name}=${p.pid}`).join(' ');
  process.stdout.write(
    `cluster ready at ${cluster.url} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${cluster.computeHosts.length} compute host(s), driver ${opts.driver}; data dir ${cluster.dir}\n` +
      `  processes: ${procs}\n` +
      `  configs ${join(cluster.dir, 'etc')}, logs ${join(cluster.dir, 'logs')}, pids ${join(cluster.dir, 'pids')}\n` +
      `  export OS_CLIENT_CONFIG_FILE=${cluster.cloudsYaml} OS_CLOUD=nova-ts\n`,
  );
}
