/**
 * The hypervisor boundary. A driver knows nothing of the DB or the API: the compute manager
 * hands it everything it needs. Every driver passes the contract suite in driver.contract.ts.
 * Errors: NotFound for an instance the driver does not know; other failures as plain Errors
 * whose message is shown to the user in the instance fault.
 */
import type { PowerState } from '../compute/vm-states.js';
import type { FlavorSnapshot } from '../objects/flavor.js';
import type { VolumeDevice } from '../volume/types.js';
import type { Vif } from '../network/types.js';
import type { RequestedNetworks } from '../network/client.js';
import type { ConsoleConnectInfo, DriverConsoleKind } from '../console/types.js';

/** Image metadata as the compute host sees it. */
export interface ImageMeta {
  id: string;
  name: string | null;
  disk_format: string | null;
  container_format: string | null;
  size: number | null;
  min_disk: number;
  min_ram: number;
  /** Glance's md5 of the data (null while queued; absent from clients that do not know it). */
  checksum?: string | null;
  properties: Record<string, unknown>;
}

/** Everything the compute host knows of an instance; sent over the bus, so plain JSON. */
export interface InstancePayload {
  uuid: string;
  display_name: string;
  hostname: string | null;
  project_id: string;
  user_id: string;
  flavor: FlavorSnapshot;
  image_ref: string | null;
  image: ImageMeta | null;
  kernel_id: string | null;
  ramdisk_id: string | null;
  key_name: string | null;
  key_data: string | null;
  user_data: string | null;
  config_drive: boolean;
  metadata: Record<string, string>;
  availability_zone: string | null;
  launch_index: number;
  reservation_id: string;
  /** The instance's ports, in order (their taps already exist in the host's network namespace). */
  network_info: Vif[];
  block_devices: unknown[];
  /**
   * Volumes to plug: the boot volume (boot_index 0, a boot from volume: no image disk is made)
   * and data volumes, with their connection_info. Absent or empty: none.
   */
  volumes?: VolumeDevice[];
  /** True when the instance has volume block device mappings (connected or not yet); absent: none. */
  has_volumes?: boolean;
  vm_state: string;
  task_state: string | null;
  power_state: number;
  host: string | null;
  node: string | null;
  created_at: string;
  launched_at: string | null;
  /** What the server create asked for ('auto', 'none' or a list); read when ports are allocated. */
  requested_networks?: RequestedNetworks;
  /** Names (or ids) of the instance's security groups. */
  security_groups?: string[];
  /** While a resize awaits confirmation (vm_state resized): the flavor before it. */
  old_flavor?: FlavorSnapshot | null;
}

export interface HostResources {
  hypervisor_hostname: string;
  hypervisor_type: string;
  hypervisor_version: number;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  host_ip: string;
  cpu_info: Record<string, unknown>;
  /** [architecture, hypervisor_type, vm_mode] triples this node can run, e.g. ['x86_64', 'qemu', 'hvm']. */
  supported_instances?: [string, string, string][];
  /** Allocation ratios and reserved amounts, added by the compute service from its config (not the driver). */
  inventory?: NodeInventory;
}

/** A node's inventory settings (Nova's *_allocation_ratio and reserved_host_*), as compute_nodes columns. */
export interface NodeInventory {
  cpu_allocation_ratio: number;
  ram_allocation_ratio: number;
  disk_allocation_ratio: number;
  reserved_host_cpus: number;
  reserved_host_memory_mb: number;
  reserved_host_disk_mb: number;
}

export interface DriverCapabilities {
  supportsPause: boolean;
  supportsSuspend: boolean;
  supportsSnapshot: boolean;
  supportsConsoleOutput: boolean;
  supportsResize: boolean;
}

export interface ComputeDriver {
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  /** Prepares the driver for host; finds guests that survived a restart. Idempotent. */
  init(host: string): Promise<void>;
  /** Creates and boots the guest. On failure nothing of it is left behind. */
  spawn(instance: InstancePayload): Promise<void>;
  /** Stops and removes the guest and all its files. Idempotent: unknown uuids succeed. */
  destroy(uuid: string): Promise<void>;
  reboot(uuid: string, type: 'SOFT' | 'HARD'): Promise<void>;
  /** Graceful power-off, forced after timeoutSec. */
  powerOff(uuid: string, timeoutSec?: number): Promise<void>;
  powerOn(uuid: string): Promise<void>;
  pause(uuid: string): Promise<void>;
  unpause(uuid: string): Promise<void>;
  suspend(uuid: string): Promise<void>;
  resume(uuid: string): Promise<void>;
  /** Re-creates the guest from instance.image keeping its identity. */
  rebuild(instance: InstancePayload): Promise<void>;
  /** Applies a new flavor (the guest is powered off and back on as needed). */
  resize(instance: InstancePayload, newFlavor: FlavorSnapshot): Promise<void>;
  /** Current power state; NotFound when the guest does not exist. */
  powerState(uuid: string): Promise<PowerState>;
  /** uuids of every guest this host runs. */
  listInstances(): Promise<string[]>;
  /** The last `lines` lines of the serial console (all when undefined). */
  consoleOutput(uuid: string, lines?: number): Promise<string>;
  /**
   * Optional: where the proxy reaches the guest's VNC server or first serial port (a unix socket
   * on this machine, or TCP). Rejects with NotFound for an unknown guest, with Conflict when the
   * guest is not running (or was started without that console: say how to get it), and with
   * Invalid when the driver has no such console. Absent: the driver offers no remote consoles.
   */
  getConsole?(uuid: string, kind: DriverConsoleKind): Promise<ConsoleConnectInfo>;
  /** Adds a NIC for vif (hot-plugged into a running guest; a stopped one gets it at its next start). */
  attachInterface(uuid: string, vif: Vif): Promise<void>;
  /** Removes the NIC of vif (hot-unplugged from a running guest). Idempotent for an unknown vif. */
  detachInterface(uuid: string, vif: Vif): Promise<void>;
  /**
   * Plugs a volume (hot-plugged into a running guest; a stopped one gets it at its next start)
   * and remembers it across restarts. Idempotent for a volume already plugged.
   */
  attachVolume(uuid: string, volume: VolumeDevice): Promise<void>;
  /**
   * Unplugs a volume. A running guest must release it within timeoutSec (default 30), else
   * this rejects with an error saying the guest did not release the device (and the volume
   * stays attached). Idempotent for an unknown volume.
   */
  detachVolume(uuid: string, volumeId: string, timeoutSec?: number): Promise<void>;
  /**
   * Optional: volume id -> device name of the volumes plugged into the guest (NotFound for an
   * unknown guest). Start-up recovery uses it to finish or undo interrupted attaches/detaches;
   * without it recovery re-plugs idempotently.
   */
  volumesOf?(uuid: string): Record<string, string> | Promise<Record<string, string>>;
  /** Writes a disk image of the guest to a file and returns its format and path. */
  snapshot(uuid: string, dir: string): Promise<{ path: string; disk_format: string; container_format: string }>;
  availableResources(): Promise<HostResources>;
  /** Releases everything the driver holds (not the guests). */
  close(): Promise<void>;
}
