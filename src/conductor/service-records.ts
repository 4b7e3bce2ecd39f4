/**
 * Rows of the `services` table (what os-services lists): one per (host, binary). Heartbeats
 * bump last_seen_up and report_count; a service that has no row yet gets one.
 */
import type { Sql } from '../db/sql.js';
import { uuid } from '../util/ids.js';
import { nowIso } from '../util/time.js';

export interface ServiceState {
  id: number;
  disabled: boolean;
  forced_down: boolean;
}

const TOPICS: Record<string, string> = {
  'nova-compute': 'compute',
  'nova-conductor': 'conductor',
  'nova-scheduler': 'scheduler',
};

/** Records a heartbeat of (host, binary), creating the row if missing. Idempotent per beat. */
export async function serviceHeartbeat(sql: Sql, host: string, binary: string): Promise<ServiceState> {
  const now = nowIso();
  const r = await sql.run(
    'UPDATE services SET last_seen_up = ?, report_count = report_count + 1, updated_at = ? WHERE host = ? AND "binary" = ? AND deleted = 0',
    [now, now, host, binary],
  );
  if (r.changes === 0) {
    // Two first heartbeats may race: UNIQUE (host, binary, deleted) keeps one row.
    await sql.run(
      `INSERT INTO services (uuid, host, "binary", topic, report_count, last_seen_up, created_at, updated_at)
       VALUES (?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [uuid(), host, binary, TOPICS[binary] ?? binary, now, now, now],
    );
  }
  const row = await sql.get<{ id: number; disabled: number; forced_down: number }>(
    'SELECT id, disabled, forced_down FROM services WHERE host = ? AND "binary" = ? AND deleted = 0',
    [host, binary],
  );
  return { id: Number(row!.id), disabled: !!row!.disabled, forced_down: !!row!.forced_down };
}

/** Heartbeats every intervalSec (first one now); returns a stop function. */
export async function keepServiceAlive(sql: Sql, host: string, binary: string, intervalSec: number, onError: (e: unknown) => void): Promise<() => void> {
  await serviceHeartbeat(sql, host, binary);
  const t = setInterval(() => void serviceHeartbeat(sql, host, binary).catch(onError), Math.max(0.05, intervalSec) * 1000);
  t.unref();
  return () => clearInterval(t);
}
