/**
 * The destination side of an evacuation (compute RPC 1.6 evacuate_instance; Nova's
 * rebuild_instance with recreate on the new host). The conductor already claimed resources
 * on `node` and recorded the instance on this host (task_state rebuilding). Here, under the
 * instance lock and as action event compute_rebuild_instance:
 *
 * 1. ports: every port of the instance is bound to this host (addresses kept), recorded as
 *    its network_info and plugged into this host's dataplane;
 * 2. volumes (task_state rebuild_block_device_mapping): each volume BDM's attachment (the live
 *    one, or a new one) is connected with this host's connector and completed; the BDM
 *    records the new connection_info;
 * 3. the guest is spawned from the instance's image with its identity (task_state
 *    rebuild_spawning); a server that was stopped is powered off again, as Nova does;
 * 4. the conductor is told `evacuated` (ACTIVE or SHUTOFF here, migration done, the source's
 *    allocation freed).
 *
 * On failure the guest and this host's taps are removed and the conductor is told
 * `evacuation_failed` (ERROR with a fault, back on the source node, allocation here freed).
 * A repeated delivery of the cast (the migration no longer pre-migrating) is ignored.
 * Nothing here depends on the driver kind: it only uses the ComputeDriver interface.
 */
import { devPath, type BdmRow } from '../objects/bdm.js';
import type { ConductorRpcApi } from '../conductor/rpcapi.js';
import type { Logger } from '../util/log.js';
import type { ComputeDriver, InstancePayload } from '../virt/driver.js';
import type { VolumeDevice } from '../volume/types.js';
import type { InstanceLocks } from './instance-locks.js';
import type { InstanceNetworking } from './networking.js';
import type { InstanceVolumes } from './volumes.js';
import { PowerState, TaskState, VmState } from './vm-states.js';

export interface EvacuateArgs {
  instance: InstancePayload;
  request_id: string;
  node: string;
  migration_uuid: string;
  /** The password the API answered (nova-ts guests get no password injected; kept for the contract). */
  admin_password?: string | null;
}

export interface EvacuateDeps {
  host: string;
  driver: ComputeDriver;
  conductor: ConductorRpcApi;
  net: InstanceNetworking;
  vols: InstanceVolumes;
  locks: InstanceLocks;
  log: Logger;
}

const EVENT = 'compute_rebuild_instance';
const msgOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Connects every volume BDM of the instance to this host; answers the devices to plug. */
async function reconnectVolumes(d: EvacuateDeps, inst: InstancePayload): Promise<VolumeDevice[]> {
  const v = d.vols.client();
  const uuid = inst.uuid;
  const bdms: BdmRow[] = (await d.conductor.bdmsOf({ instance_uuid: uuid })).filter((b) => b.destination_type === 'volume');
  const live = await v.attachmentsOf(uuid);
  const devices: VolumeDevice[] = [];
  for (const b of bdms) {
    if (!b.volume_id) throw new Error(`its block device mapping ${b.uuid} has no volume (it was never created)`);
    const device = b.device_name ? devPath(b.device_name) : b.boot_index === 0 ? '/dev/vda' : null;
    if (!device) throw new Error(`volume ${b.volume_id} has no device name`);
    const att = live.find((x) => x.id === b.attachment_id) ?? live.find((x) => x.volume_id === b.volume_id);
    const attachmentId = att?.id ?? (await v.createAttachment({ volume_id: b.volume_id, instance_uuid: uuid })).id;
    if (attachmentId !== b.attachment_id) await d.conductor.bdmUpdate({ bdm_uuid: b.uuid, updates: { attachment_id: attachmentId } });
    const ci = await v.updateAttachment({ attachment_id: attachmentId, connector: { host: d.host, instance_uuid: uuid }, mountpoint: device });
    await v.completeAttachment(attachmentId);
    await d.conductor.bdmUpdate({ bdm_uuid: b.uuid, updates: { connection_info: ci } });
    devices.push({ volume_id: b.volume_id, device_name: device, boot_index: b.boot_index, connection_info: ci });
  }
  return devices;
}

export function evacuateHere(d: EvacuateDeps, a: EvacuateArgs): Promise<void> {
  const uuid = a.instance.uuid;
  return d.locks.run(uuid, async () => {
    const m = await d.conductor.migrationGet({ uuid: a.migration_uuid });
    if (m.status !== 'pre-migrating' || m.dest_compute !== d.host) {
      d.log.info(`evacuation ${a.migration_uuid} of ${uuid} is ${m.status} (destination ${m.dest_compute}); nothing to do here`);
      return;
    }
    const wasStopped = a.instance.vm_state === VmState.STOPPED;
    const started = d.conductor.actionEventStart({ uuid, request_id: a.request_id, event: EVENT, host: d.host }).catch(() => undefined);
    let inst: InstancePayload = { ...a.instance, host: d.host, node: a.node };
    try {
      // A guest left by an earlier attempt here is replaced.
      if ((await d.driver.listInstances()).includes(uuid)) await d.driver.destroy(uuid);
      inst = await d.net.rebind(inst);
      let volumes: VolumeDevice[] = [];
      if (inst.has_volumes) {
        await d.conductor.instanceUpdate({ uuid, updates: { task_state: TaskState.REBUILD_BLOCK_DEVICE_MAPPING } });
        volumes = await reconnectVolumes(d, inst);
      }
      await d.conductor.instanceUpdate({ uuid, updates: { task_state: TaskState.REBUILD_SPAWNING } });
      await d.driver.spawn({ ...inst, task_state: TaskState.REBUILD_SPAWNING, volumes });
      if (wasStopped) await d.driver.powerOff(uuid);
      await d.conductor.evacuated({
        instance_uuid: uuid,
        migration_uuid: a.migration_uuid,
        host: d.host,
        node: a.node,
        power_state: wasStopped ? PowerState.SHUTDOWN : PowerState.RUNNING,
      });
      await started;
      await d.conductor.actionEventFinish({ uuid, request_id: a.request_id, event: EVENT, result: 'Success' }).catch(() => undefined);
      d.log.info(`instance ${uuid} evacuated from ${m.source_compute} to ${d.host}`);
    } catch (e) {
      const reason = msgOf(e);
      d.log.warn(`evacuation of ${uuid} to ${d.host} failed: ${reason}`);
      await d.driver.destroy(uuid).catch(() => undefined);
      await d.net.unplug(inst).catch((e2) => d.log.warn(`unplugging the ports of ${uuid} failed`, e2));
      await started;
      await d.conductor.actionEventFinish({ uuid, request_id: a.request_id, event: EVENT, result: 'Error', details: reason }).catch(() => undefined);
      await d.conductor
        .evacuationFailed({ instance_uuid: uuid, migration_uuid: a.migration_uuid, host: d.host, reason, request_id: a.request_id })
        .catch((e2) => d.log.warn(`recording the failed evacuation of ${uuid} failed`, e2));
    }
  });
}
