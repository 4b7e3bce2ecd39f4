/**
 * The Compute API's side of block_device_mappings (Nova's BDMs): reading an instance's
 * mappings, recording new ones, and guest device names. Only mappings whose destination is a
 * volume are rows here (boot volumes, volumes made from an image at boot, attached volumes);
 * local disks stay in the instance's block_devices JSON. Rows are soft-deleted (deleted = id).
 */
import { invalid } from '../../errors.js';
import { inList, type Sql } from '../../db/sql.js';
import { uuid } from '../../util/ids.js';
import { nowIso } from '../../util/time.js';
import type { BdmRow } from '../../objects/bdm.js';

export type { BdmRow };

export type NewBdm = Pick<BdmRow, 'instance_uuid' | 'source_type' | 'destination_type'> &
  Partial<Pick<BdmRow, 'boot_index' | 'device_name' | 'volume_id' | 'attachment_id' | 'image_id' | 'snapshot_id' | 'volume_size' | 'tag'>> & {
    delete_on_termination?: boolean;
  };

/** The live mappings of an instance, oldest first. */
export function bdmsOf(sql: Sql, instanceUuid: string): Promise<BdmRow[]> {
  return sql.all<BdmRow>('SELECT * FROM block_device_mappings WHERE instance_uuid = ? AND deleted = 0 ORDER BY id', [instanceUuid]);
}

/** The live mappings with a volume of many instances (one query), oldest first per instance. */
export async function volumeBdmsOf(sql: Sql, instanceUuids: string[]): Promise<Map<string, BdmRow[]>> {
  const out = new Map<string, BdmRow[]>(instanceUuids.map((u) => [u, []]));
  for (let i = 0; i < instanceUuids.length; i += 500) {
    const chunk = instanceUuids.slice(i, i + 500);
    const rows = await sql.all<BdmRow>(
      `SELECT * FROM block_device_mappings WHERE deleted = 0 AND volume_id IS NOT NULL AND instance_uuid IN ${inList(chunk.length)} ORDER BY id`,
      chunk,
    );
    for (const r of rows) out.get(r.instance_uuid)?.push(r);
  }
  return out;
}

/** Records a mapping; answers its row. */
export async function insertBdm(sql: Sql, b: NewBdm): Promise<BdmRow> {
  const id = uuid();
  await sql.run(
    `INSERT INTO block_device_mappings (uuid, instance_uuid, source_type, destination_type, boot_index, device_name, volume_id,
       attachment_id, image_id, snapshot_id, volume_size, delete_on_termination, tag, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      id, b.instance_uuid, b.source_type, b.destination_type, b.boot_index ?? null, b.device_name ?? null, b.volume_id ?? null,
      b.attachment_id ?? null, b.image_id ?? null, b.snapshot_id ?? null, b.volume_size ?? null, b.delete_on_termination ? 1 : 0,
      b.tag ?? null, nowIso(),
    ],
  );
  return (await sql.get<BdmRow>('SELECT * FROM block_device_mappings WHERE uuid = ?', [id]))!;
}

/** Soft-deletes one mapping (idempotent). */
export async function deleteBdm(sql: Sql, bdmUuid: string): Promise<void> {
  await sql.run('UPDATE block_device_mappings SET deleted = id, updated_at = ? WHERE uuid = ? AND deleted = 0', [nowIso(), bdmUuid]);
}

/** The root disk of every guest: the image disk, or the boot volume of a boot from volume. */
export const ROOT_DEVICE = '/dev/vda';
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/**
 * A requested device name as the guest will see it, or null when it is not a device path.
 * Guests see virtio disks, so /dev/sdc, /dev/xvdc and /dev/hdc all become /dev/vdc (as
 * libvirt renames them); partitions are not devices.
 */
export function guestDeviceName(requested: string): string | null {
  const m = /^(?:\/dev\/)?(?:vd|sd|xvd|hd)([a-z]{1,2})$/.exec(requested.trim());
  return m ? `/dev/vd${m[1]}` : null;
}

/** The first free /dev/vdX after the root disk (vda); 400 when all 26 are taken. */
export function nextDeviceName(used: Iterable<string | null>): string {
  const taken = new Set([ROOT_DEVICE, ...[...used].filter((u): u is string => !!u)]);
  for (const l of LETTERS.slice(1)) {
    const name = `/dev/vd${l}`;
    if (!taken.has(name)) return name;
  }
  throw invalid('The maximum allowed number of disk devices (26) to attach to a single instance has been exceeded.');
}
