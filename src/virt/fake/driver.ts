/**
 * The fake virt driver: guests are entries in a Map, so one process can run thousands of them
 * across hundreds of hosts. It follows the same state rules as a real hypervisor (pause only
 * while running, resume only while suspended, ...) and passes the driver contract suite.
 *
 * Behaviour knobs (from config.fake):
 * - delays[op]: milliseconds op takes (no timer at all when 0 or absent);
 * - failures[op]: probability in [0,1] that op fails with an error naming the injection;
 * - failingHosts: hosts whose spawn always fails, with a message naming the host.
 *
 * With `stateDir` the guests of a host are kept in `<stateDir>/<host>.json` (written at most
 * every second, and on close), so they outlive a restart of nova-ts as real guests do.
 *
 * Remote consoles (getConsole) are real: a small RFB server (console-rfb.ts) and a fake shell on
 * the serial port (console-serial.ts), each on a unix socket started on first request. As with
 * QEMU, they go away when the guest is powered off, suspended or destroyed.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FakeDriverConfig } from '../../config.js';
import { PowerState } from '../../compute/vm-states.js';
import { conflict, notFound } from '../../errors.js';
import type { ConsoleConnectInfo, DriverConsoleKind } from '../../console/types.js';
import { FakeConsoleSockets } from './console-sockets.js';
import { serveRfb } from './console-rfb.js';
import { serveSerial } from './console-serial.js';
import type { FlavorSnapshot } from '../../objects/flavor.js';
import type { ComputeDriver, DriverCapabilities, HostResources, InstancePayload } from '../driver.js';
import type { VolumeDevice } from '../../volume/types.js';
import type { Vif } from '../../network/types.js';

export type FakeDriverOptions = FakeDriverConfig & {
  host: string;
  /** Random source for failure injection (tests pass a deterministic one). */
  random?: () => number;
  /** Where guests are kept across restarts; none: in memory only. */
  stateDir?: string;
};

const SAVE_DELAY_MS = 1000;

interface FakeGuest {
  name: string;
  power: PowerState;
  flavor: FlavorSnapshot;
  imageRef: string | null;
  console: string[];
  /** Port ids of the guest's NICs, in order (absent in guests saved before NICs existed). */
  nics?: string[];
  /** Plugged volumes: volume id -> guest device name. */
  volumes?: Record<string, string>;
  /** The guest's host name (absent in guests saved before consoles existed: derived from name). */
  hostname?: string;
}

const MAX_CONSOLE_LINES = 200;

export class FakeDriver implements ComputeDriver {
  readonly name = 'fake';
  readonly capabilities: DriverCapabilities = {
    supportsPause: true,
    supportsSuspend: true,
    supportsSnapshot: true,
    supportsConsoleOutput: true,
    supportsResize: true,
  };
  private readonly guests = new Map<string, FakeGuest>();
  private host: string;
  private readonly random: () => number;
  private saveTimer: NodeJS.Timeout | null = null;
  /** Console sockets, created on the first getConsole. */
  private consoles: FakeConsoleSockets | null = null;

  constructor(readonly opts: FakeDriverOptions) {
    this.host = opts.host;
    this.random = opts.random ?? Math.random;
  }

  /** Applies the configured delay and failure injection for op. */
  private async step(op: string): Promise<void> {
    const ms = this.opts.delays?.[op] ?? 0;
    if (ms > 0) await sleep(ms);
    const p = this.opts.failures?.[op] ?? 0;
    if (p > 0 && this.random() < p)
      throw new Error(`Fake driver: ${op} failed on host ${this.host} (failure injected by fake.failures.${op} = ${p}).`);
  }

  private guest(uuid: string): FakeGuest {
    const g = this.guests.get(uuid);
    if (!g) throw notFound(`Instance ${uuid} could not be found.`);
    return g;
  }

  private log(g: FakeGuest, line: string): void {
    this.changed();
    g.console.push(line);
    if (g.console.length > MAX_CONSOLE_LINES) g.console.splice(0, g.console.length - MAX_CONSOLE_LINES);
  }

  /** A boot log shaped like a small Linux guest's, so console readers see something real-looking. */
  private bootLog(g: FakeGuest): void {
    const f = g.flavor;
    for (const line of [
      `[    0.000000] Linux version 6.1.0-fake (nova-ts fake hypervisor on ${this.host})`,
      `[    0.000000] Command line: console=ttyS0 root=/dev/vda1`,
      `[    0.010000] Memory: ${f.memory_mb * 1024}K available`,
      `[    0.020000] smpboot: Allowing ${f.vcpus} CPUs`,
      `[    0.500000] virtio_blk virtio1: [vda] ${f.root_gb * 2097152} 512-byte logical blocks`,
      `[    1.000000] Run /init as init process`,
      `Starting network: OK`,
      `${g.name} login: fake guest ${g.name} is up (flavor ${f.name}, ${f.vcpus} vCPU, ${f.memory_mb} MB)`,
    ])
      this.log(g, line);
  }

  private expect(uuid: string, op: string, allowed: PowerState[]): FakeGuest {
    const g = this.guest(uuid);
    if (!allowed.includes(g.power))
      throw conflict(`Cannot ${op} instance ${uuid}: its power state is ${powerName(g.power)}.`);
    return g;
  }

  async init(host: string): Promise<void> {
    this.host = host;
    const file = this.stateFile();
    if (!file || !existsSync(file)) return;
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, FakeGuest>;
    for (const [uuid, g] of Object.entries(saved)) this.guests.set(uuid, g);
  }

  private stateFile(): string | null {
    return this.opts.stateDir ? join(this.opts.stateDir, `${this.host}.json`) : null;
  }

  /** Notes a change of the guests; they are saved shortly after (and on close). */
  private changed(): void {
    if (!this.opts.stateDir || this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.save(), SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  private save(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    const file = this.stateFile();
    if (!file) return;
    mkdirSync(this.opts.stateDir!, { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(Object.fromEntries(this.guests)));
    renameSync(`${file}.tmp`, file);
  }

  async spawn(instance: InstancePayload): Promise<void> {
    if (this.opts.failingHosts?.includes(this.host))
      throw new Error(
        `Host ${this.host} could not start the instance: its hypervisor is failing ` +
          `(the host is listed in fake.failingHosts).`,
      );
    if (this.guests.has(instance.uuid)) throw conflict(`Instance ${instance.uuid} already exists on host ${this.host}.`);
    await this.step('spawn');
    const g: FakeGuest = {
      name: instance.display_name,
      power: PowerState.RUNNING,
      flavor: instance.flavor,
      imageRef: instance.image_ref,
      hostname: instance.hostname ?? undefined,
      console: [],
      nics: instance.network_info.map((v) => v.id),
      volumes: Object.fromEntries((instance.volumes ?? []).map((v) => [v.volume_id, v.device_name])),
    };
    this.guests.set(instance.uuid, g);
    this.bootLog(g);
  }

  async destroy(uuid: string): Promise<void> {
    await this.step('destroy');
    await this.consoles?.closeInstance(uuid);
    if (this.guests.delete(uuid)) this.changed();
  }

  async reboot(uuid: string, type: 'SOFT' | 'HARD'): Promise<void> {
    const g = type === 'SOFT' ? this.expect(uuid, 'soft reboot', [PowerState.RUNNING]) : this.guest(uuid);
    await this.step('reboot');
    g.power = PowerState.RUNNING;
    this.changed();
    this.log(g, `reboot: ${type === 'SOFT' ? 'Restarting system' : 'hard reset'}`);
    this.bootLog(g);
  }

  async powerOff(uuid: string): Promise<void> {
    const g = this.guest(uuid);
    await this.step('powerOff');
    if (g.power !== PowerState.SHUTDOWN) this.log(g, 'reboot: Power down');
    g.power = PowerState.SHUTDOWN;
    this.changed();
    await this.consoles?.closeInstance(uuid);
  }

  async powerOn(uuid: string): Promise<void> {
    const g = this.guest(uuid);
    await this.step('powerOn');
    if (g.power !== PowerState.RUNNING) this.bootLog(g);
    g.power = PowerState.RUNNING;
    this.changed();
  }

  async pause(uuid: string): Promise<void> {
    const g = this.expect(uuid, 'pause', [PowerState.RUNNING]);
    await this.step('pause');
    g.power = PowerState.PAUSED;
    this.changed();
  }

  async unpause(uuid: string): Promise<void> {
    const g = this.expect(uuid, 'unpause', [PowerState.PAUSED]);
    await this.step('unpause');
    g.power = PowerState.RUNNING;
    this.changed();
  }

  async suspend(uuid: string): Promise<void> {
    const g = this.expect(uuid, 'suspend', [PowerState.RUNNING, PowerState.PAUSED]);
    await this.step('suspend');
    g.power = PowerState.SUSPENDED;
    this.changed();
    await this.consoles?.closeInstance(uuid);
  }

  async resume(uuid: string): Promise<void> {
    const g = this.expect(uuid, 'resume', [PowerState.SUSPENDED]);
    await this.step('resume');
    g.power = PowerState.RUNNING;
    this.changed();
  }

  async rebuild(instance: InstancePayload): Promise<void> {
    const g = this.guest(instance.uuid);
    await this.step('rebuild');
    g.imageRef = instance.image_ref;
    g.name = instance.display_name;
    g.hostname = instance.hostname ?? g.hostname;
    g.power = PowerState.RUNNING;
    this.changed();
    this.log(g, `rebuild: new root disk from image ${instance.image_ref ?? '(none)'}`);
    this.bootLog(g);
  }

  async resize(instance: InstancePayload, newFlavor: FlavorSnapshot): Promise<void> {
    const g = this.guest(instance.uuid);
    await this.step('resize');
    const wasRunning = g.power === PowerState.RUNNING;
    g.flavor = newFlavor;
    this.changed();
    if (wasRunning) this.bootLog(g);
  }

  async attachInterface(uuid: string, vif: Vif): Promise<void> {
    const g = this.guest(uuid);
    await this.step('attachInterface');
    g.nics = [...(g.nics ?? []).filter((id) => id !== vif.id), vif.id];
    this.changed();
    this.log(g, `virtio_net: new NIC ${vif.address} (port ${vif.id})`);
  }

  async detachInterface(uuid: string, vif: Vif): Promise<void> {
    const g = this.guest(uuid);
    await this.step('detachInterface');
    g.nics = (g.nics ?? []).filter((id) => id !== vif.id);
    this.changed();
  }

  async attachVolume(uuid: string, volume: VolumeDevice): Promise<void> {
    const g = this.guest(uuid);
    await this.step('attachVolume');
    if (g.volumes?.[volume.volume_id] === volume.device_name) return;
    g.volumes = { ...(g.volumes ?? {}), [volume.volume_id]: volume.device_name };
    this.changed();
    this.log(g, `virtio_blk: ${volume.device_name.replace('/dev/', '')} attached (volume ${volume.volume_id})`);
  }

  async detachVolume(uuid: string, volumeId: string): Promise<void> {
    const g = this.guest(uuid);
    await this.step('detachVolume');
    const dev = g.volumes?.[volumeId];
    if (!dev) return;
    const { [volumeId]: _gone, ...rest } = g.volumes!;
    g.volumes = rest;
    this.changed();
    this.log(g, `virtio_blk: ${dev.replace('/dev/', '')} detached (volume ${volumeId})`);
  }

  /** Volume id -> device name of a guest's plugged volumes (tests). */
  volumesOf(uuid: string): Record<string, string> {
    return { ...(this.guest(uuid).volumes ?? {}) };
  }

  /** Port ids of a guest's NICs (tests). */
  nicsOf(uuid: string): string[] {
    return [...(this.guest(uuid).nics ?? [])];
  }

  async powerState(uuid: string): Promise<PowerState> {
    return this.guest(uuid).power;
  }

  async listInstances(): Promise<string[]> {
    return [...this.guests.keys()];
  }

  async consoleOutput(uuid: string, lines?: number): Promise<string> {
    const g = this.guest(uuid);
    const out = lines === undefined ? g.console : g.console.slice(-Math.max(0, lines));
    return out.length ? out.join('\n') + '\n' : '';
  }

  /**
   * The guest's VNC screen (an RFB server drawing its name, power state and console log) or its
   * serial port (a fake root shell), on a unix socket of this driver's own, started on first
   * request. NotFound for an unknown guest; Conflict unless it is running (paused, suspended or
   * shut off: Nova's API refuses consoles of a guest that is not running; connections opened
   * while it ran stay open through a pause).
   */
  async getConsole(uuid: string, kind: DriverConsoleKind): Promise<ConsoleConnectInfo> {
    const g = this.guest(uuid);
    if (g.power !== PowerState.RUNNING)
      throw conflict(
        `Instance ${uuid} is not running (its power state is ${powerName(g.power)}): ` +
          `start it to reach its ${kind === 'vnc' ? 'VNC' : 'serial'} console.`,
      );
    this.consoles ??= new FakeConsoleSockets(this.host);
    const hostname = g.hostname ?? (g.name.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase() || 'guest');
    const path = await this.consoles.open(uuid, kind, (socket) =>
      kind === 'vnc'
        ? serveRfb(socket, { desktopName: `nova-ts fake console ${g.name || uuid}`, screen: () => this.screenOf(uuid) })
        : serveSerial(socket, { hostname }),
    );
    return { host: this.host, port: null, internal_access_path: path };
  }

  /** What the fake VNC screen shows for uuid (the last state seen once the guest is gone). */
  private screenOf(uuid: string): { title: string[]; body: string[] } {
    const g = this.guests.get(uuid);
    if (!g) return { title: ['nova-ts fake driver', 'instance gone'], body: [] };
    return {
      title: [g.name || uuid, 'nova-ts fake driver', `power state: ${powerName(g.power)}`],
      body: [`instance ${uuid} on host ${this.host}`, '', ...g.console.slice(-25)],
    };
  }

  async snapshot(uuid: string, dir: string): Promise<{ path: string; disk_format: string; container_format: string }> {
    const g = this.guest(uuid);
    await this.step('snapshot');
    const path = join(dir, `${uuid}.snapshot.raw`);
    await writeFile(path, `fake disk of ${g.name} (${uuid}) from image ${g.imageRef ?? '(none)'}\n`);
    return { path, disk_format: 'raw', container_format: 'bare' };
  }

  async availableResources(): Promise<HostResources> {
    return {
      hypervisor_hostname: this.host,
      hypervisor_type: 'fake',
      hypervisor_version: 1000,
      vcpus: this.opts.vcpus,
      memory_mb: this.opts.memoryMb,
      local_gb: this.opts.diskGb,
      host_ip: '127.0.0.1',
      cpu_info: { arch: 'x86_64', model: 'fake', vendor: 'nova-ts', topology: { sockets: 1, cores: this.opts.vcpus, threads: 1 } },
      supported_instances: [['x86_64', 'fake', 'hvm']],
    };
  }

  async close(): Promise<void> {
    // Guests survive, as real guests survive a compute restart: save them if anything changed.
    if (this.saveTimer) this.save();
    await this.consoles?.closeAll();
    this.consoles = null;
  }

  // --- test helpers (not part of ComputeDriver) ---

  /** Makes a guest power off by itself, as if shut down from inside (for power-sync tests). */
  simulatePowerOff(uuid: string): void {
    const g = this.guest(uuid);
    g.power = PowerState.SHUTDOWN;
    this.changed();
    this.log(g, 'reboot: Power down (requested by the guest)');
    void this.consoles?.closeInstance(uuid);
  }

  /** Makes a guest vanish without the compute service knowing (for power-sync tests). */
  simulateVanish(uuid: string): void {
    this.guests.delete(uuid);
    void this.consoles?.closeInstance(uuid);
    this.changed();
  }
}

function powerName(p: PowerState): string {
  const names: Record<number, string> = { 0: 'NOSTATE', 1: 'RUNNING', 3: 'PAUSED', 4: 'SHUTDOWN', 6: 'CRASHED', 7: 'SUSPENDED' };
  return names[p] ?? String(p);
}
