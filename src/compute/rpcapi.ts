/**
 * Client side of the compute host's RPC interface (topic `compute.<host>`).
 *
 * Version history:
 *   1.0 - build_and_run_instance, terminate_instance, reboot/stop/start/pause/unpause/
 *         suspend/resume_instance, rebuild_instance, resize_instance, confirm_resize,
 *         revert_resize, snapshot_instance, get_console_output
 *   1.1 - resize_instance takes dest_host/dest_node (absent: same host); finish_resize (on the
 *         destination) and finish_revert_resize (on the source) for resizes across hosts
 *   1.2 - attach_interface and detach_interface (calls: the API answers with the result)
 *   1.3 - attach_volume and detach_volume (calls), for os-volume_attachments; the attachment
 *         is already created (volume reserved) by the API
 *   1.4 - shelve_instance (power off, snapshot into image_id when given, then offload),
 *         shelve_offload_instance, unshelve_instance (power on in place, or spawn here after
 *         the conductor scheduled an offloaded instance: node given)
 *   1.5 - get_console_connect_info (call): where the console proxy reaches the instance's VNC
 *         or serial console on this host
 *   1.6 - evacuate_instance (to the destination of an evacuation: spawn the instance here
 *         with its identity, ports re-bound and volumes re-connected to this host)
 */
import type { Bus } from '../bus/bus.js';
import type { FlavorSnapshot } from '../objects/flavor.js';
import type { InstancePayload } from '../virt/driver.js';
import type { Vif } from '../network/types.js';
import type { ConsoleConnectInfo, ConsoleType } from '../console/types.js';

export const COMPUTE_RPC_VERSION = '1.6';
export const computeTopic = (host: string) => `compute.${host}`;

/** A host choice from the scheduler, with resources already claimed on node_uuid. */
export interface Selection {
  host: string;
  node: string;
  node_uuid: string;
  /** The host's availability zone (recorded on instances that did not ask for one). */
  availability_zone?: string;
}

export interface ActionArgs {
  instance: InstancePayload;
  /** Request id of the API call, to attach action events to. */
  request_id: string;
}

export class ComputeRpcApi {
  constructor(private readonly bus: Bus) {}

  private cast(host: string, method: string, args: object) {
    return this.bus.cast(computeTopic(host), method, { ...args, version: COMPUTE_RPC_VERSION });
  }

  buildAndRunInstance(host: string, args: ActionArgs & { node: string; alternates: Selection[] }) {
    return this.cast(host, 'build_and_run_instance', args);
  }
  terminateInstance(host: string, args: ActionArgs) {
    return this.cast(host, 'terminate_instance', args);
  }
  rebootInstance(host: string, args: ActionArgs & { reboot_type: 'SOFT' | 'HARD' }) {
    return this.cast(host, 'reboot_instance', args);
  }
  stopInstance(host: string, args: ActionArgs) {
    return this.cast(host, 'stop_instance', args);
  }
  startInstance(host: string, args: ActionArgs) {
    return this.cast(host, 'start_instance', args);
  }
  pauseInstance(host: string, args: ActionArgs) {
    return this.cast(host, 'pause_instance', args);
  }
  unpauseInstance(host: string, args: ActionArgs) {
    return this.cast(host, 'unpause_instance', args);
  }
  suspendInstance(host: string, args: ActionArgs) {
    return this.cast(host, 'suspend_instance', args);
  }
  resumeInstance(host: string, args: ActionArgs) {
    return this.cast(host, 'resume_instance', args);
  }
  /** instance.image is the new image; instance.image_ref already points at it. */
  rebuildInstance(host: string, args: ActionArgs) {
    return this.cast(host, 'rebuild_instance', args);
  }
  /**
   * To the destination of an evacuation (resources already claimed on node): spawns the
   * instance from its image with its identity, re-binds its ports and re-connects its volumes
   * to this host, then reports evacuated (or evacuation_failed) to the conductor.
   */
  evacuateInstance(host: string, args: ActionArgs & { node: string; migration_uuid: string; admin_password?: string | null }) {
    return this.cast(host, 'evacuate_instance', args);
  }
  /** To the source host; dest_host/dest_node name the destination (absent or equal: same host). */
  resizeInstance(host: string, args: ActionArgs & { new_flavor: FlavorSnapshot; migration_uuid: string; dest_host?: string; dest_node?: string }) {
    return this.cast(host, 'resize_instance', args);
  }
  /** To the destination host: start the guest there with the new flavor (resize across hosts). */
  finishResize(host: string, args: ActionArgs & { new_flavor: FlavorSnapshot; migration_uuid: string; node: string }) {
    return this.cast(host, 'finish_resize', args);
  }
  /** To the source host after a revert across hosts: power the original guest back on. */
  finishRevertResize(host: string, args: ActionArgs & { migration_uuid: string }) {
    return this.cast(host, 'finish_revert_resize', args);
  }
  confirmResize(host: string, args: ActionArgs & { migration_uuid: string }) {
    return this.cast(host, 'confirm_resize', args);
  }
  revertResize(host: string, args: ActionArgs & { migration_uuid: string }) {
    return this.cast(host, 'revert_resize', args);
  }
  /** The compute host uploads the snapshot into image_id (already created, status queued). */
  snapshotInstance(host: string, args: ActionArgs & { image_id: string }) {
    return this.cast(host, 'snapshot_instance', args);
  }
  /** A new port (net_id, fixed_ip) or the user's port_id, plugged and hot-plugged; resolves with its VIF. */
  attachInterface(host: string, args: ActionArgs & { net_id?: string; port_id?: string; fixed_ip?: string }): Promise<Vif> {
    return this.bus.call<Vif>(computeTopic(host), 'attach_interface', { ...args, version: COMPUTE_RPC_VERSION }, { timeout: 120_000 });
  }
  /** Hot-unplugs the port's NIC, then deletes (or unbinds) the port. */
  detachInterface(host: string, args: ActionArgs & { port_id: string }): Promise<void> {
    return this.bus.call<void>(computeTopic(host), 'detach_interface', { ...args, version: COMPUTE_RPC_VERSION }, { timeout: 120_000 });
  }
  /**
   * Connects the reserved attachment with this host's connector, plugs the volume (hot-plug
   * into a running guest) at device_name, completes the attachment and records the BDM's
   * connection_info; on failure deletes the attachment (volume available again) and rejects.
   */
  attachVolume(host: string, args: ActionArgs & { bdm_uuid: string; volume_id: string; attachment_id: string; device_name: string }): Promise<void> {
    return this.bus.call<void>(computeTopic(host), 'attach_volume', { ...args, version: COMPUTE_RPC_VERSION }, { timeout: 180_000 });
  }
  /** Unplugs the volume (the guest must release it), deletes the attachment and the BDM; on failure rolls the volume back to in-use. */
  detachVolume(host: string, args: ActionArgs & { bdm_uuid: string; volume_id: string; attachment_id: string }): Promise<void> {
    return this.bus.call<void>(computeTopic(host), 'detach_volume', { ...args, version: COMPUTE_RPC_VERSION }, { timeout: 180_000 });
  }
  /** Powers the guest off, snapshots it into image_id (image-backed only), then offloads it when offload is set. */
  shelveInstance(host: string, args: ActionArgs & { image_id: string | null; offload: boolean }) {
    return this.cast(host, 'shelve_instance', args);
  }
  /** Destroys the guest of a SHELVED instance here and releases its host (SHELVED_OFFLOADED). */
  shelveOffloadInstance(host: string, args: ActionArgs) {
    return this.cast(host, 'shelve_offload_instance', args);
  }
  /**
   * SHELVED: powers the guest on in place. SHELVED_OFFLOADED (node given, resources claimed):
   * spawns from instance.image (the shelved image, or the original one when volume-backed).
   */
  unshelveInstance(host: string, args: ActionArgs & { node?: string; image_id?: string | null }) {
    return this.cast(host, 'unshelve_instance', args);
  }
  /**
   * Where the proxy connects for the instance's console (the guest must be running on this
   * host); rejects with the driver's error (Conflict when not running, Invalid when the driver
   * has no such console).
   */
  getConsoleConnectInfo(host: string, args: { instance: InstancePayload; console_type: ConsoleType }): Promise<ConsoleConnectInfo> {
    return this.bus.call<ConsoleConnectInfo>(computeTopic(host), 'get_console_connect_info', { ...args, version: COMPUTE_RPC_VERSION }, { timeout: 30_000 });
  }
  getConsoleOutput(host: string, args: { instance: InstancePayload; length?: number }): Promise<string> {
    return this.bus.call<string>(computeTopic(host), 'get_console_output', { ...args, version: COMPUTE_RPC_VERSION }, { timeout: 30_000 });
  }
}
