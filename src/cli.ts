import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { buildImageCommand } from './virt/qemu/guest-image/cli.js';
import { defaultConfig, DEFAULT_CONSOLE_PORT, DEFAULT_PORT, type Config } from './config.js';
import { startCloud } from './cloud.js';
import { applySchedulerOptions, SCHEDULER_OPTIONS, SCHEDULER_USAGE } from './cli-scheduler.js';
import { logger } from './util/log.js';
import { isNovaError } from './errors.js';
import { SERVICES } from './service-config.js';
import { isServiceName, serviceMain } from './service-main.js';

const log = logger('nova-ts');

const USAGE = `Usage: nova-ts [all-in-one] [options]
       nova-ts <service> --config FILE
       nova-ts build-image [--cache-dir DIR]

Runs the all-in-one cloud in the foreground, one service of a split deployment, or builds the
tiny-linux test guest image. Services: ${SERVICES.join(', ')} (nova-ts <service> --help).

  --data-dir DIR        where the database, images and clouds.yaml live (default ~/.nova-ts, or $NOVA_TS_DATA_DIR)
  --listen HOST:PORT    API listener (default 127.0.0.1:${DEFAULT_PORT})
  --driver fake|qemu    virt driver (default qemu when qemu-system-x86_64 is installed, else fake)
  --qemu-accel A        qemu driver accelerator: auto (KVM when the CPU has it), kvm or tcg (default auto)
  --shutdown-timeout S  qemu driver: seconds a guest gets to power off on ACPI before it is terminated (default 60)
  --fake-hosts N        run N compute hosts in this process (default 1)
  --console-listen HOST:PORT  console proxy listener (default 127.0.0.1:${DEFAULT_CONSOLE_PORT}; any free port when --listen names a port other than ${DEFAULT_PORT})
  --console-token-ttl S seconds a console URL (token) stays valid (default 600)
  --tls                 serve HTTPS with a certificate from the cloud's own CA (<data-dir>/ca/ca.pem; clouds.yaml names it)
  --database URL        sqlite:/path/file.db (default <data-dir>/nova.db) or postgres://...
  --fake-delay OP=MS    fake driver: make OP (spawn, destroy, reboot, ...) take MS milliseconds (repeatable)
  --fake-fail OP=P      fake driver: make OP fail with probability P (repeatable)
  --fake-failing-host H fake driver: every spawn on host H fails (repeatable)
${SCHEDULER_USAGE}  -h, --help            this text
`;

/** Parses the command line into a Config. Throws with a usage message on bad input. */
export function parseCli(argv: string[]): Config {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      listen: { type: 'string' },
      driver: { type: 'string' },
      'qemu-accel': { type: 'string' },
      'shutdown-timeout': { type: 'string' },
      'fake-hosts': { type: 'string' },
      'console-listen': { type: 'string' },
      'console-token-ttl': { type: 'string' },
      tls: { type: 'boolean' },
      database: { type: 'string' },
      'fake-delay': { type: 'string', multiple: true },
      'fake-fail': { type: 'string', multiple: true },
      'fake-failing-host': { type: 'string', multiple: true },
      ...SCHEDULER_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (positionals.length > 0 && !(positionals.length === 1 && positionals[0] === 'all-in-one'))
    throw new Error(`unknown command ${positionals.join(' ')}\n\n${USAGE}`);
  const config = defaultConfig(values['data-dir'] ? { dataDir: values['data-dir'] } : {});
  if (values.database) config.databaseUrl = values.database;
  if (values.listen) {
    const m = /^(.*):(\d+)$/.exec(values.listen);
    if (!m) throw new Error(`--listen wants HOST:PORT, got ${values.listen}`);
    config.listenHost = m[1] || '127.0.0.1';
    config.listenPort = Number(m[2]);
  }
  const hostPort = (v: string, opt: string) => {
    const m = /^(.*):(\d+)$/.exec(v);
    if (!m || Number(m[2]) > 65535) throw new Error(`${opt} wants HOST:PORT, got ${v}`);
    return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
  };
  config.consoles.listenHost = config.listenHost;
  config.consoles.listenPort = config.listenPort === DEFAULT_PORT ? DEFAULT_CONSOLE_PORT : 0;
  if (values['console-listen']) {
    const hp = hostPort(values['console-listen'], '--console-listen');
    config.consoles.listenHost = hp.host;
    config.consoles.listenPort = hp.port;
  }
  if (values['console-token-ttl'] !== undefined) {
    const n = Number(values['console-token-ttl']);
    if (!Number.isInteger(n) || n < 1 || n > 86400) throw new Error('--console-token-ttl wants whole seconds from 1 to 86400');
    config.consoles.tokenTtlSec = n;
  }
  config.tls = !!values.tls;
  if (values.driver) {
    if (values.driver !== 'fake' && values.driver !== 'qemu') throw new Error(`--driver wants fake or qemu, got ${values.driver}`);
    config.driver = values.driver;
  } else config.driver = qemuInstalled() ? 'qemu' : 'fake';
  const accel = values['qemu-accel'];
  if (accel !== undefined) {
    if (accel !== 'auto' && accel !== 'kvm' && accel !== 'tcg') throw new Error(`--qemu-accel wants auto, kvm or tcg, got ${accel}`);
    config.qemu.accel = accel;
  }
  if (values['shutdown-timeout'] !== undefined) {
    const n = Number(values['shutdown-timeout']);
    if (!Number.isInteger(n) || n < 0 || n > 3600) throw new Error('--shutdown-timeout wants whole seconds from 0 to 3600');
    config.qemu.shutdownTimeoutSec = n;
  }
  if (values['fake-hosts']) {
    const n = Number(values['fake-hosts']);
    if (!Number.isInteger(n) || n < 1 || n > 10000) throw new Error(`--fake-hosts wants a whole number from 1 to 10000`);
    config.fakeHosts = n;
  }
  const pairs = (list: string[] | undefined, what: string) =>
    Object.fromEntries(
      (list ?? []).map((kv) => {
        const [k, v] = kv.split('=');
        const n = Number(v);
        if (!k || v === undefined || Number.isNaN(n)) throw new Error(`${what} wants OP=NUMBER, got ${kv}`);
        return [k, n];
      }),
    );
  config.fake.delays = pairs(values['fake-delay'], '--fake-delay');
  config.fake.failures = pairs(values['fake-fail'], '--fake-fail');
  config.fake.failingHosts = values['fake-failing-host'] ?? [];
  applySchedulerOptions(config, values);
  return config;
}

/** True when qemu-system-x86_64 runs (the default driver is then qemu). */
function qemuInstalled(): boolean {
  return spawnSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'build-image') process.exit(await buildImageCommand(argv.slice(1)));
  if (isServiceName(argv[0])) return serviceMain(argv[0], argv.slice(1));
  let config: Config;
  try {
    config = parseCli(argv);
  } catch (e) {
    process.stderr.write(`nova-ts: ${(e as Error).message}\n`);
    process.exit(2);
  }
  let cloud: Awaited<ReturnType<typeof startCloud>>;
  try {
    cloud = await startCloud(config);
  } catch (e) {
    // A configuration the cloud refuses is said plainly, without a stack.
    if (!isNovaError(e)) throw e;
    process.stderr.write(`nova-ts: ${e.message}\n`);
    process.exit(1);
  }
  process.stdout.write(
    `nova-ts ready at ${cloud.url} (consoles at ${cloud.consoleUrl}; data dir ${config.dataDir}, driver ${cloud.driverSummary}, ${cloud.hosts.length} compute host(s))\n` +
      `  export OS_CLIENT_CONFIG_FILE=${config.dataDir}/clouds.yaml OS_CLOUD=nova-ts\n`,
  );
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${sig} received, stopping`);
    await cloud.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
