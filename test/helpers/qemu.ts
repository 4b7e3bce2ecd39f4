/**
 * Test helpers for clouds running the qemu driver: where the shared tiny-linux build lives, and
 * what /proc says about guests' QEMU processes (tests cannot use QMP: the driver holds the one
 * connection of each guest).
 *
 * Contract: every lookup reads /proc afresh and ignores zombies and processes that are not a
 * QEMU (the first word of the command line must name qemu-system-*). killQemusOf only signals
 * processes whose command line names a path inside the given data dir, by PID.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** Where tests build tiny-linux once and share it (NOVA_TS_GUEST_IMAGE_DIR of their clouds). */
export const GUEST_IMAGE_CACHE = join(tmpdir(), 'nova-ts-guest-image-cache');

/** Why qemu tests must be skipped on this machine, or false when they can run. */
export function qemuSkipReason(): string | false {
  if (spawnSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' }).status !== 0) return 'qemu-system-x86_64 is not installed';
  if (spawnSync('qemu-img', ['--version'], { stdio: 'ignore' }).status !== 0) return 'qemu-img is not installed';
  return false;
}

function cmdline(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/^\d+ \(.*\) [ZX]/s.test(stat)) return null;
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return basename(cmd.split('\0')[0] ?? '').startsWith('qemu-system') ? cmd : null;
  } catch {
    return null;
  }
}

/** PIDs of live QEMU processes whose command line contains every one of the given strings. */
export function qemuPids(...needles: string[]): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = cmdline(Number(name));
    if (cmd !== null && needles.every((n) => cmd.includes(n))) out.push(Number(name));
  }
  return out;
}

/** The live QEMU processes of one guest (their command line names `nova-ts-<uuid>`). */
export const guestPids = (uuid: string): number[] => qemuPids(`nova-ts-${uuid}`);

/** True while pid is a live (not zombie) QEMU process. */
export const isLiveQemu = (pid: number): boolean => cmdline(pid) !== null;

/** CPU time (user + system, in clock ticks) the process has used, summed over its threads. */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of proc(5); f[0] is field 3 (state).
  return Number(f[11]) + Number(f[12]);
}

/**
 * SIGKILLs every QEMU whose command line names a path inside dataDir (the guests of a cloud
 * using that data dir: their console, disk and QMP socket live there). Returns the PIDs killed.
 */
export function killQemusOf(dataDir: string): number[] {
  const pids = qemuPids(`${dataDir.replace(/\/+$/, '')}/`, 'nova-ts-');
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

/**
 * Removes a compute host's network namespace (src/cloud.ts hostNamespace) and kills, by PID,
 * what still runs in it (dnsmasq, the metadata proxy, QEMU): all of it belongs to the test's
 * own cloud, whose namespace name is unique to its data dir. Returns the killed PIDs.
 */
export function removeHostNamespace(name: string): number[] {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  if (!list.split('\n').some((l) => l.split(' ')[0] === name)) return [];
  const pids = (spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '').split(/\s+/).filter((p) => /^\d+$/.test(p)).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
  spawnSync('ip', ['netns', 'del', name]);
  return pids;
}
