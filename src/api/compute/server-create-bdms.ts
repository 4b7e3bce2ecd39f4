/**
 * Block device mappings of POST /servers (Nova's block_device_mapping_v2, and the legacy
 * block_device_mapping of volumes): validated before anything is recorded.
 *
 * Served: local disks (image -> local for the root disk, blank -> local for swap and
 * ephemeral, kept in the instance's block_devices JSON as before), and volumes: image, blank
 * or snapshot -> volume (a new volume, of volume_size GiB, made by the compute host before the
 * guest starts) and volume -> volume (an existing available volume of the caller). A mapping
 * with boot_index 0 to a volume is a boot from volume: the server has no image disk and its
 * root is that volume (/dev/vda).
 */
import { invalid } from '../../errors.js';
import { isUuidLike } from '../../util/ids.js';
import type { RequestContext } from '../../http/types.js';
import type { ImageView } from '../../image/service.js';
import type { VolumeRow } from '../../volume/types.js';
import type { ComputeApiDeps } from './deps.js';
import { guestDeviceName, nextDeviceName, ROOT_DEVICE, type NewBdm } from './bdm-store.js';
import { imageForBoot } from './server-lookups.js';
import { parseBool } from './server-schemas.js';
import { visibleVolume, volumeClient } from './server-volume-attachments.js';

const GIB = 1024 ** 3;
const bdmInvalid = (details: string) => invalid(`Block Device Mapping is Invalid: ${details}`);
export const BAD_BOOT_SEQUENCE = 'Boot sequence for the instance and image/block device mapping combination is not valid.';

/** What the create records: local mappings (JSON), volume mappings (rows, without instance_uuid yet). */
export interface BlockDevicePlan {
  local: Record<string, unknown>[];
  volumes: Omit<NewBdm, 'instance_uuid'>[];
  /** The image the server boots from (imageRef, or the image of a boot_index 0 mapping to a local disk). */
  bootImageId: string | null;
  /** Set for a boot from volume: the image made into the boot volume, or the existing boot volume. */
  bootVolume: { image: ImageView } | { volume: VolumeRow } | { snapshot: string } | null;
  /** Existing volumes to reserve for the (single) new server. */
  reserve: string[];
}

type Bdm = Record<string, any>;

function bootIndex(b: Bdm): number | null {
  const v = b.boot_index;
  if (v === undefined || v === null || v === '') return null;
  const n = Number(v);
  return n < 0 ? null : n;
}

/** Legacy block_device_mapping (v1) entries of volumes as v2 mappings. */
function fromLegacy(list: Bdm[], hasImage: boolean): Bdm[] {
  return list.map((b) => {
    if (b.snapshot_id) throw invalid('Block device mappings from snapshots are not supported yet.');
    if (!b.volume_id) throw bdmInvalid('Missing device UUID.');
    const dev = typeof b.device_name === 'string' ? guestDeviceName(b.device_name) : null;
    return {
      source_type: 'volume', destination_type: 'volume', uuid: b.volume_id, device_name: b.device_name,
      delete_on_termination: b.delete_on_termination, boot_index: !hasImage && dev === ROOT_DEVICE ? 0 : null,
    };
  });
}

/**
 * Validates the request's mappings against the images and volumes they name (as ctx sees
 * them) and plans the rows. 400 with Nova's words for each mistake.
 */
export async function planBlockDevices(deps: ComputeApiDeps, ctx: RequestContext, s: Record<string, any>, maxCount: number): Promise<BlockDevicePlan> {
  const imageRef: string | null = s.imageRef ? String(s.imageRef) : null;
  const all: Bdm[] = [...((s.block_device_mapping_v2 ?? []) as Bdm[]), ...fromLegacy((s.block_device_mapping ?? []) as Bdm[], !!imageRef)];
  const plan: BlockDevicePlan = { local: [], volumes: [], bootImageId: imageRef, bootVolume: null, reserve: [] };
  const indexes = all.map(bootIndex).filter((i): i is number => i !== null).sort((a, b) => a - b);
  if (indexes.some((i, n) => i !== n)) throw bdmInvalid(BAD_BOOT_SEQUENCE);
  const used: string[] = [];
  const toName: { plan: Omit<NewBdm, 'instance_uuid'>; requested: string | null }[] = [];

  for (const b of all) {
    const source = b.source_type;
    if (!source) throw bdmInvalid('Missing or invalid source_type.');
    const dest = b.destination_type ?? (source === 'volume' || source === 'snapshot' ? 'volume' : 'local');
    const index = bootIndex(b);
    const id = b.uuid ?? b.volume_id ?? b.image_id ?? b.snapshot_id;
    if (source !== 'blank' && !id) throw bdmInvalid('Missing device UUID.');
    if (dest === 'local') {
      if (source === 'volume' || source === 'snapshot') throw bdmInvalid(`Mapping of source_type '${source}' to a local disk is not possible.`);
      if (source === 'image' && index === 0 && !imageRef) plan.bootImageId = String(id);
      plan.local.push(b);
      continue;
    }
    const requested = typeof b.device_name === 'string' ? b.device_name : null;
    if (requested !== null) {
      const name = guestDeviceName(requested);
      if (!name) throw bdmInvalid(`Device name ${requested} is not valid.`);
      if (used.includes(name)) throw bdmInvalid(`Device name ${requested} is used more than once.`);
      if (name === ROOT_DEVICE && index !== 0) throw bdmInvalid(`Device name ${requested} is the root device; only the boot volume may use it.`);
      used.push(name);
    }
    const row: Omit<NewBdm, 'instance_uuid'> = {
      source_type: source, destination_type: 'volume', boot_index: index,
      delete_on_termination: b.delete_on_termination !== undefined && parseBool(b.delete_on_termination), tag: b.tag ?? null,
    };
    if (source === 'blank') {
      const size = b.volume_size === undefined ? 0 : Number(b.volume_size);
      if (!size) throw bdmInvalid("Blank volumes need to have a non-zero size specified");
      row.volume_size = size;
    } else if (source === 'snapshot') {
      const snap = isUuidLike(id)
        ? await deps.sql.get<{ id: string; project_id: string; size: number; status: string }>('SELECT id, project_id, size, status FROM volume_snapshots WHERE id = ? AND deleted = 0', [String(id)])
        : undefined;
      if (!snap || (!ctx.isAdmin && snap.project_id !== ctx.projectId)) throw bdmInvalid(`failed to get snapshot ${id}.`);
      if (snap.status !== 'available') throw invalid(`Invalid snapshot: snapshot '${snap.id}' status must be 'available'. Currently in '${snap.status}'`);
      const size = b.volume_size === undefined ? snap.size : Number(b.volume_size);
      if (size < snap.size) throw bdmInvalid(`Volume size ${size} is smaller than the snapshot's size ${snap.size}.`);
      Object.assign(row, { snapshot_id: snap.id, volume_size: size });
      if (index === 0) plan.bootVolume = { snapshot: snap.id };
    } else if (source === 'image') {
      const image = await imageForBoot(deps, ctx, String(id));
      const size = b.volume_size === undefined ? 0 : Number(b.volume_size);
      if (!size) throw bdmInvalid("Images with destination_type 'volume' need to have a non-zero size specified");
      const minDisk = Number(image.min_disk ?? 0);
      if (minDisk > size)
        throw invalid(`Volume is smaller than the minimum size specified in image metadata. Volume size is ${size * GIB} bytes, minimum size is ${minDisk * GIB} bytes.`);
      const imageSize = Number(image.virtual_size ?? image.size ?? 0);
      if (imageSize > size * GIB) throw invalid(`Size of specified image ${imageSize} is larger than volume size ${size * GIB}.`);
      Object.assign(row, { image_id: image.id, volume_size: size });
      if (index === 0) plan.bootVolume = { image };
    } else {
      volumeClient(deps);
      const volume = await visibleVolume(deps.volumes!, ctx, String(id)).catch(() => {
        throw bdmInvalid(`failed to get volume ${id}.`);
      });
      const attachable = volume.status === 'available' || (volume.multiattach && volume.status === 'in-use');
      if (!attachable) throw invalid(`Invalid volume: volume '${volume.id}' status must be 'available'. Currently in '${volume.status}'`);
      if (maxCount > 1) throw invalid('Cannot attach one or more volumes to multiple instances');
      if (plan.reserve.includes(volume.id)) throw bdmInvalid(`Volume ${volume.id} is mapped more than once.`);
      Object.assign(row, { volume_id: volume.id, volume_size: volume.size });
      plan.reserve.push(volume.id);
      if (index === 0) plan.bootVolume = { volume };
    }
    toName.push({ plan: row, requested });
  }
  if (plan.bootVolume && imageRef && 'volume' in plan.bootVolume) throw bdmInvalid(BAD_BOOT_SEQUENCE);
  if (plan.bootVolume && plan.local.some((b) => bootIndex(b) === 0)) throw bdmInvalid(BAD_BOOT_SEQUENCE);
  if (!plan.bootImageId && !plan.bootVolume) throw bdmInvalid(BAD_BOOT_SEQUENCE);
  if (plan.bootVolume && imageRef) plan.bootImageId = imageRef;
  // Device names: the boot volume is the root disk; the others keep theirs or take the next free one.
  for (const t of toName) {
    if (t.plan.boot_index === 0) t.plan.device_name = ROOT_DEVICE;
    else if (t.requested !== null) t.plan.device_name = guestDeviceName(t.requested);
  }
  for (const t of toName) {
    if (!t.plan.device_name) t.plan.device_name = nextDeviceName(toName.map((x) => x.plan.device_name ?? null));
    plan.volumes.push(t.plan);
  }
  return plan;
}
