/**
 * What this machine offers QEMU guests: the accelerator (KVM only when the CPU really has
 * hardware virtualisation and /dev/kvm opens, TCG otherwise), QEMU's version, and the host's
 * real vCPUs, RAM and disk for the scheduler.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { run } from './exec.js';

export type Accelerator = 'kvm' | 'tcg';

/**
 * KVM when /dev/kvm is usable and /proc/cpuinfo has vmx or svm. /dev/kvm alone is not enough:
 * on nested machines without the flag a KVM guest hangs with no output.
 */
export function detectAccelerator(): Accelerator {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    const flags = readFileSync('/proc/cpuinfo', 'utf8');
    return /^flags\s*:.*\b(vmx|svm)\b/m.test(flags) ? 'kvm' : 'tcg';
  } catch {
    return 'tcg';
  }
}

/** QEMU's version as Nova reports hypervisor versions: major*1e6 + minor*1e3 + micro. */
export async function qemuVersion(binary: string): Promise<number> {
  const { stdout } = await run(binary, ['--version']);
  const m = /version (\d+)\.(\d+)\.(\d+)/.exec(stdout);
  return m ? Number(m[1]) * 1_000_000 + Number(m[2]) * 1000 + Number(m[3]) : 0;
}

export interface HostCapacity {
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  cpuModel: string;
}

/** The machine's vCPUs, RAM (MiB) and the size (GiB) of the file system holding dir. */
export async function hostCapacity(dir: string): Promise<HostCapacity> {
  const s = await statfs(dir);
  const list = cpus();
  return {
    vcpus: Math.max(1, list.length),
    memoryMb: Math.floor(totalmem() / 1048576),
    diskGb: Math.max(1, Math.floor((s.blocks * s.bsize) / 1073741824)),
    cpuModel: list[0]?.model ?? 'unknown',
  };
}
