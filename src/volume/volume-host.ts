/**
 * Which storage host gets a new volume: the first live, enabled `cinder-volume` service (the
 * volume managers register themselves in the `services` table and heartbeat there).
 */
import type { Sql } from '../db/sql.js';

/** Seconds without a heartbeat after which a volume service counts as down (Cinder's service_down_time). */
export const VOLUME_SERVICE_DOWN_TIME_SEC = 60;

export const NO_VOLUME_HOST =
  'No volume service is up: no cinder-volume service has reported in the last 60 seconds, so the volume could not be created. Start the volume service (it runs inside nova-ts) and create the volume again.';

/** The host of a live cinder-volume service, or null when none is up. */
export async function pickVolumeHost(sql: Sql, now = Date.now()): Promise<string | null> {
  const rows = await sql.all<{ host: string; disabled: number; forced_down: number; last_seen_up: string | null }>(
    `SELECT host, disabled, forced_down, last_seen_up FROM services WHERE "binary" = 'cinder-volume' AND deleted = 0 ORDER BY id`,
  );
  const up = rows.find(
    (r) => !r.disabled && !r.forced_down && r.last_seen_up !== null && now - Date.parse(r.last_seen_up) <= VOLUME_SERVICE_DOWN_TIME_SEC * 1000,
  );
  return up?.host ?? null;
}
