/**
 * Block device mappings (Nova's BDMs, table block_device_mappings) as the conductor reads and
 * writes them for compute hosts, and as the Compute API may reuse them. A BDM with
 * destination_type 'volume' ties a volume (volume_id, attachment_id) to an instance at a guest
 * device; connection_info is set once the volume is connected on the instance's host, which
 * is what makes it part of the instance's payload (InstancePayload.volumes).
 */
import type { Sql, SqlValue } from '../db/sql.js';
import { inList, json } from '../db/sql.js';
import { invalid } from '../errors.js';
import { nowIso } from '../util/time.js';
import type { ConnectionInfo, VolumeDevice } from '../volume/types.js';
import { devPath, type BdmRow } from '../objects/bdm.js';

export { devPath, type BdmRow };


/** Live BDMs of an instance, boot disk first (boot_index 0), then by creation. */
export function bdmsOf(sql: Sql, instanceUuid: string): Promise<BdmRow[]> {
  return sql.all<BdmRow>(
    `SELECT * FROM block_device_mappings WHERE instance_uuid = ? AND deleted = 0
       ORDER BY CASE WHEN boot_index IS NULL THEN 1 ELSE 0 END, boot_index, id`,
    [instanceUuid],
  );
}

/** Live volume BDMs of many instances, by instance uuid (one query per 500 instances). */
export async function volumeBdmsOf(sql: Sql, uuids: string[]): Promise<Map<string, BdmRow[]>> {
  const out = new Map<string, BdmRow[]>();
  for (let i = 0; i < uuids.length; i += 500) {
    const chunk = uuids.slice(i, i + 500);
    const rows = await sql.all<BdmRow>(
      `SELECT * FROM block_device_mappings WHERE instance_uuid IN ${inList(chunk.length)} AND deleted = 0 AND destination_type = 'volume'
         ORDER BY CASE WHEN boot_index IS NULL THEN 1 ELSE 0 END, boot_index, id`,
      chunk,
    );
    for (const r of rows) {
      let l = out.get(r.instance_uuid);
      if (!l) out.set(r.instance_uuid, (l = []));
      l.push(r);
    }
  }
  return out;
}


/** The volumes a driver plugs for these BDMs: those connected (with connection_info) and named. */
export function volumeDevices(bdms: BdmRow[]): VolumeDevice[] {
  return bdms
    .filter((b) => b.destination_type === 'volume' && b.volume_id && b.connection_info && b.device_name)
    .map((b) => ({
      volume_id: b.volume_id!,
      device_name: devPath(b.device_name!),
      boot_index: b.boot_index,
      connection_info: json<ConnectionInfo>(b.connection_info, null as never),
    }));
}

/** What a compute host may change on a BDM. null clears (e.g. connection_info after a failed build). */
export interface BdmPatch {
  volume_id?: string | null;
  attachment_id?: string | null;
  device_name?: string | null;
  connection_info?: ConnectionInfo | null;
}

const PATCHABLE = ['volume_id', 'attachment_id', 'device_name', 'connection_info'] as const;

/** Updates a live BDM; NotFound-free: answers false when the BDM is gone (deleted meanwhile). */
export async function bdmUpdate(sql: Sql, bdmUuid: string, patch: unknown): Promise<boolean> {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw invalid('bdm_update: updates must be an object.');
  const sets: string[] = [];
  const params: SqlValue[] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (!(PATCHABLE as readonly string[]).includes(k)) throw invalid(`bdm_update: column '${k}' cannot be written by a compute host.`);
    if (k === 'connection_info') {
      if (v !== null && (typeof v !== 'object' || Array.isArray(v))) throw invalid('bdm_update: connection_info must be an object or null.');
      params.push(v === null ? null : JSON.stringify(v));
    } else {
      if (v !== null && typeof v !== 'string') throw invalid(`bdm_update: ${k} must be a string or null.`);
      params.push(v as string | null);
    }
    sets.push(`${k} = ?`);
  }
  if (sets.length === 0) return true;
  const r = await sql.run(`UPDATE block_device_mappings SET ${sets.join(', ')}, updated_at = ? WHERE uuid = ? AND deleted = 0`, [...params, nowIso(), bdmUuid]);
  return r.changes > 0;
}

/** Soft-deletes one BDM (a volume detached, or an attach undone). Idempotent. */
export async function bdmDestroy(sql: Sql, bdmUuid: string): Promise<void> {
  await sql.run('UPDATE block_device_mappings SET deleted = id, updated_at = ? WHERE uuid = ? AND deleted = 0', [nowIso(), bdmUuid]);
}

/** Soft-deletes every BDM of an instance (the instance is deleted). Idempotent. */
export async function softDeleteBdms(sql: Sql, instanceUuid: string): Promise<void> {
  await sql.run('UPDATE block_device_mappings SET deleted = id, updated_at = ? WHERE instance_uuid = ? AND deleted = 0', [nowIso(), instanceUuid]);
}
