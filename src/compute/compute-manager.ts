/**
 * The work of one compute host: every handler of ComputeRpcApi. State goes to the DB only
 * through ConductorRpcApi. Each operation is wrapped in its instance action event (Nova's
 * names: compute_<method>) and, on failure, records a fault, clears task_state and writes the
 * power state the hypervisor really has, so no instance is left stuck in a task.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConductorRpcApi } from '../conductor/rpcapi.js';
import type { ImageClient } from '../image/client.js';
import type { FlavorSnapshot } from '../objects/flavor.js';
import type { ComputeDriver, InstancePayload } from '../virt/driver.js';
import { isNovaError, notFound } from '../errors.js';
import type { NetworkClient } from '../network/client.js';
import type { Vif } from '../network/types.js';
import { InstanceNetworking, type HostDataplane } from './networking.js';
import { nowIso } from '../util/time.js';
import type { Logger } from '../util/log.js';
import type { ComputeRpcApi, Selection } from './rpcapi.js';
import { InstanceLocks } from './instance-locks.js';
import type { VolumeClient } from '../volume/client.js';
import { BuildAbort, InstanceVolumes, type AttachVolumeArgs, type DetachVolumeArgs } from './volumes.js';
import { PowerState, TaskState, VmState } from './vm-states.js';

/** How long a compute host keeps trying to mark a build started while the conductor or DB is away. */
const BUILD_MARK_RETRY_MS = 30_000;
import { abandonUnshelve, offload, shelve, unshelve, type ShelveArgs, type ShelveDeps, type UnshelveArgs } from './shelve.js';

type Updates = Parameters<ConductorRpcApi['instanceUpdate']>[0]['updates'];

interface OpArgs {
  instance: InstancePayload;
  request_id: string;
}

export class ComputeManager {
  readonly locks = new InstanceLocks();

  readonly net: InstanceNetworking;

  readonly vols: InstanceVolumes;

  constructor(
    readonly host: string,
    readonly driver: ComputeDriver,
    private readonly conductor: ConductorRpcApi,
    private readonly compute: ComputeRpcApi,
    private readonly images: ImageClient,
    private readonly log: Logger,
    network?: { client: NetworkClient; dataplane: HostDataplane | null },
    volumes?: VolumeClient,
  ) {
    this.net = new InstanceNetworking(host, conductor, network?.client ?? null, network?.dataplane ?? null);
    this.vols = new InstanceVolumes({ host, driver, conductor, volumes, locks: this.locks, log });
  }

  private async powerOf(uuid: string): Promise<number> {
    try {
      return await this.driver.powerState(uuid);
    } catch {
      return PowerState.NOSTATE;
    }
  }

  /**
   * Runs body as action event `event` under the instance lock. On failure: fault, event Error,
   * and `recover` (default: task_state null, power_state as the hypervisor reports).
   */
  private op(name: string, a: OpArgs, body: () => Promise<void>, recover?: (e: unknown) => Promise<Updates | null>): Promise<void> {
    const uuid = a.instance.uuid;
    const event = `compute_${name}`;
    return this.locks.run(uuid, async () => {
      // The event start travels alongside the work (one bus round trip less per operation).
      const started = this.conductor.actionEventStart({ uuid, request_id: a.request_id, event, host: this.host }).catch(() => undefined);
      try {
        await body();
        await started;
        await this.conductor.actionEventFinish({ uuid, request_id: a.request_id, event, result: 'Success' }).catch(() => undefined);
      } catch (e) {
        await started;
        const message = e instanceof Error ? e.message : String(e);
        this.log.warn(`${name} of ${uuid} failed: ${message}`);
        const gone = isNovaError(e) && e.kind === 'NotFound' && /Instance .* could not be found/.test(message) && !(await this.driver.listInstances()).includes(uuid);
        // Fault and event first, state last: whoever sees the state settle also sees why.
        await this.conductor.actionEventFinish({ uuid, request_id: a.request_id, event, result: 'Error', details: message }).catch(() => undefined);
        try {
          await this.conductor.instanceFaultCreate({
            uuid,
            code: isNovaError(e) && e.kind === 'Conflict' ? 409 : 500,
            message: gone ? `${message} The guest is not on host ${this.host}.` : message,
            details: e instanceof Error && !isNovaError(e) ? (e.stack ?? message) : message,
            host: this.host,
          });
          const updates = recover ? await recover(e) : { task_state: null, power_state: await this.powerOf(uuid) };
          if (updates) await this.conductor.instanceUpdate({ uuid, updates });
        } catch (e2) {
          this.log.warn(`could not record the failure of ${name} on ${uuid}`, e2);
        }
      }
    });
  }

  private update(uuid: string, updates: Updates, expect?: (string | null)[]) {
    return this.conductor.instanceUpdate({ uuid, updates, ...(expect ? { expect_task_state: expect } : {}) });
  }

  /**
   * Marks the build started (task_state from scheduling to `to`, only while the instance waits
   * for this host). Resolves null when marked, or the reason it is not this host's build
   * (Conflict, NotFound). Other failures (the conductor or the DB briefly unreachable) are
   * retried for up to BUILD_MARK_RETRY_MS, then rethrown.
   */
  private async markBuildStarted(uuid: string, to: string): Promise<string | null> {
    const deadline = Date.now() + BUILD_MARK_RETRY_MS;
    for (let delay = 250; ; delay = Math.min(delay * 2, 4000)) {
      try {
        await this.conductor.instanceUpdate({ uuid, updates: { task_state: to }, expect_task_state: [TaskState.SCHEDULING], expect_host: this.host });
        return null;
      } catch (e) {
        if (isNovaError(e) && (e.kind === 'Conflict' || e.kind === 'NotFound')) return e.message;
        if (Date.now() + delay > deadline) throw e;
        this.log.warn(`marking the build of ${uuid} failed, retrying in ${delay} ms: ${e instanceof Error ? e.message : String(e)}`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /**
   * Builds the instance here (resources already claimed on node). On failure the guest's
   * leftovers are destroyed and the conductor reschedules to an alternate or fails the build.
   */
  buildAndRunInstance(a: OpArgs & { node: string; alternates: Selection[] }): Promise<void> {
    const uuid = a.instance.uuid;
    const event = 'compute_build_and_run_instance';
    return this.locks.run(uuid, async () => {
      // Casts arrive at least once (AMQP redelivers what a dead server did not ack), so the
      // 'spawning' mark comes first and doubles as the check that the instance still waits
      // for this host (task_state scheduling, host here): a repeated delivery of a build that
      // finished, failed or was rescheduled elsewhere changes nothing. The event start and the
      // spawn then proceed together. With volumes: block_device_mapping first (prepareBuild
      // moves it on to spawning).
      // Only Conflict (another state or host) and NotFound mean the build is not ours; a
      // conductor or DB that is briefly away (ServiceUnavailable, Timeout) is asked again.
      const notMine = await this.markBuildStarted(uuid, a.instance.has_volumes ? TaskState.BLOCK_DEVICE_MAPPING : TaskState.SPAWNING);
      if (notMine !== null) {
        this.log.info(`build of ${uuid} on ${this.host} skipped (a repeated or stale delivery): ${notMine}`);
        return;
      }
      const marking = Promise.resolve(true);
      const started = this.conductor.actionEventStart({ uuid, request_id: a.request_id, event, host: this.host }).catch(() => undefined);
      try {
        const inst = { ...a.instance, task_state: TaskState.SPAWNING, host: this.host, node: a.node };
        const withPorts = await this.net.setUp(inst, inst.requested_networks ?? 'none', inst.security_groups ?? []);
        await this.driver.spawn(inst.has_volumes ? await this.vols.prepareBuild(withPorts, marking) : withPorts);
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        this.log.warn(`build of ${uuid} failed on ${this.host}: ${reason}`);
        await this.driver.destroy(uuid).catch((e2) => this.log.warn(`cleanup of ${uuid} failed`, e2));
        // Ports are released (a reschedule allocates them again on the next host).
        await this.net.tearDown(a.instance).catch((e2) => this.log.warn(`releasing the ports of ${uuid} failed`, e2));
        await this.vols.abandonBuild(a.instance).catch((e2) => this.log.warn(`disconnecting the volumes of ${uuid} failed`, e2));
        // The mark must have landed before the conductor hands the instance to another host.
        await Promise.all([marking, started]);
        await this.conductor.actionEventFinish({ uuid, request_id: a.request_id, event, result: 'Error', details: reason }).catch(() => undefined);
        await this.conductor.buildFailed({ uuid, request_id: a.request_id, host: this.host, reason, alternates: e instanceof BuildAbort ? [] : a.alternates });
        return;
      }
      const activating = this.update(uuid, { vm_state: VmState.ACTIVE, task_state: null, power_state: PowerState.RUNNING, launched_at: nowIso() }, [
        TaskState.SCHEDULING,
        TaskState.BLOCK_DEVICE_MAPPING,
        TaskState.SPAWNING,
      ]);
      await started;
      const finished = this.conductor.actionEventFinish({ uuid, request_id: a.request_id, event, result: 'Success' }).catch(() => undefined);
      try {
        await activating;
      } catch (e) {
        // Deleted meanwhile (gone: remove the guest) or a delete is queued behind us (it will).
        const gone = isNovaError(e) && e.kind === 'NotFound';
        this.log.info(`instance ${uuid} changed during spawn (${(e as Error).message})${gone ? '; removing its guest' : ''}`);
        if (gone) {
          await this.driver.destroy(uuid).catch(() => undefined);
          await this.net.tearDown(a.instance).catch(() => undefined);
        }
      }
      await Promise.all([finished, marking]);
    });
  }

  /** Destroys the guest and has the conductor soft-delete the instance and free its resources. */
  terminateInstance(a: OpArgs): Promise<void> {
    return this.op(
      'terminate_instance',
      a,
      async () => {
        await this.driver.destroy(a.instance.uuid);
        await this.net.tearDown(a.instance);
        await this.vols.release(a.instance);
        await this.conductor.instanceDestroyed({ uuid: a.instance.uuid, request_id: a.request_id, host: this.host });
      },
      async () => ({ vm_state: VmState.ERROR, task_state: null, power_state: await this.powerOf(a.instance.uuid) }),
    );
  }

  /** Runs a power operation and records the resulting states. */
  private power(name: string, a: OpArgs, run: (uuid: string) => Promise<void>, vmState: string, power: number): Promise<void> {
    return this.op(name, a, async () => {
      await run(a.instance.uuid);
      await this.update(a.instance.uuid, { vm_state: vmState, task_state: null, power_state: power });
    });
  }

  rebootInstance(a: OpArgs & { reboot_type: 'SOFT' | 'HARD' }) {
    return this.power(
      'reboot_instance',
      a,
      async (u) => {
        await this.net.replug(a.instance);
        await this.driver.reboot(u, a.reboot_type === 'HARD' ? 'HARD' : 'SOFT');
      },
      VmState.ACTIVE,
      PowerState.RUNNING,
    );
  }
  stopInstance(a: OpArgs) {
    return this.power('stop_instance', a, (u) => this.driver.powerOff(u), VmState.STOPPED, PowerState.SHUTDOWN);
  }
  startInstance(a: OpArgs) {
    return this.power('start_instance', a, async (u) => {
        await this.net.replug(a.instance);
        await this.driver.powerOn(u);
      }, VmState.ACTIVE, PowerState.RUNNING);
  }
  pauseInstance(a: OpArgs) {
    return this.power('pause_instance', a, (u) => this.driver.pause(u), VmState.PAUSED, PowerState.PAUSED);
  }
  unpauseInstance(a: OpArgs) {
    return this.power('unpause_instance', a, (u) => this.driver.unpause(u), VmState.ACTIVE, PowerState.RUNNING);
  }
  suspendInstance(a: OpArgs) {
    return this.power('suspend_instance', a, (u) => this.driver.suspend(u), VmState.SUSPENDED, PowerState.SUSPENDED);
  }
  resumeInstance(a: OpArgs) {
    return this.power('resume_instance', a, async (u) => {
        await this.net.replug(a.instance);
        await this.driver.resume(u);
      }, VmState.ACTIVE, PowerState.RUNNING);
  }

  /** Re-creates the guest from the new image (instance.image); failure leaves ERROR, as Nova. */
  rebuildInstance(a: OpArgs) {
    return this.op(
      'rebuild_instance',
      a,
      async () => {
        await this.update(a.instance.uuid, { task_state: TaskState.REBUILD_SPAWNING });
        await this.driver.rebuild(a.instance);
        // As Nova: a server rebuilt while stopped stays stopped (the new guest is powered off).
        if (a.instance.vm_state === VmState.STOPPED) {
          await this.driver.powerOff(a.instance.uuid);
          await this.update(a.instance.uuid, { vm_state: VmState.STOPPED, task_state: null, power_state: PowerState.SHUTDOWN, launched_at: nowIso() });
        } else
          await this.update(a.instance.uuid, { vm_state: VmState.ACTIVE, task_state: null, power_state: PowerState.RUNNING, launched_at: nowIso() });
      },
      async () => ({ vm_state: VmState.ERROR, task_state: null, power_state: await this.powerOf(a.instance.uuid) }),
    );
  }

  /**
   * On the source host. Same host: resize the guest in place. Across hosts: power the guest
   * off (kept for a revert) and hand over to the destination (finish_resize). On failure the
   * conductor restores the allocation and the old flavor.
   */
  resizeInstance(a: OpArgs & { new_flavor: FlavorSnapshot; migration_uuid: string; dest_host?: string; dest_node?: string }) {
    const uuid = a.instance.uuid;
    const elsewhere = !!a.dest_host && a.dest_host !== this.host;
    return this.op(
      'resize_instance',
      a,
      async () => {
        await this.update(uuid, { task_state: TaskState.RESIZE_MIGRATING });
        if (elsewhere) {
          await this.driver.powerOff(uuid);
          const inst = await this.update(uuid, { task_state: TaskState.RESIZE_MIGRATED, power_state: PowerState.SHUTDOWN });
          await this.compute.finishResize(a.dest_host!, {
            instance: inst,
            request_id: a.request_id,
            new_flavor: a.new_flavor,
            migration_uuid: a.migration_uuid,
            node: a.dest_node ?? a.dest_host!,
          });
          return;
        }
        await this.driver.resize(a.instance, a.new_flavor);
        await this.update(uuid, { task_state: TaskState.RESIZE_FINISH });
        await this.conductor.resizeFinished({ instance_uuid: uuid, migration_uuid: a.migration_uuid, power_state: await this.powerOf(uuid) });
      },
      async () => {
        await this.conductor.resizeReverted({ instance_uuid: uuid, migration_uuid: a.migration_uuid, power_state: await this.powerOf(uuid) });
        return null;
      },
    );
  }

  /** On the destination of a resize across hosts: start the guest with the new flavor. */
  finishResize(a: OpArgs & { new_flavor: FlavorSnapshot; migration_uuid: string; node: string }) {
    const uuid = a.instance.uuid;
    return this.op(
      'finish_resize',
      a,
      async () => {
        await this.update(uuid, { task_state: TaskState.RESIZE_FINISH });
        await this.driver.spawn({ ...a.instance, flavor: a.new_flavor, host: this.host, node: a.node });
        await this.conductor.resizeFinished({ instance_uuid: uuid, migration_uuid: a.migration_uuid, power_state: await this.powerOf(uuid) });
      },
      async () => {
        // The instance stays on the source, whose guest is powered off: SHUTOFF, old flavor.
        await this.driver.destroy(uuid).catch(() => undefined);
        await this.conductor.resizeReverted({ instance_uuid: uuid, migration_uuid: a.migration_uuid, power_state: PowerState.SHUTDOWN });
        return null;
      },
    );
  }

  /** On the source host (where the API sends it). Across hosts, the old guest is deleted here. */
  confirmResize(a: OpArgs & { migration_uuid: string }) {
    const uuid = a.instance.uuid;
    return this.op('confirm_resize', a, async () => {
      const moved = !!a.instance.host && a.instance.host !== this.host;
      if (moved) await this.driver.destroy(uuid);
      const power = moved ? a.instance.power_state : await this.powerOf(uuid);
      await this.conductor.resizeConfirmed({ instance_uuid: uuid, migration_uuid: a.migration_uuid, power_state: power });
    });
  }

  /** On the destination host (where the API sends it): back to the old flavor, on the source. */
  revertResize(a: OpArgs & { migration_uuid: string }) {
    const uuid = a.instance.uuid;
    return this.op('revert_resize', a, async () => {
      const m = await this.conductor.migrationGet({ uuid: a.migration_uuid });
      if (m.source_compute && m.source_compute !== this.host) {
        await this.driver.destroy(uuid);
        const back = await this.conductor.resizeReverted({ instance_uuid: uuid, migration_uuid: a.migration_uuid, power_state: PowerState.SHUTDOWN });
        await this.compute.finishRevertResize(m.source_compute, { instance: back, request_id: a.request_id, migration_uuid: a.migration_uuid });
        return;
      }
      if (a.instance.old_flavor) await this.driver.resize(a.instance, a.instance.old_flavor);
      await this.conductor.resizeReverted({ instance_uuid: uuid, migration_uuid: a.migration_uuid, power_state: await this.powerOf(uuid) });
    });
  }

  /** On the source after a revert across hosts: the original guest runs again. */
  finishRevertResize(a: OpArgs & { migration_uuid: string }) {
    return this.power('finish_revert_resize', a, (u) => this.driver.powerOn(u), VmState.ACTIVE, PowerState.RUNNING);
  }

  /** Writes the disk into image_id (queued); on failure the image is abandoned. */
  snapshotInstance(a: OpArgs & { image_id: string }) {
    const uuid = a.instance.uuid;
    return this.op('snapshot_instance', a, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'nova-ts-snapshot-'));
      try {
        const snap = await this.driver.snapshot(uuid, dir);
        await this.update(uuid, { task_state: TaskState.IMAGE_UPLOADING });
        await this.images.uploadFile(a.image_id, snap.path, { disk_format: snap.disk_format, container_format: snap.container_format });
        await this.update(uuid, { task_state: null });
      } catch (e) {
        await this.images.abandon(a.image_id).catch((e2) => this.log.warn(`abandoning image ${a.image_id} failed`, e2));
        throw e;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  private get shelveDeps(): ShelveDeps {
    return { host: this.host, driver: this.driver, conductor: this.conductor, images: this.images, net: this.net, vols: this.vols, log: this.log };
  }

  /** shelve / shelve_offload / unshelve (compute RPC 1.4): see shelve.ts. */
  shelveInstance(a: ShelveArgs) {
    return this.op('shelve_instance', a, () => shelve(this.shelveDeps, a));
  }
  shelveOffloadInstance(a: OpArgs) {
    return this.op('shelve_offload_instance', a, () => offload(this.shelveDeps, a.instance));
  }
  unshelveInstance(a: UnshelveArgs) {
    return this.op('unshelve_instance', a, () => unshelve(this.shelveDeps, a), async () => {
      if (!a.node) return { task_state: null, power_state: await this.powerOf(a.instance.uuid) };
      await abandonUnshelve(this.shelveDeps, a.instance);
      return null;
    });
  }

  /**
   * os-interface attach: the port is made (or bound) and plugged, then hot-plugged into the guest;
   * if the guest refuses it, the port is released again. Errors go back to the API caller.
   */
  attachInterface(a: OpArgs & { net_id?: string; port_id?: string; fixed_ip?: string }): Promise<Vif> {
    return this.withEvent('attach_interface', a, async () => {
      const vif = await this.net.attach(a.instance, { net_id: a.net_id, port_id: a.port_id, fixed_ip: a.fixed_ip });
      try {
        await this.driver.attachInterface(a.instance.uuid, vif);
      } catch (e) {
        await this.net.detach(a.instance, vif).catch((e2) => this.log.warn(`releasing port ${vif.id} failed`, e2));
        throw e;
      }
      return vif;
    });
  }

  /** os-interface detach: hot-unplug, then the port is deleted (or unbound). */
  detachInterface(a: OpArgs & { port_id: string }): Promise<void> {
    return this.withEvent('detach_interface', a, async () => {
      const vif = (a.instance.network_info ?? []).find((v) => v.id === a.port_id);
      if (!vif) throw notFound(`Port ${a.port_id} is not attached to instance ${a.instance.uuid}.`);
      await this.driver.detachInterface(a.instance.uuid, vif);
      await this.net.detach(a.instance, vif);
    });
  }

  /** Runs body under the instance lock as action event compute_<name>; errors are returned, not recorded as faults. */
  private withEvent<T>(name: string, a: OpArgs, body: () => Promise<T>): Promise<T> {
    const uuid = a.instance.uuid;
    const event = `compute_${name}`;
    return this.locks.run(uuid, async () => {
      await this.conductor.actionEventStart({ uuid, request_id: a.request_id, event, host: this.host }).catch(() => undefined);
      try {
        const out = await body();
        await this.conductor.actionEventFinish({ uuid, request_id: a.request_id, event, result: 'Success' }).catch(() => undefined);
        return out;
      } catch (e) {
        const details = e instanceof Error ? e.message : String(e);
        await this.conductor.actionEventFinish({ uuid, request_id: a.request_id, event, result: 'Error', details }).catch(() => undefined);
        throw e;
      }
    });
  }

  /** attach_volume / detach_volume (compute RPC 1.3): see volumes.ts. */
  attachVolume(a: AttachVolumeArgs): Promise<void> {
    return this.vols.attach(a);
  }
  detachVolume(a: DetachVolumeArgs): Promise<void> {
    return this.vols.detach(a);
  }

  getConsoleOutput(a: { instance: InstancePayload; length?: number }): Promise<string> {
    return this.driver.consoleOutput(a.instance.uuid, typeof a.length === 'number' && a.length >= 0 ? a.length : undefined);
  }
}
