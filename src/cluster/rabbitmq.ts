/**
 * A private RabbitMQ broker from Debian's rabbitmq-server package, run as a child process in a
 * directory of ours: its own Mnesia database, logs, config, HOME and Erlang cookie; AMQP on
 * 127.0.0.1:<port>, the Erlang distribution port and epmd on 127.0.0.1 only; no plugins.
 *
 * When we are root the broker runs as the package's `rabbitmq` user (the directory is handed
 * to it). epmd is a shared daemon on port 4369: when none runs we start one bound to 127.0.0.1
 * and stop it again with our last broker, unless other nodes registered with it meanwhile; an
 * epmd we did not start is never touched.
 *
 * `startRabbitMq` resolves once the broker accepts AMQP connections (typically 2-4 s here).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, writeFileSync, statSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { unavailable } from '../errors.js';
import { freeLocalPort } from './ports.js';

export interface RabbitMq {
  /** `amqp://guest:guest@127.0.0.1:<port>/` */
  readonly url: string;
  readonly port: number;
  /** PID of the running broker process (SIGTERM stops it cleanly); changes on restart. */
  readonly pid: number;
  /** Stops the broker and waits until it is gone. Idempotent. */
  stop(): Promise<void>;
  /** Stops and starts the broker again on the same port with the same data (durable queues survive). */
  restart(): Promise<void>;
}

export interface RabbitMqOptions {
  /** Directory for the broker's data, logs and config (created if missing). */
  dir: string;
  /** AMQP port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** How long to wait for the broker to accept connections (default 60 s). */
  startTimeoutMs?: number;
}

const SERVER_CANDIDATES = ['/usr/lib/rabbitmq/bin/rabbitmq-server'];

/** The rabbitmq-server start script, or null when the package is not installed. */
export function rabbitMqServerBin(): string | null {
  for (const c of SERVER_CANDIDATES) if (existsSync(c)) return c;
  const lib = '/usr/lib/rabbitmq/lib';
  if (existsSync(lib))
    for (const d of readdirSync(lib).sort().reverse()) {
      const p = join(lib, d, 'sbin', 'rabbitmq-server');
      if (existsSync(p)) return p;
    }
  return null;
}

function canConnect(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((res) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      clearTimeout(t);
      s.destroy();
      res(ok);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function userIds(user: string): { uid: number; gid: number } | null {
  const u = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (u.status !== 0 || g.status !== 0) return null;
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), uid, gid);
}

// --- epmd: shared by every Erlang node on the machine -------------------------------------
const EPMD_PORT = 4369;
let ourEpmd: ChildProcess | null = null;
let brokersUsingOurEpmd = 0;

async function ensureEpmd(): Promise<void> {
  if (ourEpmd && ourEpmd.exitCode === null) {
    brokersUsingOurEpmd++;
    return;
  }
  if (await canConnect(EPMD_PORT)) return; // someone else's: use it, never stop it
  const child = spawn('epmd', ['-address', '127.0.0.1', '-port', String(EPMD_PORT)], { stdio: 'ignore', detached: true });
  child.unref();
  const deadline = Date.now() + 5000;
  while (!(await canConnect(EPMD_PORT, 200))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      // Lost a race with another starter: fine if one runs now.
      if (await canConnect(EPMD_PORT)) return;
      throw unavailable('Could not start epmd on 127.0.0.1:4369 for RabbitMQ.');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  ourEpmd = child;
  brokersUsingOurEpmd = 1;
}

async function releaseEpmd(usedOurs: boolean): Promise<void> {
  if (!usedOurs || !ourEpmd) return;
  if (--brokersUsingOurEpmd > 0) return;
  // Other nodes (not ours) may have registered meanwhile: then leave it running for them.
  const names = spawnSync('epmd', ['-names'], { encoding: 'utf8', env: { ...process.env, ERL_EPMD_ADDRESS: '127.0.0.1' } });
  const others = (names.stdout ?? '').split('\n').filter((l) => l.startsWith('name '));
  const epmd = ourEpmd;
  ourEpmd = null;
  if (others.length === 0 && epmd.exitCode === null && epmd.signalCode === null) {
    const gone = new Promise((r) => epmd.once('exit', r));
    epmd.kill('SIGTERM');
    await gone;
  }
}

// --- the broker -----------------------------------------------------------------------------
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live)
    try {
      if (c.pid) process.kill(-c.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
});

async function amqpReady(url: string): Promise<boolean> {
  const amqp = await import('amqplib');
  try {
    const c = await amqp.connect(url, { timeout: 1000 });
    await c.close();
    return true;
  } catch {
    return false;
  }
}

export async function startRabbitMq(opts: RabbitMqOptions): Promise<RabbitMq> {
  const bin = rabbitMqServerBin();
  if (!bin) throw unavailable('rabbitmq-server is not installed (Debian package rabbitmq-server).');
  const dir = resolve(opts.dir);
  const port = opts.port ?? (await freeLocalPort());
  const distPort = await freeLocalPort();
  const url = `amqp://guest:guest@127.0.0.1:${port}/`;
  const owner = process.getuid?.() === 0 ? userIds('rabbitmq') : null;
  if (process.getuid?.() === 0 && !owner) throw unavailable('Running as root and there is no rabbitmq user to run RabbitMQ as.');

  const home = join(dir, 'home');
  for (const d of [dir, home, join(dir, 'mnesia'), join(dir, 'log')]) mkdirSync(d, { recursive: true });
  const cookie = join(home, '.erlang.cookie');
  if (!existsSync(cookie)) writeFileSync(cookie, randomBytes(15).toString('hex').toUpperCase(), { mode: 0o400 });
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '# nova-ts private broker: everything is set in the environment\n');
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = 127.0.0.1:${port}`,
      'loopback_users.guest = true',
      'disk_free_limit.absolute = 20MB',
      'log.console = false',
      'log.file.level = warning',
      // Messages up to 128 MB (the default); large image metadata and console logs pass.
      '',
    ].join('\n'),
  );
  if (owner) {
    chownTree(dir, owner.uid, owner.gid);
    const probe = spawnSync('test', ['-w', dir], { uid: owner.uid, gid: owner.gid });
    if (probe.status !== 0)
      throw unavailable(`The rabbitmq user cannot write to ${dir}: a parent directory is not accessible to it.`);
  }
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    RABBITMQ_NODENAME: `novats${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_LOGS: join(dir, 'log', 'rabbit.log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: join(dir, 'rabbit.pid'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    ERL_EPMD_ADDRESS: '127.0.0.1',
  };

  let child: ChildProcess | null = null;
  let usedOurEpmd = false;

  const launch = async () => {
    if (!usedOurEpmd) {
      await ensureEpmd();
      usedOurEpmd = ourEpmd !== null;
    }
    const out = openSync(join(dir, 'log', 'startup.log'), 'a');
    const c = spawn(bin, [], {
      cwd: dir,
      env,
      stdio: ['ignore', out, out],
      detached: true, // its own process group, so a stop reaches the Erlang VM too
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
    });
    closeSync(out);
    child = c;
    live.add(c);
    c.once('exit', () => live.delete(c));
    const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
    for (;;) {
      if (await amqpReady(url)) return;
      if (c.exitCode !== null || c.signalCode !== null || Date.now() > deadline) {
        const tail = readTail(join(dir, 'log', 'startup.log'));
        await halt();
        throw unavailable(`RabbitMQ did not start on 127.0.0.1:${port}: ${tail}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const halt = async (keepEpmd = false) => {
    const c = child;
    child = null;
    if (!c || !c.pid) return;
    if (c.exitCode === null && c.signalCode === null) {
      await new Promise<void>((res) => {
        const t = setTimeout(() => {
          try {
            process.kill(-c.pid!, 'SIGKILL');
          } catch {
            /* gone */
          }
        }, 15_000);
        c.once('exit', () => {
          clearTimeout(t);
          res();
        });
        try {
          process.kill(c.pid!, 'SIGTERM'); // the start script stops the VM gracefully
        } catch {
          clearTimeout(t);
          res();
        }
      });
    }
    // Anything left in its process group (erl_child_setup, inet_gethost) goes too.
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      /* none left */
    }
    live.delete(c);
    if (!keepEpmd) {
      await releaseEpmd(usedOurEpmd);
      usedOurEpmd = false;
    }
  };

  await launch();
  return {
    url,
    port,
    get pid() {
      return (child as ChildProcess | null)?.pid ?? 0;
    },
    stop: () => halt(),
    async restart() {
      await halt(true);
      await launch();
    },
  };
}

function readTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-1500).trim() || '(no output)';
  } catch {
    return '(no output)';
  }
}
