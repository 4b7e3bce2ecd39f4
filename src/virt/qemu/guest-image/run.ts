/**
 * Runs a build helper (apt-get, dpkg-deb, cpio, mke2fs, qemu-img) and returns its output. A
 * failure rejects with an Error naming the program and carrying the end of its stderr; a
 * missing program says which Debian package provides it.
 */
import { execFile } from 'node:child_process';

const PACKAGE_OF: Record<string, string> = {
  'apt-get': 'apt',
  'apt-cache': 'apt',
  'dpkg-deb': 'dpkg',
  cpio: 'cpio',
  mke2fs: 'e2fsprogs',
  'qemu-img': 'qemu-utils',
};

export interface RunError extends Error {
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 64 * 1048576, timeout: opts.timeoutMs ?? 600_000, env: { ...process.env, LC_ALL: 'C' } },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'ENOENT') {
          const pkg = PACKAGE_OF[cmd];
          return reject(new Error(`${cmd} is not installed${pkg ? ` (Debian package ${pkg})` : ''}.`));
        }
        const detail = (stderr || stdout || e.message).trim().split('\n').slice(-4).join(' | ');
        const out = new Error(`${cmd} ${args[0] ?? ''} failed: ${detail}`) as RunError;
        out.stderr = stderr;
        reject(out);
      },
    );
  });
}
