/**
 * One QEMU process per guest. A guest's definition (guest.json in its directory) fixes its
 * command line, so a guest started again, or restored from a suspend, gets the same devices.
 * QEMU is started with -daemonize: it reports start-up errors before detaching, then lives in a
 * session of its own, so guests outlive nova-ts. The pid file and the QMP socket find it again.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { consoleArgs } from './consoles.js';
import type { Accelerator } from './host.js';
import { blockdevOf, bootVolume, dataVolumeArgs, deviceArg, type GuestVolume } from './volumes.js';

export interface GuestDefinition {
  uuid: string;
  name: string;
  memoryMb: number;
  vcpus: number;
  accel: Accelerator;
  /** Direct kernel boot (AMI-style images): cached kernel and ramdisk files and the command line. */
  kernel: string | null;
  ramdisk: string | null;
  cmdline: string | null;
  configDrive: boolean;
  /**
   * The guest's NICs in PCI order: each a virtio-net device on a tap that already exists in the
   * host's network namespace. Absent in guest.json files written before networking (no NICs).
   */
  nics?: GuestNic[];
  /**
   * The guest's volumes (volumes.ts): a boot volume (bootIndex 0) is its root disk instead of
   * the `disk` overlay; data volumes follow the root disk. Absent in older guest.json files.
   */
  volumes?: GuestVolume[];
  /**
   * The guest has remote consoles (consoles.ts: VGA shown over VNC, the serial port on a
   * socket). Set by every fresh start; absent in guests started before consoles existed, whose
   * saved memory (a suspend) must be restored with the devices it was saved with.
   */
  consoles?: boolean;
}

/** One NIC of a guest: the port it belongs to, its tap in the host's namespace and its MAC. */
export interface GuestNic {
  /** Port id; names the QEMU netdev and device (nicIds). */
  port: string;
  /** The tap device (Vif.devname). */
  devname: string;
  mac: string;
}

/** QEMU ids of a NIC's tap backend and its virtio-net device (ids must start with a letter). */
export const nicIds = (port: string) => ({ netdev: `hostnet-${port}`, device: `net-${port}` });

/** The files of a guest inside its directory. */
export const guestFiles = (dir: string) => ({
  definition: join(dir, 'guest.json'),
  disk: join(dir, 'disk'),
  configDrive: join(dir, 'disk.config'),
  qmp: join(dir, 'qmp.sock'),
  console: join(dir, 'console.log'),
  pid: join(dir, 'qemu.pid'),
  state: join(dir, 'memory.state'),
});

/** QEMU's option syntax doubles commas inside values. */
const esc = (s: string) => s.replace(/,/g, ',,');

/** The command line of a guest; `incoming` restores the memory state saved by a suspend. */
export function qemuArgs(def: GuestDefinition, dir: string, incoming?: string): string[] {
  const f = guestFiles(dir);
  const args = [
    '-name', `guest=nova-ts-${def.uuid},process=nova-ts-${def.uuid}`,
    '-uuid', def.uuid,
    '-machine', `pc,accel=${def.accel}`,
    ...(def.accel === 'kvm' ? ['-cpu', 'host'] : []),
    '-m', String(def.memoryMb),
    '-smp', String(def.vcpus),
    '-nodefaults', '-no-user-config', '-display', 'none', '-nic', 'none',
    // Serial console: a socket that also writes console.log, or (guests from before consoles) only the log.
    ...(def.consoles ? consoleArgs(dir, f.console) : ['-chardev', `file,id=serial0,path=${esc(f.console)},append=on`]),
    '-rtc', 'base=utc',
    // Entropy for the guest (its SSH host key is ready in a second instead of waiting on the pool).
    '-object', 'rng-random,id=rng0,filename=/dev/urandom', '-device', 'virtio-rng-pci,rng=rng0',
    '-serial', 'chardev:serial0',
    '-qmp', `unix:${esc(f.qmp)},server=on,wait=off`,
  ];
  const boot = bootVolume(def.volumes);
  if (boot) args.push('-blockdev', JSON.stringify(blockdevOf(boot)), '-device', deviceArg(boot, 1));
  else
    args.push(
      '-drive', `file=${esc(f.disk)},format=qcow2,if=none,id=root,cache=writeback,discard=unmap`,
      '-device', 'virtio-blk-pci,drive=root,bootindex=1',
    );
  args.push(...dataVolumeArgs(def.volumes ?? []));
  if (def.configDrive)
    args.push('-drive', `file=${esc(f.configDrive)},format=raw,if=none,id=config,readonly=on`, '-device', 'virtio-blk-pci,drive=config');
  for (const nic of def.nics ?? []) {
    const ids = nicIds(nic.port);
    args.push(
      '-netdev', `tap,id=${ids.netdev},ifname=${esc(nic.devname)},script=no,downscript=no`,
      '-device', `virtio-net-pci,netdev=${ids.netdev},mac=${nic.mac},id=${ids.device}`,
    );
  }
  if (def.kernel) {
    args.push('-kernel', def.kernel);
    if (def.ramdisk) args.push('-initrd', def.ramdisk);
    args.push('-append', def.cmdline ?? 'root=/dev/vda console=ttyS0');
  }
  if (incoming) args.push('-incoming', `exec:cat '${incoming.replace(/'/g, `'\\''`)}'`);
  args.push('-pidfile', f.pid, '-daemonize');
  return args;
}

/**
 * Starts QEMU and waits until it has detached (the guest is then running, or waiting for its
 * incoming state). Rejects with QEMU's own error message when it cannot start. With `netns`
 * QEMU runs inside that network namespace (where its taps are): `ip netns exec` execs QEMU, so
 * the pid file still names QEMU itself.
 */
export function launch(binary: string, args: string[], netns?: string | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const [cmd, argv] = netns ? ['ip', ['netns', 'exec', netns, binary, ...args]] : [binary, args];
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout.resume();
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new Error(
          e.code !== 'ENOENT'
            ? `QEMU could not start: ${e.message}`
            : netns
              ? 'ip is not installed (Debian package iproute2); it runs QEMU in the network namespace.'
              : `${binary} is not installed (Debian package qemu-system-x86).`,
        ),
      ),
    );
    child.once('close', (code) => {
      if (code === 0) return resolve();
      const msg = err.trim().split('\n').filter(Boolean).slice(-3).join(' ') || `exit status ${code}`;
      reject(new Error(`QEMU could not start the guest: ${msg.replace(/^qemu-system-x86_64: /, '')}`));
    });
  });
}

/** The pid of the guest's QEMU when that process is alive and really is this guest's QEMU. */
export async function livePid(dir: string, uuid: string): Promise<number | null> {
  let pid: number;
  try {
    pid = Number((await readFile(guestFiles(dir).pid, 'utf8')).trim());
  } catch {
    return null;
  }
  return isGuestProcess(pid, uuid) ? pid : null;
}

/** True when pid is a live (not zombie) process whose command line names this guest (no pid reuse). */
export function isGuestProcess(pid: number, uuid: string): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/^\d+ \(.*\) Z/.test(stat)) return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`nova-ts-${uuid}`);
  } catch {
    return false;
  }
}

/** Waits until the process is gone; false after timeoutMs. */
export async function waitExit(pid: number, uuid: string, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (isGuestProcess(pid, uuid)) {
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** SIGKILLs the guest's QEMU (only if the pid still is that guest) and waits for it to go. */
export async function kill(pid: number, uuid: string): Promise<void> {
  if (!isGuestProcess(pid, uuid)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitExit(pid, uuid, 10_000);
}
