/**
 * Runs a helper program (qemu-img, genisoimage, ...) and returns its output. A failure
 * rejects with an Error whose message names the program and carries its stderr, which is what
 * users see in an instance fault; a missing program says which Debian package provides it.
 */
import { execFile } from 'node:child_process';

const PACKAGE_OF: Record<string, string> = {
  'qemu-img': 'qemu-utils',
  'qemu-system-x86_64': 'qemu-system-x86',
  genisoimage: 'genisoimage',
};

export function run(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', maxBuffer: 16 * 1048576, timeout: opts.timeoutMs ?? 300_000 }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr });
      const e = err as NodeJS.ErrnoException & { code?: unknown };
      if (e.code === 'ENOENT') {
        const pkg = PACKAGE_OF[cmd.split('/').pop() ?? cmd];
        return reject(new Error(`${cmd} is not installed${pkg ? ` (Debian package ${pkg})` : ''}.`));
      }
      const detail = (stderr || stdout || e.message).trim().split('\n').slice(-3).join(' ');
      reject(new Error(`${cmd.split('/').pop()} failed: ${detail}`));
    });
  });
}
