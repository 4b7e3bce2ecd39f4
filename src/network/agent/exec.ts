import { spawn } from 'node:child_process';
import { unavailable } from '../../errors.js';

/**
 * Runs a command to completion (no shell), feeding `input` on stdin. Resolves with its output
 * when it exits 0; otherwise rejects with a ServiceUnavailable error naming the command and
 * quoting its stderr (or resolves anyway when `allowFail`, with the exit code).
 */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string; allowFail?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => reject(unavailable(`Cannot run ${cmd}: ${e.message}`)));
    child.on('close', (code) => {
      const c = code ?? -1;
      if (c === 0 || opts.allowFail) resolve({ code: c, stdout, stderr });
      else reject(unavailable(`${[cmd, ...args].join(' ')} failed (exit ${c}): ${stderr.trim().slice(0, 2000)}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** `ip netns exec <ns> <cmd> <args...>`. */
export const inNetns = (netns: string, cmd: string, args: string[], opts?: { input?: string; allowFail?: boolean }) =>
  run('ip', ['netns', 'exec', netns, cmd, ...args], opts);
