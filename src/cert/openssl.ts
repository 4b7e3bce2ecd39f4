/**
 * Runs the Debian `openssl` command (the CA signs with it: Node's crypto makes keys but no
 * certificates). Failures become NovaErrors that say what openssl said; a missing binary says
 * how to install it.
 */
import { execFile } from 'node:child_process';
import { unavailable } from '../errors.js';

/** Runs `openssl ...args`; resolves with stdout, rejects with openssl's own complaint. */
export function openssl(args: string[], opts: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd: opts.cwd, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return reject(unavailable('The openssl command is not installed; the certificate authority needs it (apt-get install openssl).'));
      const said = (stderr || err.message).trim().split('\n').slice(0, 6).join(' / ');
      reject(unavailable(`openssl ${args[0]} failed: ${said}`));
    });
  });
}

/**
 * Escapes one attribute value for openssl's `-subj /K=V/...` syntax, where `/`, `+`, `=`,
 * `,` and `\` are special.
 */
export function subjValue(v: string): string {
  return v.replace(/[\\/+=,]/g, (c) => `\\${c}`);
}

/** A random positive 128-bit serial number as 32 lowercase hex digits (first byte 0x01..0x7f). */
export function randomSerial(bytes: Buffer): string {
  const b = Buffer.from(bytes.subarray(0, 16));
  b[0] = (b[0] & 0x7f) || 0x01;
  return b.toString('hex');
}
