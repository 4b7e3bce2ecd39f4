/**
 * End-to-end harness: the all-in-one cloud as a real child process (the way users run it),
 * on a free 127.0.0.1 port in a temporary data dir, plus `runCli` for the real `openstack` CLI.
 *
 * Contract: startCloudProcess resolves once the child printed a line containing `ready` (so
 * DIR/clouds.yaml exists), or rejects with the captured output and kills the child. stop()
 * sends SIGTERM to the child's PID, waits for it to exit (SIGKILL after 10 s) and removes the
 * data dir unless asked to keep it. Children still running when this process exits are killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeLocalPort } from '../../src/cluster/ports.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** How to launch the cloud: `tsx` runs src/main.ts directly, `npm` runs `npm start` (builds dist/), `dist` runs dist/src/main.js. */
export type Entry = 'tsx' | 'npm' | 'dist';

export interface StartOptions {
  /** Reuse this data dir (e.g. to restart a cloud); default a fresh mkdtemp dir. */
  dataDir?: string;
  entry?: Entry;
  fakeHosts?: number;
  /** More arguments for nova-ts, e.g. ['--fake-delay', 'spawn=50']. */
  args?: string[];
  /** Milliseconds to wait for `ready` (default 60 s, 240 s for npm which builds first). */
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the child had to be SIGKILLed because SIGTERM did not stop it within 10 s. */
  killed: boolean;
}

export interface CloudProcess {
  url: string;
  port: number;
  dataDir: string;
  cloudsYaml: string;
  pid: number;
  /** Everything the child printed so far (stdout and stderr interleaved, last 256 KiB). */
  output(): string;
  /** Stops the child (SIGTERM, SIGKILL after 10 s); removes the data dir unless keepDataDir. */
  stop(opts?: { keepDataDir?: boolean }): Promise<ExitInfo>;
  /** Runs the openstack CLI against this cloud (see runCli). */
  cli(args: string[], opts?: Omit<CliOptions, 'cloudsYaml'>): Promise<CliResult>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) killTree(c, 'SIGKILL');
});

/**
 * Signals the child's process group (the child is its leader: we spawn it detached), so that
 * what it started (npm's node) goes too. Falls back to the child alone only while it has not
 * exited, so a PID the system may since have reused is never signalled.
 */
function killTree(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(child.pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1 (the product's freeLocalPort). */
export { freeLocalPort as freePort };

function command(entry: Entry, args: string[]): [string, string[]] {
  switch (entry) {
    case 'npm':
      return ['npm', ['start', '--silent', '--', ...args]];
    case 'dist':
      return [process.execPath, [join(REPO_ROOT, 'dist', 'src', 'main.js'), ...args]];
    default:
      return [process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src', 'main.ts'), ...args]];
  }
}

/** Starts the all-in-one cloud as a child process and waits until it is ready. */
export async function startCloudProcess(opts: StartOptions = {}): Promise<CloudProcess> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'nova-ts-e2e-'));
  let lastErr: unknown;
  // The free port can be taken between our probe and the child's listen: retry a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(dataDir, ownDir, opts);
    } catch (e) {
      lastErr = e;
      if (!/EADDRINUSE/.test(String((e as Error).message))) break;
    }
  }
  if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  throw lastErr;
}

async function startOnce(dataDir: string, ownDir: boolean, opts: StartOptions): Promise<CloudProcess> {
  const entry = opts.entry ?? 'tsx';
  const port = await freeLocalPort();
  const args = ['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--driver', 'fake'];
  if (opts.fakeHosts) args.push('--fake-hosts', String(opts.fakeHosts));
  args.push(...(opts.args ?? []));
  const [cmd, argv] = command(entry, args);
  const child = spawn(cmd, argv, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...(opts.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group, so that a stuck npm -> node chain can be killed as a whole.
    detached: true,
  });
  running.add(child);
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-256 * 1024);
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  child.stderr!.on('data', keep);

  const timeoutMs = opts.readyTimeoutMs ?? (entry === 'npm' ? 240_000 : 60_000);
  const ready = await new Promise<boolean>((resolve) => {
    let line = '';
    const onData = (d: Buffer) => {
      keep(d);
      line += d.toString('utf8');
      if (/\bready\b/.test(line)) {
        child.stdout!.off('data', onData);
        child.stdout!.on('data', keep);
        clearTimeout(timer);
        resolve(true);
      }
      line = line.slice(-200);
    };
    child.stdout!.on('data', onData);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    void exited.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });

  let stopped: Promise<ExitInfo> | undefined;
  const stop = (o: { keepDataDir?: boolean } = {}): Promise<ExitInfo> => {
    stopped ??= (async () => {
      let killed = false;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => {
          killed = true;
          killTree(child, 'SIGKILL');
        }, 10_000);
        await exited;
        clearTimeout(t);
      }
      // Whatever npm left in its process group (its node, if npm died first) goes too.
      if (entry === 'npm') killTree(child, 'SIGKILL');
      const e = await exited;
      return { ...e, killed };
    })();
    const info = stopped;
    return info.then((i) => {
      if (!o.keepDataDir) rmSync(dataDir, { recursive: true, force: true });
      return i;
    });
  };

  if (!ready) {
    const e = child.exitCode !== null || child.signalCode !== null ? await exited : undefined;
    await stop({ keepDataDir: !ownDir });
    const why = e ? `exited (code ${e.code}, signal ${e.signal})` : `printed no "ready" line within ${timeoutMs} ms`;
    throw new Error(`nova-ts (${cmd} ${argv.join(' ')}) ${why}; output:\n${out}`);
  }
  const cloudsYaml = join(dataDir, 'clouds.yaml');
  return {
    // With --tls among the arguments the cloud serves https (its CA is <dataDir>/ca/ca.pem).
    url: `${(opts.args ?? []).includes('--tls') ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    dataDir,
    cloudsYaml,
    pid: child.pid!,
    output: () => out,
    stop,
    cli: (a, o = {}) => runCli(a, { ...o, cloudsYaml }),
  };
}

export interface CliOptions {
  /** clouds.yaml to use (OS_CLIENT_CONFIG_FILE). */
  cloudsYaml: string;
  /** Cloud name in clouds.yaml: `nova-ts` (admin, the default) or `nova-ts-demo`. */
  cloud?: string;
  timeoutMs?: number;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when the command was given `-f json` and printed valid JSON. */
  json: any;
  /** The command line, for messages. */
  command: string;
}

/**
 * Runs `openstack --os-cloud <cloud> ARGS` with OS_CLIENT_CONFIG_FILE set and every other
 * OS_* variable removed. Never rejects on a non-zero exit: the caller checks `code`.
 */
export function runCli(args: string[], opts: CliOptions): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_')) env[k] = v;
  env.OS_CLIENT_CONFIG_FILE = opts.cloudsYaml;
  env.PYTHONWARNINGS = 'ignore';
  const argv = ['--os-cloud', opts.cloud ?? 'nova-ts', ...args];
  const commandLine = `openstack ${argv.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('openstack', argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      running.delete(child);
      reject(new Error(`${commandLine}: ${e.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      let json: any;
      const i = args.indexOf('-f');
      if (i >= 0 && args[i + 1] === 'json') {
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
      }
      resolve({ code, stdout, stderr, json, command: commandLine });
    });
  });
}

/** One-line description of a CLI result for assertion messages. */
export function describeCli(r: CliResult): string {
  return `${r.command} -> exit ${r.code}\nstdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr.slice(0, 4000)}`;
}
