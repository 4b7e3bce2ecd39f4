/**
 * The volume side of deleting a server in the API without its compute host (Nova's local
 * delete: a server never scheduled, or whose host is down): every volume mapping of the
 * server is released (its attachment deleted, so the volume is available again, or deleted
 * when delete_on_termination) and the mappings are soft-deleted. The compute host's own
 * terminate path does the same after unplugging the volumes.
 */
import type { Sql } from '../../db/sql.js';
import type { VolumeClient } from '../../volume/client.js';
import { logger } from '../../util/log.js';
import { bdmsOf, deleteBdm } from './bdm-store.js';

const log = logger('compute-api');

/**
 * Releases the volumes of a deleted server. Best effort per volume: a failure is logged and the
 * others still go (the volume service's reconciliation finishes what is left). Idempotent.
 */
export async function releaseServerVolumes(sql: Sql, volumes: VolumeClient | undefined, instanceUuid: string): Promise<void> {
  for (const b of await bdmsOf(sql, instanceUuid)) {
    if (volumes && b.attachment_id)
      await volumes.deleteAttachment(b.attachment_id).catch((e) => log.warn(`deleting attachment ${b.attachment_id} of ${instanceUuid} failed`, e));
    if (volumes && b.volume_id && b.delete_on_termination)
      await volumes.delete(b.volume_id).catch((e) => log.warn(`deleting volume ${b.volume_id} of ${instanceUuid} (delete_on_termination) failed`, e));
    await deleteBdm(sql, b.uuid);
  }
}
