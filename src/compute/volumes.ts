/**
 * Volumes on a compute host: attach and detach for os-volume_attachments (compute RPC 1.3),
 * the volumes of a build (boot from volume: task_state block_device_mapping before spawn),
 * and their release when the instance is deleted. BDMs are read and written through the
 * conductor (a compute host has no DB access); volumes through the VolumeClient.
 *
 * Contracts:
 * - attach: on success the volume is in-use, plugged at device_name, and the BDM carries its
 *   connection_info (so later payloads plug it again); on failure the attachment and the BDM
 *   are gone (volume available again), a fault and an Error event are recorded, and the caller
 *   gets an error saying why.
 * - detach: on success the volume is unplugged, its attachment deleted (available) and the
 *   BDM destroyed; when the guest does not release it the volume is rolled back to in-use and
 *   the caller gets "The guest did not release volume X within 30 s; it stays attached".
 * - build: idempotent for reschedules and restarts (a volume already created for a BDM is
 *   reused; an attachment still live is reused). A boot volume that cannot be created aborts
 *   the build without a reschedule (BuildAbort).
 * - release (terminate): every attachment of the instance is deleted, then volumes with
 *   delete_on_termination are deleted; failures are logged, never block the delete.
 */
import { devPath, type BdmRow } from '../objects/bdm.js';
import type { ConductorRpcApi } from '../conductor/rpcapi.js';
import { conflict, invalid, isNovaError, NovaError, unavailable } from '../errors.js';
import type { Logger } from '../util/log.js';
import type { ComputeDriver, InstancePayload } from '../virt/driver.js';
import type { VolumeClient } from '../volume/client.js';
import type { VolumeDevice } from '../volume/types.js';
import type { InstanceLocks } from './instance-locks.js';
import { TaskState } from './vm-states.js';

/** Seconds a guest has to release a volume on detach. */
export const DETACH_TIMEOUT_SEC = 30;

/** A build failure no other host can fix (the conductor is told not to reschedule). */
export class BuildAbort extends Error {}

export interface AttachVolumeArgs {
  instance: InstancePayload;
  request_id: string;
  bdm_uuid: string;
  volume_id: string;
  attachment_id: string;
  device_name: string;
}
export type DetachVolumeArgs = Omit<AttachVolumeArgs, 'device_name'>;

/** Rejects a request missing one of the string arguments keys. */
function need(method: string, a: Record<string, unknown>, keys: string[]): void {
  for (const k of keys) if (typeof a[k] !== 'string' || a[k] === '') throw invalid(`Compute request ${method} is missing the string '${k}'.`);
}

const msgOf = (e: unknown) => (e instanceof Error ? e.message : String(e));
const isVolumeBdm = (b: BdmRow) => b.destination_type === 'volume';
/** The guest is gone (the driver does not know the instance). */
const guestGone = (e: unknown) => isNovaError(e) && e.kind === 'NotFound' && /Instance .* could not be found/.test(e.message);

/**
 * Deletes every attachment of an instance (those its BDMs name and any other live one), then
 * the volumes of BDMs with delete_on_termination. Failures are logged and skipped. Usable
 * wherever an instance is deleted (compute host, or the API's local delete).
 */
export async function releaseVolumes(volumes: VolumeClient, instanceUuid: string, bdms: BdmRow[], log: Logger): Promise<void> {
  const ids = new Set(bdms.filter((b) => b.attachment_id).map((b) => b.attachment_id!));
  try {
    for (const a of await volumes.attachmentsOf(instanceUuid)) ids.add(a.id);
  } catch (e) {
    log.warn(`listing the volume attachments of ${instanceUuid} failed`, e);
  }
  for (const id of ids) await volumes.deleteAttachment(id).catch((e) => log.warn(`deleting volume attachment ${id} of ${instanceUuid} failed`, e));
  for (const b of bdms.filter((x) => isVolumeBdm(x) && x.volume_id && x.delete_on_termination)) {
    await volumes.delete(b.volume_id!).catch((e) => log.warn(`deleting volume ${b.volume_id} of deleted instance ${instanceUuid} failed: ${msgOf(e)}`));
  }
}

/** First free /dev/vdX (vdb onwards) not in used. */
function freeDevice(used: Set<string>): string {
  for (let c = 'b'.charCodeAt(0); c <= 'z'.charCodeAt(0); c++) {
    const d = `/dev/vd${String.fromCharCode(c)}`;
    if (!used.has(d)) return d;
  }
  throw new Error('The instance has no free device name left (vdb to vdz are in use).');
}

export class InstanceVolumes {
  constructor(
    private readonly d: {
      host: string;
      driver: ComputeDriver;
      conductor: ConductorRpcApi;
      volumes?: VolumeClient;
      locks: InstanceLocks;
      log: Logger;
    },
  ) {}

  /** The volume service, or a clear error when this host has none. */
  client(): VolumeClient {
    if (!this.d.volumes) throw unavailable(`Compute host ${this.d.host} has no block storage service; volumes cannot be used there.`);
    return this.d.volumes;
  }

  /** Runs body under the instance lock as event compute_<name>; on failure a fault and an Error event, then rethrows. */
  private withEvent(name: string, a: { instance: InstancePayload; request_id: string }, body: () => Promise<void>): Promise<void> {
    const { conductor, host } = this.d;
    const uuid = a.instance.uuid;
    const event = `compute_${name}`;
    return this.d.locks.run(uuid, async () => {
      await conductor.actionEventStart({ uuid, request_id: a.request_id, event, host }).catch(() => undefined);
      try {
        await body();
        await conductor.actionEventFinish({ uuid, request_id: a.request_id, event, result: 'Success' }).catch(() => undefined);
      } catch (e) {
        const message = msgOf(e);
        this.d.log.warn(`${name} on ${uuid} failed: ${message}`);
        await conductor.actionEventFinish({ uuid, request_id: a.request_id, event, result: 'Error', details: message }).catch(() => undefined);
        const code = isNovaError(e) && e.kind === 'Conflict' ? 409 : 500;
        await conductor.instanceFaultCreate({ uuid, code, message, host }).catch((e2) => this.d.log.warn(`recording the fault of ${name} on ${uuid} failed`, e2));
        throw e;
      }
    });
  }

  /** attach_volume: the attachment is reserved and the BDM recorded by the API. */
  attach(a: AttachVolumeArgs): Promise<void> {
    need('attach_volume', a as never, ['bdm_uuid', 'volume_id', 'attachment_id', 'device_name']);
    return this.withEvent('attach_volume', a, async () => {
      const { driver, conductor, host } = this.d;
      const uuid = a.instance.uuid;
      const device = devPath(a.device_name);
      let plugged = false;
      try {
        const v = this.client();
        const ci = await v.updateAttachment({ attachment_id: a.attachment_id, connector: { host, instance_uuid: uuid }, mountpoint: device });
        await driver.attachVolume(uuid, { volume_id: a.volume_id, device_name: device, boot_index: null, connection_info: ci });
        plugged = true;
        if (!(await conductor.bdmUpdate({ bdm_uuid: a.bdm_uuid, updates: { attachment_id: a.attachment_id, device_name: device, connection_info: ci } })))
          throw new Error(`its block device mapping ${a.bdm_uuid} was deleted meanwhile`);
        await v.completeAttachment(a.attachment_id);
      } catch (e) {
        if (plugged) await driver.detachVolume(uuid, a.volume_id, DETACH_TIMEOUT_SEC).catch((e2) => this.d.log.warn(`unplugging volume ${a.volume_id} from ${uuid} failed`, e2));
        await this.d.volumes?.deleteAttachment(a.attachment_id).catch((e2) => this.d.log.warn(`deleting attachment ${a.attachment_id} failed`, e2));
        await conductor.bdmDestroy({ bdm_uuid: a.bdm_uuid }).catch((e2) => this.d.log.warn(`destroying BDM ${a.bdm_uuid} failed`, e2));
        const text = `Volume ${a.volume_id} could not be attached to instance ${uuid} at ${device}: ${msgOf(e)}`;
        throw isNovaError(e) ? new NovaError(e.kind, text) : new Error(text);
      }
    });
  }

  /** detach_volume: the API moved the volume to detaching (begin_detaching). */
  detach(a: DetachVolumeArgs): Promise<void> {
    need('detach_volume', a as never, ['bdm_uuid', 'volume_id', 'attachment_id']);
    return this.withEvent('detach_volume', a, async () => {
      const v = this.client();
      const uuid = a.instance.uuid;
      try {
        await this.d.driver.detachVolume(uuid, a.volume_id, DETACH_TIMEOUT_SEC);
      } catch (e) {
        if (!guestGone(e)) {
          await v.rollDetaching(a.volume_id).catch((e2) => this.d.log.warn(`rolling back the detach of ${a.volume_id} failed`, e2));
          const why = /did not release/.test(msgOf(e)) ? '' : ` (${msgOf(e)})`;
          throw conflict(`The guest did not release volume ${a.volume_id} within ${DETACH_TIMEOUT_SEC} s; it stays attached${why}.`);
        }
      }
      await v.deleteAttachment(a.attachment_id);
      await this.d.conductor.bdmDestroy({ bdm_uuid: a.bdm_uuid });
    });
  }

  /**
   * Before spawn (instance has_volumes; `marked` resolves once task_state block_device_mapping
   * is written): creates the volumes BDMs ask for (image/blank/snapshot source to a volume),
   * names their devices, connects every volume BDM to this host, then moves task_state to
   * spawning. Answers the payload to spawn, with `volumes`.
   */
  async prepareBuild(inst: InstancePayload, marked: Promise<unknown>): Promise<InstancePayload> {
    const { conductor, host } = this.d;
    const v = this.client();
    await marked;
    const uuid = inst.uuid;
    const bdms = (await conductor.bdmsOf({ instance_uuid: uuid })).filter(isVolumeBdm);
    const used = new Set(bdms.filter((b) => b.device_name).map((b) => devPath(b.device_name!)));
    const live = new Set((await v.attachmentsOf(uuid)).map((x) => x.id));
    const devices: VolumeDevice[] = [];
    for (const b of bdms) {
      const boot = b.boot_index === 0;
      const what = boot ? 'the boot disk' : `device ${b.device_name ?? '(unnamed)'}`;
      let volumeId = b.volume_id;
      if (!volumeId) {
        if (!b.volume_size && b.source_type !== 'snapshot') throw new BuildAbort(`Volume for ${what} could not be created: no volume_size was given.`);
        const created = await v
          .create({ project_id: inst.project_id, user_id: inst.user_id, size: b.volume_size ?? 0, image_id: b.source_type === 'image' ? b.image_id : null, snapshot_id: b.source_type === 'snapshot' ? b.snapshot_id : null, name: '' })
          .catch((e) => {
            throw new BuildAbort(`Volume for ${what} could not be created: ${msgOf(e)}`);
          });
        volumeId = created.id;
        await conductor.bdmUpdate({ bdm_uuid: b.uuid, updates: { volume_id: volumeId } });
      }
      const vol = await v.get(volumeId);
      if (vol.status === 'creating' || vol.status === 'downloading' || vol.status === 'error') {
        await v.waitAvailable(volumeId).catch((e) => {
          throw new BuildAbort(b.source_type === 'volume' ? `Volume ${volumeId} for ${what} is not usable: ${msgOf(e)}` : `Volume for ${what} could not be created: ${msgOf(e)}`);
        });
      }
      const device = b.device_name ? devPath(b.device_name) : boot ? '/dev/vda' : freeDevice(used);
      used.add(device);
      let attachmentId = b.attachment_id && live.has(b.attachment_id) ? b.attachment_id : null;
      if (!attachmentId)
        attachmentId = (
          await v.createAttachment({ volume_id: volumeId, instance_uuid: uuid }).catch((e) => {
            throw new BuildAbort(`Volume ${volumeId} for ${what} could not be attached: ${msgOf(e)}`);
          })
        ).id;
      // Recorded before connecting, so a failure or restart finds (and undoes) it.
      await conductor.bdmUpdate({ bdm_uuid: b.uuid, updates: { attachment_id: attachmentId, device_name: device } });
      const ci = await v.updateAttachment({ attachment_id: attachmentId, connector: { host, instance_uuid: uuid }, mountpoint: device });
      await v.completeAttachment(attachmentId);
      await conductor.bdmUpdate({ bdm_uuid: b.uuid, updates: { connection_info: ci } });
      devices.push({ volume_id: volumeId, device_name: device, boot_index: b.boot_index, connection_info: ci });
    }
    await conductor.instanceUpdate({ uuid, updates: { task_state: TaskState.SPAWNING }, expect_task_state: [TaskState.BLOCK_DEVICE_MAPPING] });
    return { ...inst, task_state: TaskState.SPAWNING, volumes: devices };
  }

  /**
   * After a failed build here (guest destroyed): disconnects the instance's volumes from this
   * host (attachments deleted, BDMs keep volume_id but lose attachment and connection_info),
   * so a reschedule connects them again elsewhere. Volumes themselves are kept.
   */
  async abandonBuild(inst: InstancePayload): Promise<void> {
    if (!inst.has_volumes || !this.d.volumes) return;
    const bdms = (await this.d.conductor.bdmsOf({ instance_uuid: inst.uuid })).filter(isVolumeBdm);
    const live = await this.d.volumes.attachmentsOf(inst.uuid);
    for (const a of live) await this.d.volumes.deleteAttachment(a.id);
    for (const b of bdms)
      if (b.attachment_id || b.connection_info) await this.d.conductor.bdmUpdate({ bdm_uuid: b.uuid, updates: { attachment_id: null, connection_info: null } });
  }

  /** On terminate, after the guest is destroyed: see releaseVolumes. Never throws. */
  async release(inst: InstancePayload): Promise<void> {
    if (!inst.has_volumes) return;
    if (!this.d.volumes) {
      this.d.log.warn(`instance ${inst.uuid} has volumes but compute host ${this.d.host} has no block storage service; they stay attached`);
      return;
    }
    try {
      await releaseVolumes(this.d.volumes, inst.uuid, await this.d.conductor.bdmsOf({ instance_uuid: inst.uuid }), this.d.log);
    } catch (e) {
      this.d.log.warn(`releasing the volumes of ${inst.uuid} failed`, e);
    }
  }
}
