/**
 * Shelve, offload and unshelve on a compute host (the ComputeManager wraps each in its action
 * event; failures there record a fault). State changes go through the conductor:
 * instance_shelved (vm_state shelved, shelved_* system metadata), shelve_offloaded (host and
 * claim released) and unshelved (active again, shelved image deleted).
 *
 * - shelve: the guest is powered off; an image-backed server is snapshotted into image_id
 *   (task_state shelving_image_pending_upload, then shelving_image_uploading); then offloaded
 *   at once when `offload` (Nova's shelved_offload_time = 0).
 * - offload: the guest is destroyed here, its taps removed (ports stay allocated), its volumes
 *   disconnected from this host (attachments re-created on unshelve; the volumes stay in-use).
 * - unshelve in place (SHELVED, no node): the guest is powered on again.
 * - unshelve after offload (node given, resources already claimed here): ports bound here,
 *   volumes connected, the guest spawned from instance.image (the shelved image, chosen by
 *   the conductor). On failure the leftovers are removed and the instance goes back to
 *   SHELVED_OFFLOADED with its claim released (the manager's recover step).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConductorRpcApi } from '../conductor/rpcapi.js';
import type { ImageClient } from '../image/client.js';
import type { Logger } from '../util/log.js';
import type { ComputeDriver, InstancePayload } from '../virt/driver.js';
import type { InstanceNetworking } from './networking.js';
import type { InstanceVolumes } from './volumes.js';
import { PowerState, TaskState } from './vm-states.js';

export interface ShelveDeps {
  host: string;
  driver: ComputeDriver;
  conductor: ConductorRpcApi;
  images: ImageClient;
  net: InstanceNetworking;
  vols: InstanceVolumes;
  log: Logger;
}

export interface ShelveArgs {
  instance: InstancePayload;
  request_id: string;
  image_id: string | null;
  offload: boolean;
}

export interface UnshelveArgs {
  instance: InstancePayload;
  request_id: string;
  /** Set when the conductor scheduled an offloaded instance here. */
  node?: string;
}

const update = (d: ShelveDeps, uuid: string, updates: Parameters<ConductorRpcApi['instanceUpdate']>[0]['updates']) =>
  d.conductor.instanceUpdate({ uuid, updates });

export async function shelve(d: ShelveDeps, a: ShelveArgs): Promise<void> {
  const uuid = a.instance.uuid;
  await d.driver.powerOff(uuid);
  if (a.image_id) {
    const dir = await mkdtemp(join(tmpdir(), 'nova-ts-shelve-'));
    try {
      await update(d, uuid, { task_state: TaskState.SHELVING_IMAGE_PENDING_UPLOAD, power_state: PowerState.SHUTDOWN });
      const snap = await d.driver.snapshot(uuid, dir);
      await update(d, uuid, { task_state: TaskState.SHELVING_IMAGE_UPLOADING });
      await d.images.uploadFile(a.image_id, snap.path, { disk_format: snap.disk_format, container_format: snap.container_format });
    } catch (e) {
      await d.images.abandon(a.image_id).catch((e2) => d.log.warn(`abandoning image ${a.image_id} failed`, e2));
      throw e;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const shelved = await d.conductor.instanceShelved({ uuid, host: d.host, image_id: a.image_id });
  if (a.offload) await offload(d, shelved);
}

/** The guest leaves this host; the instance keeps its ports and volumes. */
export async function offload(d: ShelveDeps, inst: InstancePayload): Promise<void> {
  const uuid = inst.uuid;
  await update(d, uuid, { task_state: TaskState.SHELVING_OFFLOADING });
  await d.driver.destroy(uuid);
  await d.net.unplug(inst).catch((e) => d.log.warn(`unplugging the ports of ${uuid} failed`, e));
  await d.vols.abandonBuild(inst);
  await d.conductor.shelveOffloaded({ uuid });
}

export async function unshelve(d: ShelveDeps, a: UnshelveArgs): Promise<void> {
  const uuid = a.instance.uuid;
  if (!a.node) {
    await d.net.replug(a.instance);
    await d.driver.powerOn(uuid);
    await d.conductor.unshelved({ uuid, power_state: PowerState.RUNNING });
    return;
  }
  const inst = { ...a.instance, host: d.host, node: a.node };
  const withPorts = await d.net.setUp(inst, inst.requested_networks ?? 'none', inst.security_groups ?? []);
  let toSpawn = withPorts;
  if (inst.has_volumes) {
    // prepareBuild connects the volumes and moves block_device_mapping on to spawning.
    await update(d, uuid, { task_state: TaskState.BLOCK_DEVICE_MAPPING });
    toSpawn = await d.vols.prepareBuild(withPorts, Promise.resolve());
  } else await update(d, uuid, { task_state: TaskState.SPAWNING });
  await d.driver.spawn(toSpawn);
  await d.conductor.unshelved({ uuid, power_state: PowerState.RUNNING });
}

/** After a failed unshelve here: the guest and volume connections go; back to SHELVED_OFFLOADED. */
export async function abandonUnshelve(d: ShelveDeps, inst: InstancePayload): Promise<void> {
  await d.driver.destroy(inst.uuid).catch(() => undefined);
  await d.net.unplug(inst).catch(() => undefined);
  await d.vols.abandonBuild(inst).catch((e) => d.log.warn(`disconnecting the volumes of ${inst.uuid} failed`, e));
  await d.conductor.shelveOffloaded({ uuid: inst.uuid });
}
