/**
 * The qemu virt driver: one QEMU process per guest, driven over QMP, with a qcow2 overlay on a
 * cached base image (disks.ts), an optional config drive and the serial console in a
 * size-capped log file. A guest is its directory (guests.ts): guest.json (definition), disk,
 * disk.config, console.log, qmp.sock, qemu.pid and, while suspended, memory.state. Power states
 * follow from what is there: a live QEMU reports its run state over QMP; no process and a saved
 * memory state is SUSPENDED; no process is SHUTDOWN. Guests outlive nova-ts; init() finds them
 * again by their pid files and QMP sockets. NICs: each network_info VIF is a virtio-net device on
 * its tap, which the network agent created in the host's network namespace; QEMU runs inside
 * that namespace (opts.netns), and NICs are hot-plugged and unplugged over QMP (nics.ts).
 * Volumes (files named by their connection_info) are virtio-blk disks recorded in guest.json and
 * hot-plugged and unplugged over QMP (volumes.ts); a boot volume replaces the root disk overlay.
 * Consoles (consoles.ts): VNC and the serial port on unix sockets, given to the console proxy
 * by getConsole; the serial port also writes console.log.
 */
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { QemuDriverConfig } from '../../config.js';
import { PowerState } from '../../compute/vm-states.js';
import { conflict } from '../../errors.js';
import type { FlavorSnapshot } from '../../objects/flavor.js';
import type { ComputeDriver, DriverCapabilities, HostResources, InstancePayload } from '../driver.js';
import type { VolumeDevice } from '../../volume/types.js';
import { invalid } from '../../errors.js';
import type { Vif } from '../../network/types.js';
import { needsConfigDrive } from '../metadata-content.js';
import type { ConsoleConnectInfo, DriverConsoleKind } from '../../console/types.js';
import { buildConfigDrive } from './config-drive.js';
import { consoleSockets } from './consoles.js';
import { readConsoleTail, rotateConsoleLog } from './console-log.js';
import { createOverlay, exists, growDisk, ImageCache, type ImageFetcher } from './disks.js';
import { run } from './exec.js';
import { Guests } from './guests.js';
import { detectAccelerator, hostCapacity, qemuVersion, type Accelerator } from './host.js';
import { nicOf, plugNic, unplugNic } from './nics.js';
import type { GuestDefinition } from './process.js';
import { bootVolume, plugVolume, unplugVolume, volumeOf, withSlot, type GuestVolume } from './volumes.js';

/** How long a guest gets to release a volume (ACPI eject) when the caller names no timeout. */
export const VOLUME_DETACH_TIMEOUT_SEC = 30;

export interface QemuDriverOptions {
  host: string;
  /** Guests live in <root>/<host>/<uuid>; cached images in <root>/_base. */
  root: string;
  fetchImage: ImageFetcher;
  config: QemuDriverConfig;
  /**
   * The host's network namespace (from the network agent): QEMU runs inside it, where the
   * guests' taps are. Unset or null: no networking (guests must then have no NICs).
   */
  netns?: string | null;
  log?: (msg: string) => void;
}

const RUN_STATE: Record<string, PowerState> = {
  running: PowerState.RUNNING,
  shutdown: PowerState.SHUTDOWN,
  'internal-error': PowerState.CRASHED,
  'io-error': PowerState.CRASHED,
  'guest-panicked': PowerState.CRASHED,
};
// Every other QEMU run state (paused, inmigrate, postmigrate, prelaunch, ...) has stopped vCPUs.

const powerName = (p: PowerState) => Object.entries(PowerState).find(([, v]) => v === p)?.[0] ?? String(p);

export class QemuDriver implements ComputeDriver {
  readonly name = 'qemu';
  readonly capabilities: DriverCapabilities = {
    supportsPause: true,
    supportsSuspend: true,
    supportsSnapshot: true,
    supportsConsoleOutput: true,
    supportsResize: true,
  };
  readonly accel: Accelerator;
  private readonly images: ImageCache;
  private readonly guests: Guests;
  private rotateTimer: NodeJS.Timeout | null = null;
  private version: number | null = null;

  constructor(readonly opts: QemuDriverOptions) {
    this.accel = opts.config.accel === 'auto' ? detectAccelerator() : opts.config.accel;
    this.images = new ImageCache(join(opts.root, '_base'), opts.fetchImage);
    this.guests = new Guests(opts.root, opts.config.binary, (m) => opts.log?.(m));
    this.guests.host = opts.host;
    this.guests.netns = opts.netns ?? null;
  }

  private get shutdownTimeout(): number {
    return this.opts.config.shutdownTimeoutSec;
  }

  async init(host: string): Promise<void> {
    this.guests.host = host;
    const running = await this.guests.adopt();
    if (running) this.opts.log?.(`found ${running} running guest(s) on host ${host}`);
    if (!this.rotateTimer) {
      this.rotateTimer = setInterval(() => void this.rotateLogs(), 10_000);
      this.rotateTimer.unref();
    }
  }

  private async rotateLogs(): Promise<void> {
    for (const uuid of await this.guests.list())
      await rotateConsoleLog(this.guests.files(uuid).console, this.opts.config.consoleLogCapBytes).catch(() => undefined);
  }

  /**
   * Fetches and checks the images and creates the guest's root disk and config drive. With a boot
   * volume (boot_index 0 in instance.volumes) the volume is the root disk and no image disk is
   * made; an AMI-style image's kernel and ramdisk (from instance.image's properties, which for a
   * volume made from an image are the volume's image metadata, else instance.kernel_id and
   * ramdisk_id) still boot it. `current`: the volumes to keep when the payload carries none.
   */
  private async prepare(instance: InstancePayload, current: GuestVolume[] = []): Promise<GuestDefinition> {
    const image = instance.image;
    const volumes = (instance.volumes ? instance.volumes.map(volumeOf) : current).reduce<GuestVolume[]>((acc, v) => [...acc, withSlot(v, acc)], []);
    const boot = bootVolume(volumes);
    if (!image && !boot) throw new Error(`Instance ${instance.uuid} has neither an image nor a boot volume to boot from.`);
    const props = image?.properties ?? {};
    const prop = (k: string) => (typeof props[k] === 'string' && props[k] ? (props[k] as string) : null);
    const kernelId = prop('kernel_id') ?? instance.kernel_id;
    const ramdiskId = prop('ramdisk_id') ?? instance.ramdisk_id;
    const kernel = kernelId ? await this.images.file(kernelId, 'kernel') : null;
    const ramdisk = kernel && ramdiskId ? await this.images.file(ramdiskId, 'ramdisk') : null;
    const f = this.guests.files(instance.uuid);
    await rm(f.disk, { force: true });
    if (!boot && image) await createOverlay(f.disk, await this.images.disk(image, !!kernel), instance.flavor.root_gb, image);
    const configDrive = needsConfigDrive(instance);
    await rm(f.configDrive, { force: true });
    if (configDrive) {
      await buildConfigDrive(instance, f.configDrive);
      await chmod(f.configDrive, 0o600); // it holds the user data and the public key
    }
    return {
      uuid: instance.uuid,
      name: instance.display_name,
      memoryMb: instance.flavor.memory_mb,
      vcpus: instance.flavor.vcpus,
      accel: this.accel,
      kernel,
      ramdisk,
      cmdline: kernel ? (prop('os_command_line') ?? 'root=/dev/vda console=ttyS0') : null,
      configDrive,
      nics: instance.network_info.map(nicOf),
      volumes,
    };
  }

  async spawn(instance: InstancePayload): Promise<void> {
    const uuid = instance.uuid;
    if (await exists(this.guests.dir(uuid))) throw conflict(`Instance ${uuid} already exists on host ${this.guests.host}.`);
    await mkdir(this.guests.dir(uuid), { recursive: true });
    try {
      const def = await this.prepare(instance);
      await this.guests.saveDefinition(def);
      await this.guests.start(def);
    } catch (e) {
      await this.guests.remove(uuid);
      throw e;
    }
  }

  async destroy(uuid: string): Promise<void> {
    if (await exists(this.guests.dir(uuid))) await this.guests.remove(uuid);
  }

  private async expect(uuid: string, op: string, allowed: PowerState[]): Promise<void> {
    const p = await this.powerState(uuid);
    if (!allowed.includes(p)) throw conflict(`Cannot ${op} instance ${uuid}: its power state is ${powerName(p)}.`);
  }

  /** SOFT: ACPI power-off (terminated after the shutdown timeout), then a fresh start. HARD: kill and start. */
  async reboot(uuid: string, type: 'SOFT' | 'HARD'): Promise<void> {
    const def = await this.guests.definition(uuid);
    if (type === 'SOFT') {
      await this.expect(uuid, 'soft reboot', [PowerState.RUNNING]);
      await this.guests.shutdown(uuid, this.shutdownTimeout);
    } else {
      await this.guests.kill(uuid);
      await rm(this.guests.files(uuid).state, { force: true });
    }
    await this.guests.start(def);
  }

  async powerOff(uuid: string, timeoutSec?: number): Promise<void> {
    await this.guests.known(uuid);
    await this.guests.shutdown(uuid, timeoutSec ?? this.shutdownTimeout);
    // A guest stopped while suspended starts afresh next time (its saved memory is discarded).
    await rm(this.guests.files(uuid).state, { force: true });
  }

  /** Starts the guest; a suspended one is restored from its saved memory, a paused one continues. */
  async powerOn(uuid: string): Promise<void> {
    const def = await this.guests.definition(uuid);
    if (await this.guests.pid(uuid)) {
      if ((await this.guests.status(uuid)) === 'paused') await (await this.guests.qmp(uuid)).execute('cont');
      return;
    }
    if (await exists(this.guests.files(uuid).state)) return this.guests.restore(def);
    await this.guests.start(def);
  }

  async pause(uuid: string): Promise<void> {
    await this.expect(uuid, 'pause', [PowerState.RUNNING]);
    await (await this.guests.qmp(uuid)).execute('stop');
  }

  async unpause(uuid: string): Promise<void> {
    await this.expect(uuid, 'unpause', [PowerState.PAUSED]);
    await (await this.guests.qmp(uuid)).execute('cont');
  }

  async suspend(uuid: string): Promise<void> {
    await this.expect(uuid, 'suspend', [PowerState.RUNNING, PowerState.PAUSED]);
    await this.guests.saveMemory(uuid);
  }

  async resume(uuid: string): Promise<void> {
    await this.expect(uuid, 'resume', [PowerState.SUSPENDED]);
    await this.guests.restore(await this.guests.definition(uuid));
  }

  /** A new root disk (and config drive) from instance.image; the guest boots from it. */
  async rebuild(instance: InstancePayload): Promise<void> {
    const uuid = instance.uuid;
    await this.guests.known(uuid);
    await this.guests.kill(uuid);
    await rm(this.guests.files(uuid).state, { force: true });
    const def = await this.prepare(instance, (await this.guests.definition(uuid)).volumes);
    await this.guests.saveDefinition(def);
    await this.guests.start(def);
  }

  /** Powers the guest off, applies the flavor's memory and vCPUs, grows the disk, and starts it again if it ran. */
  async resize(instance: InstancePayload, newFlavor: FlavorSnapshot): Promise<void> {
    const uuid = instance.uuid;
    const wasRunning = (await this.powerState(uuid)) === PowerState.RUNNING;
    await this.guests.shutdown(uuid, this.shutdownTimeout);
    await rm(this.guests.files(uuid).state, { force: true });
    const old = await this.guests.definition(uuid);
    // A boot volume keeps its size (volumes are extended through the volume service).
    if (!bootVolume(old.volumes)) await growDisk(this.guests.files(uuid).disk, newFlavor.root_gb);
    const def = { ...old, memoryMb: newFlavor.memory_mb, vcpus: newFlavor.vcpus };
    await this.guests.saveDefinition(def);
    if (wasRunning) await this.guests.start(def);
  }

  /**
   * Running (or paused) guest: hot-plugs the NIC, then records it; stopped guest: records it for
   * its next start. A suspended guest cannot change devices (its saved memory needs the same
   * ones): Conflict. Idempotent.
   */
  async attachInterface(uuid: string, vif: Vif): Promise<void> {
    const def = await this.guests.definition(uuid);
    const nics = def.nics ?? [];
    await this.changeableDevices(uuid, 'attach an interface to');
    if (await this.guests.pid(uuid)) {
      if (!this.guests.netns) throw new Error(`Cannot attach port ${vif.id}: the qemu driver runs without networking (no network namespace).`);
      await plugNic(await this.guests.qmp(uuid), nicOf(vif));
    }
    if (!nics.some((n) => n.port === vif.id)) await this.guests.saveDefinition({ ...def, nics: [...nics, nicOf(vif)] });
  }

  /**
   * Running guest: asks it to release the NIC (Error after 20 s if it does not), then forgets the
   * NIC; stopped guest: forgets it. Idempotent: a vif the guest does not have succeeds.
   */
  async detachInterface(uuid: string, vif: Vif): Promise<void> {
    const def = await this.guests.definition(uuid);
    const nics = def.nics ?? [];
    const nic = nics.find((n) => n.port === vif.id) ?? nicOf(vif);
    await this.changeableDevices(uuid, 'detach an interface from');
    if (await this.guests.pid(uuid)) await unplugNic(await this.guests.qmp(uuid), nic);
    if (nics.some((n) => n.port === vif.id)) await this.guests.saveDefinition({ ...def, nics: nics.filter((n) => n.port !== vif.id) });
  }

  /**
   * Running (or paused) guest: hot-plugs the volume (volumes.ts), then records it; stopped guest:
   * records it for its next start. A suspended guest cannot change devices: Conflict. Idempotent
   * (a recorded volume is plugged again only if the running guest lacks it). A volume attached
   * to a running guest is always a data volume, whatever its boot_index.
   */
  attachVolume(uuid: string, device: VolumeDevice): Promise<void> {
    return this.serialized(uuid, async () => {
      const def = await this.guests.definition(uuid);
      const volumes = def.volumes ?? [];
      const known = volumes.find((v) => v.id === device.volume_id);
      if ((await this.powerState(uuid)) === PowerState.SUSPENDED) {
        if (known) return;
        await this.changeableDevices(uuid, 'attach a volume to');
      }
      const vol = known ?? withSlot({ ...volumeOf(device), bootIndex: null }, volumes);
      if (vol.bootIndex === 0) return; // the root disk is always there
      if (await this.guests.pid(uuid)) await plugVolume(await this.guests.qmp(uuid), vol);
      if (!known) await this.guests.saveDefinition({ ...def, volumes: [...volumes, vol] });
    });
  }

  /**
   * Running (or paused) guest: asks it to release the volume and waits up to timeoutSec (Error,
   * the volume still attached and recorded, if it does not), then forgets it; stopped guest:
   * forgets it. The boot volume cannot be detached (Invalid). Idempotent: a volume the guest
   * does not have succeeds.
   */
  detachVolume(uuid: string, volumeId: string, timeoutSec = VOLUME_DETACH_TIMEOUT_SEC): Promise<void> {
    return this.serialized(uuid, async () => {
      const def = await this.guests.definition(uuid);
      const volumes = def.volumes ?? [];
      const vol = volumes.find((v) => v.id === volumeId);
      if (vol?.bootIndex === 0) throw invalid(`Volume ${volumeId} is the root disk of instance ${uuid}; it cannot be detached.`);
      if (!vol && !(await this.guests.pid(uuid))) return;
      if (vol) await this.changeableDevices(uuid, 'detach a volume from');
      if (await this.guests.pid(uuid)) await unplugVolume(await this.guests.qmp(uuid), vol ?? { id: volumeId, device: 'not recorded' }, timeoutSec);
      if (vol) await this.guests.saveDefinition({ ...(await this.guests.definition(uuid)), volumes: volumes.filter((v) => v.id !== volumeId) });
    });
  }

  private readonly chains = new Map<string, Promise<unknown>>();

  /** Runs fn after the guest's earlier volume operations (each reads and rewrites guest.json). */
  private serialized<T>(uuid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(uuid) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    const tail = next.catch(() => undefined);
    this.chains.set(uuid, tail);
    void tail.then(() => this.chains.get(uuid) === tail && this.chains.delete(uuid));
    return next;
  }

  private async changeableDevices(uuid: string, op: string): Promise<void> {
    if ((await this.powerState(uuid)) === PowerState.SUSPENDED)
      throw conflict(`Cannot ${op} instance ${uuid} while it is suspended: resume it first.`);
  }

  async powerState(uuid: string): Promise<PowerState> {
    await this.guests.known(uuid);
    if (!(await this.guests.pid(uuid))) return (await exists(this.guests.files(uuid).state)) ? PowerState.SUSPENDED : PowerState.SHUTDOWN;
    try {
      return RUN_STATE[await this.guests.status(uuid)] ?? PowerState.PAUSED;
    } catch {
      // The process ended between the two looks (a guest powering itself off), or QMP is stuck.
      return (await this.guests.pid(uuid)) ? PowerState.NOSTATE : PowerState.SHUTDOWN;
    }
  }

  listInstances(): Promise<string[]> {
    return this.guests.list();
  }

  async consoleOutput(uuid: string, lines?: number): Promise<string> {
    await this.guests.known(uuid);
    const log = this.guests.files(uuid).console;
    await rotateConsoleLog(log, this.opts.config.consoleLogCapBytes).catch(() => undefined);
    return readConsoleTail(log, lines, { maxBytes: 2 * this.opts.config.consoleLogCapBytes });
  }

  /**
   * Where the console proxy reaches the guest's VNC server or serial port: a unix socket on this
   * machine (consoles.ts). NotFound for an unknown guest; Conflict when the guest is not running
   * (paused, suspended, shut off: its state and what to do are said) or was started before
   * guests had consoles (a hard reboot or a stop and start gives it them); Invalid for another
   * kind of console.
   */
  async getConsole(uuid: string, kind: DriverConsoleKind): Promise<ConsoleConnectInfo> {
    const def = await this.guests.definition(uuid);
    if (kind !== 'vnc' && kind !== 'serial') throw invalid(`The qemu driver has no ${String(kind)} console; it offers vnc and serial.`);
    const p = await this.powerState(uuid);
    if (p !== PowerState.RUNNING) {
      const why =
        p === PowerState.PAUSED ? 'is paused: unpause it' :
        p === PowerState.SUSPENDED ? 'is suspended: resume it' :
        p === PowerState.SHUTDOWN ? 'is shut off: start it' :
        `is not running (power state ${powerName(p)}): start it`;
      throw conflict(`Instance ${uuid} ${why} to reach its ${kind} console.`);
    }
    const path = consoleSockets(this.guests.dir(uuid))[kind];
    if (!def.consoles || !(await exists(path)))
      throw conflict(`Instance ${uuid} was started without a ${kind} console (it predates consoles in nova-ts): a hard reboot, or a stop and start, gives it one.`);
    return { host: this.guests.host, port: null, internal_access_path: path };
  }

  /** Copies the root disk (overlay and base flattened) to a qcow2 file; a running guest is paused meanwhile. */
  async snapshot(uuid: string, dir: string): Promise<{ path: string; disk_format: string; container_format: string }> {
    const running = (await this.powerState(uuid)) === PowerState.RUNNING;
    const path = join(dir, `${uuid}.qcow2`);
    // A guest booted from a volume: its root disk is the volume's file.
    const boot = bootVolume((await this.guests.definition(uuid)).volumes);
    const [format, source] = boot ? [boot.format, boot.path] : ['qcow2', this.guests.files(uuid).disk];
    const c = running ? await this.guests.qmp(uuid) : null;
    if (c) await c.execute('stop');
    try {
      await run('qemu-img', ['convert', '-U', '-f', format, '-O', 'qcow2', source, path]);
    } finally {
      if (c) await c.execute('cont').catch(() => undefined);
    }
    return { path, disk_format: 'qcow2', container_format: 'bare' };
  }

  async availableResources(): Promise<HostResources> {
    await mkdir(this.opts.root, { recursive: true });
    const cap = await hostCapacity(this.opts.root);
    this.version ??= await qemuVersion(this.opts.config.binary).catch(() => 0);
    return {
      hypervisor_hostname: this.guests.host,
      // As Nova: QEMU means software emulation (TCG); KVM says the guests are accelerated.
      hypervisor_type: this.accel === 'kvm' ? 'KVM' : 'QEMU',
      hypervisor_version: this.version,
      vcpus: cap.vcpus,
      memory_mb: cap.memoryMb,
      local_gb: cap.diskGb,
      host_ip: '127.0.0.1',
      cpu_info: {
        arch: 'x86_64',
        model: cap.cpuModel,
        vendor: 'qemu',
        accelerator: this.accel,
        topology: { sockets: 1, cores: cap.vcpus, threads: 1 },
        features: [],
      },
      // qemu (TCG) always; kvm too when guests are accelerated.
      supported_instances: this.accel === 'kvm' ? [['x86_64', 'qemu', 'hvm'], ['x86_64', 'kvm', 'hvm']] : [['x86_64', 'qemu', 'hvm']],
    };
  }

  /** Closes the QMP connections; the guests keep running. */
  async close(): Promise<void> {
    if (this.rotateTimer) clearInterval(this.rotateTimer);
    this.rotateTimer = null;
    this.guests.closeAll();
  }
}
