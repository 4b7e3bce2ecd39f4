/**
 * Read side of the `services` table for the Compute API (os-services, os-hypervisors,
 * os-availability-zone): rows, liveness (up/down) and the availability zone of each host.
 * The rows are written by the services themselves (heartbeats in last_seen_up).
 */
import { DEFAULT_SERVICE_DOWN_TIME_SEC, type Config } from '../../config.js';
import type { Sql, SqlValue } from '../../db/sql.js';

export interface ServiceRow {
  id: number;
  uuid: string;
  host: string;
  binary: string;
  topic: string | null;
  disabled: number;
  disabled_reason: string | null;
  forced_down: number;
  last_seen_up: string | null;
  created_at: string;
  updated_at: string | null;
}

/** Seconds without a heartbeat after which a service counts as down (Nova's service_down_time). */
export const DEFAULT_SERVICE_DOWN_TIME = DEFAULT_SERVICE_DOWN_TIME_SEC;

export function serviceDownTime(config: Config): number {
  return config.serviceDownTimeSec ?? DEFAULT_SERVICE_DOWN_TIME;
}

/** Nova's liveness rule: not forced down and a heartbeat within downTimeSec. */
export function isServiceUp(row: ServiceRow, downTimeSec: number, now = Date.now()): boolean {
  if (row.forced_down) return false;
  const seen = row.last_seen_up ?? row.updated_at ?? row.created_at;
  if (!seen) return false;
  return now - Date.parse(seen) <= downTimeSec * 1000;
}

/** Nova's os-services time format: `2012-10-29T13:42:02.000000` (UTC, microseconds, no zone). */
export function novaDbTime(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

export const SERVICE_COLUMNS = 'id, uuid, host, "binary" AS "binary", topic, disabled, disabled_reason, forced_down, last_seen_up, created_at, updated_at';

/**
 * Live (not deleted) Nova services (binaries nova-*, not the block storage service's
 * cinder-volume rows that share the table), optionally filtered by host and binary, ordered by id.
 */
export async function listServiceRows(sql: Sql, filter: { host?: string; binary?: string } = {}): Promise<ServiceRow[]> {
  const where = ['deleted = 0', `"binary" LIKE 'nova-%'`];
  const params: SqlValue[] = [];
  if (filter.host !== undefined) {
    where.push('host = ?');
    params.push(filter.host);
  }
  if (filter.binary !== undefined) {
    where.push('"binary" = ?');
    params.push(filter.binary);
  }
  return sql.all<ServiceRow>(`SELECT ${SERVICE_COLUMNS} FROM services WHERE ${where.join(' AND ')} ORDER BY id`, params);
}

export const INTERNAL_ZONE = 'internal';

/** Availability zone of each host that sits in an aggregate with `availability_zone` metadata. */
export async function hostZones(sql: Sql): Promise<Map<string, string>> {
  const rows = await sql.all<{ host: string; value: string }>(
    `SELECT h.host AS host, m.value AS value FROM aggregate_hosts h
       JOIN aggregate_metadata m ON m.aggregate_id = h.aggregate_id AND m.key = 'availability_zone'
       JOIN aggregates a ON a.id = h.aggregate_id AND a.deleted = 0
     ORDER BY a.id`,
  );
  const out = new Map<string, string>();
  for (const r of rows) {
    const prev = out.get(r.host);
    // A host in several zoned aggregates shows them joined, as Nova does.
    out.set(r.host, prev && prev !== r.value ? `${prev},${r.value}` : r.value);
  }
  return out;
}

/** The zone Nova reports for a service: compute hosts their AZ (default zone), others 'internal'. */
export function zoneOf(row: ServiceRow, zones: Map<string, string>, defaultZone: string): string {
  if (row.binary !== 'nova-compute') return INTERNAL_ZONE;
  return zones.get(row.host) ?? defaultZone;
}
