/**
 * A guest's remote consoles: QEMU's VNC server (on a VGA card) and its first serial port, each
 * on a unix socket the console proxy connects to. The serial chardev also keeps writing the
 * console log (`logfile=`, opened O_APPEND by `logappend=on`, so console-log.ts's rotation by
 * truncation keeps working), whether or not a client is connected.
 *
 * Where the sockets are: `<guest dir>/vnc.sock` and `<guest dir>/serial.sock`. Unix socket paths
 * are limited to 107 bytes; when the guest dir is too deep for them, both go to a directory of
 * their own under os.tmpdir() named by a hash of the guests' directory
 * (`nova-ts-consoles-<hash>/<uuid>.vnc.sock`, mode 0700: the sockets need no password). Both
 * places follow from the guest dir alone, so a guest adopted after a restart of nova-ts keeps
 * its sockets, and consoleSockets() always names the paths QEMU was given.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** Unix socket paths are limited to 107 bytes (sun_path is 108 with its NUL). */
export const MAX_SOCKET_PATH = 107;

export interface ConsoleSockets {
  vnc: string;
  serial: string;
}

const fits = (s: ConsoleSockets) => Buffer.byteLength(s.vnc) <= MAX_SOCKET_PATH && Buffer.byteLength(s.serial) <= MAX_SOCKET_PATH;

/** The short directory used for the sockets of guests whose directory is too deep. */
export function fallbackSocketDir(guestsDir: string): string {
  const hash = createHash('sha256').update(guestsDir).digest('hex').slice(0, 12);
  return join(tmpdir(), `nova-ts-consoles-${hash}`);
}

/** The socket paths of the guest in `dir` (in the guest dir when they fit, else the fallback). */
export function consoleSockets(dir: string): ConsoleSockets {
  const local = { vnc: join(dir, 'vnc.sock'), serial: join(dir, 'serial.sock') };
  if (fits(local)) return local;
  const short = fallbackSocketDir(dirname(dir));
  const name = basename(dir);
  return { vnc: join(short, `${name}.vnc.sock`), serial: join(short, `${name}.serial.sock`) };
}

/**
 * Makes sure QEMU can create the guest's sockets: for fallback paths, creates the directory
 * (0700) and refuses one that is not a directory of this user's with no access for others
 * (someone else could otherwise reach the consoles). Error when even the fallback is too long.
 */
export async function prepareConsoleSockets(dir: string): Promise<ConsoleSockets> {
  const s = consoleSockets(dir);
  if (!fits(s))
    throw new Error(`The console socket path ${s.serial} is longer than ${MAX_SOCKET_PATH} bytes; use a shorter --data-dir or TMPDIR.`);
  const socketDir = dirname(s.vnc);
  if (socketDir === dir) return s;
  await mkdir(socketDir, { recursive: true, mode: 0o700 });
  const st = await lstat(socketDir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0)
    throw new Error(`${socketDir} (for console sockets) must be a directory owned by this user with mode 0700.`);
  return s;
}

/** Removes the guest's sockets (QEMU leaves vnc.sock behind, and fallback ones live elsewhere). */
export async function removeConsoleSockets(dir: string): Promise<void> {
  const s = consoleSockets(dir);
  await Promise.all([rm(s.vnc, { force: true }), rm(s.serial, { force: true })]);
}

/** QEMU's option syntax doubles commas inside values. */
const esc = (s: string) => s.replace(/,/g, ',,');

/**
 * QEMU arguments for the consoles: a standard VGA card shown by a VNC server on the vnc socket
 * (no password: only who can open the socket reaches it), and chardev `serial0` on the serial
 * socket (a server that never waits for a client) that also appends everything to `consoleLog`.
 */
export function consoleArgs(dir: string, consoleLog: string): string[] {
  const s = consoleSockets(dir);
  return [
    '-vga', 'std',
    '-vnc', `unix:${esc(s.vnc)}`,
    '-chardev', `socket,id=serial0,path=${esc(s.serial)},server=on,wait=off,logfile=${esc(consoleLog)},logappend=on`,
  ];
}
