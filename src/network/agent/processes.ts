import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The agent's long-lived helpers (dnsmasq, the metadata proxy) are identified by their pid
 * files AND their command line: a PID is ours only while /proc/<pid>/cmdline contains the
 * marker we gave it (its pid file path), so a reused PID is never signalled.
 */

export function readPid(pidFile: string): number | null {
  try {
    const n = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(n) && n > 1 ? n : null;
  } catch {
    return null;
  }
}

/** The process's argv, or null when it is gone (or a zombie). */
export function cmdline(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!raw) return null;
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return null;
  }
}

/** The pid in pidFile when that process is alive and its argv contains `marker`; else null. */
export function ownedPid(pidFile: string, marker: string): number | null {
  const pid = readPid(pidFile);
  if (pid === null) return null;
  const argv = cmdline(pid);
  return argv && argv.some((a) => a.includes(marker)) ? pid : null;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function killAndWait(pid: number, graceMs = 2000): Promise<void> {
  const alive = () => cmdline(pid) !== null;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await sleep(20);
  if (alive()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    while (alive()) await sleep(20);
  }
}

/** Waits until `pidFile` names a live process whose argv contains `marker` (or gives up). */
export async function waitForPid(pidFile: string, marker: string, ms: number): Promise<number | null> {
  const deadline = Date.now() + ms;
  for (;;) {
    const pid = ownedPid(pidFile, marker);
    if (pid !== null || Date.now() > deadline) return pid;
    await sleep(20);
  }
}
