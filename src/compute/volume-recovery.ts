/**
 * Start-up reconciliation of the volume attachments of a compute host's instances (after
 * recover.ts settled their task states): an attach or detach a restart interrupted is finished
 * or undone, so no volume stays attaching, reserved or detaching. Idempotent; per instance
 * failures are logged and the next instance is tried.
 *
 * - attachment reserved/attaching (an attach_volume under way): completed when the driver has
 *   the volume plugged (or, for a driver that cannot tell, when plugging it again works);
 *   otherwise the attachment is deleted and its BDM destroyed.
 * - attachment attached while the volume is still attaching: completed.
 * - volume detaching: the detach is finished (attachment deleted, BDM destroyed) when the
 *   driver no longer has it plugged; otherwise rolled back to in-use.
 */
import { connectionInfoOf, devPath, type BdmRow } from '../objects/bdm.js';
import type { ConductorRpcApi } from '../conductor/rpcapi.js';
import type { Logger } from '../util/log.js';
import type { ComputeDriver, InstancePayload } from '../virt/driver.js';
import type { VolumeClient } from '../volume/client.js';
import type { AttachmentRow } from '../volume/types.js';

/** Volume id -> device of the guest's plugged volumes; {} when the guest is gone; null when the driver cannot tell. */
async function pluggedOf(driver: ComputeDriver, uuid: string): Promise<Record<string, string> | null> {
  if (!driver.volumesOf) return null;
  try {
    return await driver.volumesOf(uuid);
  } catch {
    return {};
  }
}

async function reconcileAttachment(
  d: { host: string; driver: ComputeDriver; conductor: ConductorRpcApi; volumes: VolumeClient; log: Logger },
  uuid: string,
  att: AttachmentRow,
  bdm: BdmRow | undefined,
  plugged: Record<string, string> | null,
): Promise<string | null> {
  const { driver, conductor, volumes } = d;
  const vol = await volumes.get(att.volume_id).catch(() => null);
  if (att.status === 'reserved' || att.status === 'attaching') {
    const ci = connectionInfoOf(att.connection_info) ?? connectionInfoOf(bdm?.connection_info);
    const device = bdm?.device_name ? devPath(bdm.device_name) : att.mountpoint;
    let have = !!plugged?.[att.volume_id];
    if (!have && plugged === null && ci && device && bdm) {
      have = await driver.attachVolume(uuid, { volume_id: att.volume_id, device_name: device, boot_index: bdm.boot_index, connection_info: ci }).then(
        () => true,
        () => false,
      );
    }
    if (have && ci && bdm) {
      await conductor.bdmUpdate({ bdm_uuid: bdm.uuid, updates: { attachment_id: att.id, connection_info: ci } });
      await volumes.completeAttachment(att.id);
      return `attach of volume ${att.volume_id} completed`;
    }
    if (plugged?.[att.volume_id]) await driver.detachVolume(uuid, att.volume_id).catch(() => undefined);
    await volumes.deleteAttachment(att.id);
    if (bdm) await conductor.bdmDestroy({ bdm_uuid: bdm.uuid });
    return `attach of volume ${att.volume_id} undone`;
  }
  if (vol?.status === 'detaching' || att.status === 'detaching') {
    if (plugged && !plugged[att.volume_id]) {
      await volumes.deleteAttachment(att.id);
      if (bdm) await conductor.bdmDestroy({ bdm_uuid: bdm.uuid });
      return `detach of volume ${att.volume_id} finished`;
    }
    await volumes.rollDetaching(att.volume_id);
    return `detach of volume ${att.volume_id} rolled back (still attached)`;
  }
  if (att.status === 'attached' && (vol?.status === 'attaching' || vol?.status === 'reserved')) {
    await volumes.completeAttachment(att.id);
    return `attach of volume ${att.volume_id} completed`;
  }
  return null;
}

/** Reconciles the attachments of every instance with volumes; answers how many were changed. */
export async function recoverVolumes(d: {
  host: string;
  driver: ComputeDriver;
  conductor: ConductorRpcApi;
  volumes?: VolumeClient;
  log: Logger;
  instances: InstancePayload[];
}): Promise<number> {
  const { volumes, log } = d;
  if (!volumes) return 0;
  let n = 0;
  for (const inst of d.instances) {
    if (!inst.has_volumes) continue;
    try {
      const bdms = await d.conductor.bdmsOf({ instance_uuid: inst.uuid });
      const atts = await volumes.attachmentsOf(inst.uuid);
      if (atts.length === 0) continue;
      const plugged = await pluggedOf(d.driver, inst.uuid);
      for (const att of atts) {
        const bdm = bdms.find((b) => b.attachment_id === att.id) ?? bdms.find((b) => b.volume_id === att.volume_id && !b.attachment_id);
        const what = await reconcileAttachment({ ...d, volumes }, inst.uuid, att, bdm, plugged);
        if (what) {
          n++;
          log.info(`instance ${inst.uuid}: ${what} after a restart`);
        }
      }
    } catch (e) {
      log.warn(`reconciling the volumes of instance ${inst.uuid} failed`, e);
    }
  }
  return n;
}
