import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unavailable } from '../../errors.js';
import { cmdline, killAndWait, ownedPid, waitForPid } from './processes.js';

/**
 * Runs metadata-proxy.(ts|js) inside the namespace as a detached process that outlives this
 * one (pid file metadata-proxy.pid, output metadata-proxy.log in the state dir).
 */

export const METADATA_LISTEN = '169.254.169.254:80';

/** The proxy script beside this module: .ts when running from src under tsx, .js from dist. */
export const proxyScript = () => {
  const self = fileURLToPath(import.meta.url);
  return join(self, '..', `metadata-proxy${extname(self) || '.js'}`);
};

export const proxyFiles = (stateDir: string) => ({
  pid: join(stateDir, 'metadata-proxy.pid'),
  log: join(stateDir, 'metadata-proxy.log'),
});

/** The proxy's argv (node's flags kept, such as `--import tsx`; test-runner and debugger ones dropped). */
export function proxyArgv(socket: string, stateDir: string): string[] {
  const flags: string[] = [];
  const withValue = /^--test-(reporter|reporter-destination|name-pattern|skip-pattern|concurrency|timeout|shard)$/;
  for (let i = 0; i < process.execArgv.length; i++) {
    const a = process.execArgv[i];
    if (withValue.test(a)) i++;
    else if (!/^--(test|inspect|watch)/.test(a)) flags.push(a);
  }
  return [process.execPath, ...flags, proxyScript(), '--listen', METADATA_LISTEN, '--socket', socket, '--pid-file', proxyFiles(stateDir).pid];
}

/**
 * Makes the proxy for `socket` run in the namespace: adopts a running one with exactly the
 * wanted argv, else stops ours (if any) and starts a new one. Resolves with its PID once it
 * listens; rejects with its output when it cannot start.
 */
export async function ensureProxy(netns: string, socket: string, stateDir: string): Promise<{ pid: number; adopted: boolean }> {
  const files = proxyFiles(stateDir);
  const argv = proxyArgv(socket, stateDir);
  const running = ownedPid(files.pid, files.pid);
  if (running !== null) {
    if (JSON.stringify(cmdline(running)) === JSON.stringify(argv)) return { pid: running, adopted: true };
    await killAndWait(running);
  }
  rmSync(files.pid, { force: true });
  const fd = openSync(files.log, 'a');
  let exited: number | null = null;
  try {
    const child = spawn('ip', ['netns', 'exec', netns, ...argv], { detached: true, stdio: ['ignore', fd, fd] });
    child.on('exit', (c) => (exited = c ?? -1));
    child.on('error', () => (exited = -1));
    child.unref();
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + 15_000;
  for (;;) {
    const pid = await waitForPid(files.pid, files.pid, 100);
    if (pid !== null) return { pid, adopted: false };
    if (exited !== null || Date.now() > deadline) {
      const tail = readFileSync(files.log, 'utf8').trim().split('\n').slice(-3).join(' ');
      throw unavailable(`The metadata proxy did not start${exited !== null ? ` (exit ${exited})` : ''}: ${tail}`);
    }
  }
}

/** Stops our proxy (if alive) and removes its pid file. */
export async function stopProxy(stateDir: string): Promise<void> {
  const files = proxyFiles(stateDir);
  const pid = ownedPid(files.pid, files.pid);
  if (pid !== null) await killAndWait(pid);
  rmSync(files.pid, { force: true });
}
