/**
 * `npm run cluster` as a benchmark's child: the built cluster command (dist/src/cluster/main.js,
 * what scripts/cluster.mjs runs after building) in a fresh directory, with free ports.
 *
 * Contract: startClusterProcess resolves once the cluster printed `cluster ready`, with its
 * clouds.yaml, every API process's base URL (from DIR/etc/api-*.conf) and the PIDs of DIR/pids
 * (services, PostgreSQL, RabbitMQ and the cluster supervisor itself). stop() sends the cluster
 * SIGTERM (it stops its services, broker and database), waits for it (SIGKILL after 120 s), then
 * SIGKILLs any PID it had recorded that still runs, and removes DIR (and the data PostgreSQL or
 * RabbitMQ kept outside it, when DIR/<name> is a link); idempotent. A failed start cleans up the
 * same way before rejecting. Processes still running when this process exits are SIGKILLed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processAlive } from '../../src/cluster/supervisor.js';
import { REPO_ROOT } from '../../test/helpers/process.js';

export interface ClusterProcess {
  dir: string;
  cloudsYaml: string;
  /** Base URL (http://127.0.0.1:PORT) of every API process, api-1 first. */
  apiUrls: string[];
  /** name -> PID, from DIR/pids when the cluster said ready. */
  pids: Map<string, number>;
  /** The command line, for the record. */
  command: string;
  output(): string;
  stop(): Promise<void>;
}

function readPids(dir: string): Map<string, number> {
  const d = join(dir, 'pids');
  if (!existsSync(d)) return new Map();
  return new Map(
    readdirSync(d)
      .filter((f) => f.endsWith('.pid'))
      .map((f) => [f.slice(0, -4), Number(readFileSync(join(d, f), 'utf8').trim())] as const)
      .filter(([, pid]) => pid > 0),
  );
}

function apiUrls(dir: string): string[] {
  const etc = join(dir, 'etc');
  return readdirSync(etc)
    .filter((f) => /^api-\d+\.conf$/.test(f))
    .sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]))
    .map((f) => {
      const m = /^listen\s*=\s*(\S+)\s*$/m.exec(readFileSync(join(etc, f), 'utf8'));
      if (!m) throw new Error(`no listen = in ${join(etc, f)}`);
      return `http://${m[1]}`;
    });
}

/** Starts the cluster with `args` (after --data-dir); rejects with its output when it fails or takes over `readyTimeoutMs`. */
export async function startClusterProcess(args: string[], readyTimeoutMs = 300_000): Promise<ClusterProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'nova-ts-cluster-bench-'));
  // PostgreSQL and RabbitMQ run as their own users: let them reach DIR (mkdtemp makes it 0700).
  chmodSync(dir, 0o755);
  const main = join(REPO_ROOT, 'dist', 'src', 'cluster', 'main.js');
  const fullArgs = ['--data-dir', dir, ...args];
  const child: ChildProcess = spawn(process.execPath, [main, ...fullArgs], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const append = (b: Buffer) => (out = (out + b.toString('utf8')).slice(-262_144));
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  let known = new Map<string, number>();
  const onExit = () => {
    for (const pid of [child.pid, ...known.values()]) if (pid && processAlive(pid)) process.kill(pid, 'SIGKILL');
  };
  process.once('exit', onExit);

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      known = new Map([...known, ...readPids(dir)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(120_000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      for (const [, pid] of known) if (pid !== child.pid && processAlive(pid)) process.kill(pid, 'SIGKILL');
      await sleep(200);
      process.removeListener('exit', onExit);
      for (const name of ['postgres', 'rabbitmq']) {
        const p = join(dir, name);
        try {
          if (lstatSync(p).isSymbolicLink()) rmSync(dirname(readlinkSync(p)), { recursive: true, force: true });
        } catch {
          /* not there */
        }
      }
      rmSync(dir, { recursive: true, force: true });
    })());

  const deadline = Date.now() + readyTimeoutMs;
  try {
    while (!/^cluster ready\b/m.test(out)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the cluster exited (${child.exitCode ?? child.signalCode}) before it was ready`);
      if (Date.now() > deadline) throw new Error(`the cluster was not ready within ${readyTimeoutMs / 1000} s`);
      known = new Map([...known, ...readPids(dir)]);
      await sleep(200);
    }
    known = readPids(dir);
    return {
      dir,
      cloudsYaml: join(dir, 'clouds.yaml'),
      apiUrls: apiUrls(dir),
      pids: new Map(known),
      command: `npm run cluster -- ${fullArgs.join(' ')}`,
      output: () => out,
      stop,
    };
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}; its output (last 3000 chars):\n${out.slice(-3000)}`, { cause: e });
  }
}
