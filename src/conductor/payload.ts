/**
 * The InstancePayload of an instance row: what a compute host is told about an instance. Used
 * by the conductor and by the Compute API before casting to a host.
 *
 * Image metadata comes from the instance's system_metadata key `image_meta` (a JSON string
 * recorded by the conductor at build, like Nova's image_* system metadata); pass opts.image
 * to override it (rebuild with a new image), null when the instance has no image.
 */
import type { Vif } from '../network/types.js';
import type { RequestedNetworks } from '../network/client.js';
import type { Sql } from '../db/sql.js';
import { inList, json } from '../db/sql.js';
import type { InstanceRow } from '../db/instances.js';
import type { FlavorSnapshot } from '../objects/flavor.js';
import type { ImageMeta, InstancePayload } from '../virt/driver.js';
import { volumeBdmsOf, volumeDevices, type BdmRow } from './bdms.js';

export const IMAGE_META_KEY = 'image_meta';

export function systemMetadata(row: Pick<InstanceRow, 'system_metadata'>): Record<string, string> {
  return json<Record<string, string>>(row.system_metadata, {});
}

export function imageMetaOf(row: Pick<InstanceRow, 'system_metadata'>): ImageMeta | null {
  const raw = systemMetadata(row)[IMAGE_META_KEY];
  return raw ? (JSON.parse(raw) as ImageMeta) : null;
}

const truthy = (s: string | null) => !!s && ['true', '1', 'yes', 'on'].includes(s.toLowerCase());

/**
 * Builds the payload from a row and its metadata (no DB access beyond what is passed). `bdms`
 * (the instance's live volume BDMs) gives `volumes` (the connected ones, for the driver) and
 * `has_volumes` (any at all: the host reads them through the conductor when it needs them).
 */
export function payloadOf(row: InstanceRow, metadata: Record<string, string>, opts: { image?: ImageMeta | null; bdms?: BdmRow[] } = {}): InstancePayload {
  const bdms = opts.bdms ?? [];
  return {
    uuid: row.uuid,
    display_name: row.display_name,
    hostname: row.hostname,
    project_id: row.project_id,
    user_id: row.user_id,
    flavor: json<FlavorSnapshot>(row.flavor, null as never),
    image_ref: row.image_ref || null,
    image: opts.image !== undefined ? opts.image : imageMetaOf(row),
    kernel_id: row.kernel_id,
    ramdisk_id: row.ramdisk_id,
    key_name: row.key_name,
    key_data: row.key_data,
    user_data: row.user_data,
    config_drive: truthy(row.config_drive),
    metadata,
    availability_zone: row.availability_zone,
    launch_index: row.launch_index,
    reservation_id: row.reservation_id,
    network_info: json<Vif[]>(row.network_info, []),
    requested_networks: json<RequestedNetworks>(row.requested_networks, 'none'),
    security_groups: json<string[]>(row.security_groups, []),
    block_devices: json<unknown[]>(row.block_devices, []),
    vm_state: row.vm_state,
    task_state: row.task_state,
    power_state: row.power_state,
    host: row.host,
    node: row.node,
    created_at: row.created_at,
    launched_at: row.launched_at,
    old_flavor: json<FlavorSnapshot | null>(row.old_flavor, null),
    ...(bdms.length ? { has_volumes: true, volumes: volumeDevices(bdms) } : {}),
  };
}

/** The payload of one instance row (reads its instance_metadata). */
export async function instancePayload(sql: Sql, row: InstanceRow, opts: { image?: ImageMeta | null } = {}): Promise<InstancePayload> {
  const md = await sql.all<{ key: string; value: string }>('SELECT key, value FROM instance_metadata WHERE instance_uuid = ?', [row.uuid]);
  const bdms = (await volumeBdmsOf(sql, [row.uuid])).get(row.uuid);
  return payloadOf(row, Object.fromEntries(md.map((m) => [m.key, m.value])), { ...opts, bdms });
}

/** Payloads of many rows with one metadata query per 500 rows. */
export async function instancePayloads(sql: Sql, rows: InstanceRow[]): Promise<InstancePayload[]> {
  const md = new Map<string, Record<string, string>>();
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500).map((r) => r.uuid);
    const found = await sql.all<{ instance_uuid: string; key: string; value: string }>(
      `SELECT instance_uuid, key, value FROM instance_metadata WHERE instance_uuid IN ${inList(chunk.length)}`,
      chunk,
    );
    for (const m of found) {
      let o = md.get(m.instance_uuid);
      if (!o) md.set(m.instance_uuid, (o = {}));
      o[m.key] = m.value;
    }
  }
  const bdms = await volumeBdmsOf(sql, rows.map((r) => r.uuid));
  return rows.map((r) => payloadOf(r, md.get(r.uuid) ?? {}, { bdms: bdms.get(r.uuid) }));
}
