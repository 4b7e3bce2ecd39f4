/**
 * Runs the processes of a local cluster: each one a child in a process group of its own (so a
 * Ctrl-C at the terminal reaches only the cluster, which then stops them in order), its output
 * appended to `<dir>/logs/<name>.log`, its PID in `<dir>/pids/<name>.pid` while it runs.
 *
 * Contract: start() spawns and returns at once; ready() resolves when the child's log shows the
 * ready pattern, or rejects (naming the log) when the child exits first or the time runs out.
 * stop() sends SIGTERM, waits for the exit (SIGKILL to the child's process group after
 * `graceMs`), removes the PID file and resolves with how it ended; idempotent. A child that exits
 * on its own (crash, kill -9) is reported through onExit and is not restarted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProcessSpec {
  /** Unique within the cluster: names the PID and log files, e.g. `compute-host1`. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** A line of output matching this means the process serves. */
  readyPattern: RegExp;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when SIGTERM did not stop it in time and it was SIGKILLed. */
  killed: boolean;
}

export interface Supervised {
  name: string;
  pid: number;
  logFile: string;
  /** True until the process has exited. */
  running(): boolean;
  ready(timeoutMs: number): Promise<void>;
  /** Resolves when the process exits, however it ends. */
  exited: Promise<ExitInfo>;
  stop(graceMs?: number): Promise<ExitInfo>;
}

export const pidFile = (dir: string, name: string): string => join(dir, 'pids', `${name}.pid`);
export const logFile = (dir: string, name: string): string => join(dir, 'logs', `${name}.log`);

/** Records a PID of something not spawned by start() (e.g. PostgreSQL), removed by the returned function. */
export function writePidFile(dir: string, name: string, pid: number): () => void {
  mkdirSync(join(dir, 'pids'), { recursive: true });
  const file = pidFile(dir, name);
  writeFileSync(file, `${pid}\n`);
  return () => {
    // Only our own record: a later cluster may have written its PID since.
    if (existsSync(file) && readFileSync(file, 'utf8').trim() === String(pid)) rmSync(file, { force: true });
  };
}

/** True when a process with this PID exists (EPERM counts: it exists, just not ours). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The PID files under `<dir>/pids` that name a live process whose command line mentions `dir`
 * (so a PID reused by an unrelated process is not taken for ours): what a cluster that was not
 * stopped (kill -9 of the cluster itself) left running.
 */
export function leftoverProcesses(dir: string): { name: string; pid: number }[] {
  const pids = join(dir, 'pids');
  if (!existsSync(pids)) return [];
  const out: { name: string; pid: number }[] = [];
  for (const f of readdirSync(pids)) {
    if (!f.endsWith('.pid')) continue;
    const pid = Number(readFileSync(join(pids, f), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    if (cmdline.includes(dir)) out.push({ name: f.slice(0, -4), pid });
  }
  return out;
}

/** Starts one process of the cluster under `dir`. */
export function startProcess(dir: string, spec: ProcessSpec): Supervised {
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const log = logFile(dir, spec.name);
  const fd = openSync(log, 'a');
  const offset = statSync(log).size;
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env ?? process.env, stdio: ['ignore', fd, fd], detached: true });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
  const removePid = writePidFile(dir, spec.name, pid);
  let killed = false;
  let done = false;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      removePid();
      resolve({ code, signal, killed });
    });
  });
  child.once('error', () => undefined);

  const ready = (timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      let pos = offset;
      let tail = '';
      const poll = () => {
        const f = openSync(log, 'r');
        try {
          const buf = Buffer.alloc(65536);
          for (;;) {
            const n = readSync(f, buf, 0, buf.length, pos);
            if (n <= 0) break;
            pos += n;
            tail = (tail + buf.subarray(0, n).toString('utf8')).slice(-8192);
          }
        } finally {
          closeSync(f);
        }
        if (tail.split('\n').some((l) => spec.readyPattern.test(l))) return resolve();
        if (done) return reject(new Error(`${spec.name} exited before it was ready; see ${log}:\n${tail.slice(-3000)}`));
        if (Date.now() > deadline) return reject(new Error(`${spec.name} was not ready within ${Math.round(timeoutMs / 1000)} s; see ${log}:\n${tail.slice(-3000)}`));
        setTimeout(poll, 100);
      };
      poll();
    });

  let stopping: Promise<ExitInfo> | undefined;
  return {
    name: spec.name,
    pid,
    logFile: log,
    running: () => !done,
    ready,
    exited,
    stop(graceMs = 20_000) {
      stopping ??= (async () => {
        if (done) return exited;
        child.kill('SIGTERM');
        const t = setTimeout(() => {
          killed = true;
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        }, graceMs);
        const info = await exited;
        clearTimeout(t);
        return { ...info, killed };
      })();
      return stopping;
    },
  };
}
