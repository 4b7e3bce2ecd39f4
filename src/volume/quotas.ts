/**
 * Block storage quotas per project (Cinder's volumes, gigabytes, snapshots and the ones we
 * only report). Overrides live in volume_quotas; -1 means unlimited. Exceeding one is Cinder's
 * 413 overLimit with its message.
 */
import type { Sql } from '../db/sql.js';
import { tooLarge } from '../errors.js';

export const QUOTA_DEFAULTS: Record<string, number> = {
  volumes: 10,
  gigabytes: 1000,
  snapshots: 10,
  per_volume_gigabytes: -1,
  backups: 10,
  backup_gigabytes: 1000,
  groups: 10,
};
export const QUOTA_RESOURCES = Object.keys(QUOTA_DEFAULTS);

/** The project's limits (defaults overlaid with its overrides). */
export async function quotaLimits(sql: Sql, projectId: string): Promise<Record<string, number>> {
  const rows = await sql.all<{ resource: string; hard_limit: number }>('SELECT resource, hard_limit FROM volume_quotas WHERE project_id = ?', [projectId]);
  const out = { ...QUOTA_DEFAULTS };
  for (const r of rows) if (r.resource in out) out[r.resource] = Number(r.hard_limit);
  return out;
}

/** What the project uses now: volumes, gigabytes (volumes and snapshots, as Cinder counts), snapshots. */
export async function quotaUsage(sql: Sql, projectId: string): Promise<Record<string, number>> {
  const v = await sql.get<{ n: number; gb: number | null }>('SELECT COUNT(*) AS n, SUM(size) AS gb FROM volumes WHERE project_id = ? AND deleted = 0', [projectId]);
  const s = await sql.get<{ n: number; gb: number | null }>(
    'SELECT COUNT(*) AS n, SUM(size) AS gb FROM volume_snapshots WHERE project_id = ? AND deleted = 0',
    [projectId],
  );
  const usage: Record<string, number> = Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, 0]));
  usage.volumes = Number(v?.n ?? 0);
  usage.snapshots = Number(s?.n ?? 0);
  usage.gigabytes = Number(v?.gb ?? 0) + Number(s?.gb ?? 0);
  return usage;
}

/**
 * Throws 413 (Cinder's words) when adding `volumes`/`snapshots` items of `gigabytes` GiB would
 * exceed the project's quota. Call inside the transaction that inserts the rows.
 */
export async function checkVolumeQuota(sql: Sql, projectId: string, add: { volumes?: number; snapshots?: number; gigabytes: number }): Promise<void> {
  const limits = await quotaLimits(sql, projectId);
  const usage = await quotaUsage(sql, projectId);
  const per = limits.per_volume_gigabytes;
  if ((add.volumes || add.snapshots) && per >= 0 && add.gigabytes > per)
    throw tooLarge(`Requested volume size ${add.gigabytes}G is larger than maximum allowed limit ${per}G.`);
  for (const res of ['volumes', 'snapshots'] as const) {
    const n = add[res] ?? 0;
    if (n && limits[res] >= 0 && usage[res] + n > limits[res])
      throw tooLarge(`Maximum number of ${res} allowed (${limits[res]}) exceeded for quota '${res}'.`);
  }
  if (add.gigabytes > 0 && limits.gigabytes >= 0 && usage.gigabytes + add.gigabytes > limits.gigabytes) {
    const what = add.snapshots ? 'snapshot' : 'volume';
    throw tooLarge(
      `Requested ${what} exceeds allowed gigabytes quota. Requested ${add.gigabytes}G, quota is ${limits.gigabytes}G and ${usage.gigabytes}G has been consumed.`,
    );
  }
}

/** Sets (or, with null, removes) the project's override of resource. */
export async function setQuota(sql: Sql, projectId: string, resource: string, limit: number): Promise<void> {
  await sql.run('DELETE FROM volume_quotas WHERE project_id = ? AND resource = ?', [projectId, resource]);
  await sql.run('INSERT INTO volume_quotas (project_id, resource, hard_limit) VALUES (?, ?, ?)', [projectId, resource, limit]);
}
