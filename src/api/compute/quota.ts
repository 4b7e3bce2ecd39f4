/**
 * The quota engine of the Compute API: limits per project (project override, else the
 * `default` quota class, else the built-in default), usage counted from live rows, and a check
 * that raises Nova's 403 "Quota exceeded" message. Enforcement happens inside the same
 * transaction that records the new resources, so concurrent requests cannot overshoot.
 */
import { overQuota } from '../../errors.js';
import type { Sql } from '../../db/sql.js';

export const QUOTA_DEFAULTS: Record<string, number> = {
  instances: 10,
  cores: 20,
  ram: 51200,
  key_pairs: 100,
  metadata_items: 128,
  injected_files: 5,
  injected_file_content_bytes: 10240,
  injected_file_path_bytes: 255,
  server_groups: 10,
  server_group_members: 10,
};

/** Effective limits of a project (-1 means unlimited). */
export async function quotaLimits(sql: Sql, projectId: string): Promise<Record<string, number>> {
  const out = { ...QUOTA_DEFAULTS };
  for (const r of await sql.all<{ resource: string; hard_limit: number }>(
    "SELECT resource, hard_limit FROM quota_classes WHERE class_name = 'default'",
  ))
    out[r.resource] = r.hard_limit;
  for (const r of await sql.all<{ resource: string; hard_limit: number }>(
    "SELECT resource, hard_limit FROM quotas WHERE project_id = ? AND user_id = ''",
    [projectId],
  ))
    out[r.resource] = r.hard_limit;
  return out;
}

/** Usage of the counted resources of a project, from live instances and key pairs. */
export async function quotaUsage(sql: Sql, projectId: string): Promise<Record<string, number>> {
  const i = await sql.get<{ n: number; cores: number | null; ram: number | null }>(
    'SELECT COUNT(*) AS n, SUM(vcpus) AS cores, SUM(memory_mb) AS ram FROM instances WHERE project_id = ? AND deleted = 0',
    [projectId],
  );
  return { instances: Number(i?.n ?? 0), cores: Number(i?.cores ?? 0), ram: Number(i?.ram ?? 0) };
}

/**
 * Raises OverQuota when adding `delta` to the project's usage would pass a limit. Call inside
 * the transaction that creates the resources. Message as Nova's:
 * "Quota exceeded for instances: Requested 5, but already used 8 of 10 instances".
 */
export async function checkQuota(sql: Sql, projectId: string, delta: Record<string, number>): Promise<void> {
  const limits = await quotaLimits(sql, projectId);
  const used = await quotaUsage(sql, projectId);
  const over = Object.entries(delta).filter(([res, n]) => n > 0 && limits[res] !== undefined && limits[res] >= 0 && (used[res] ?? 0) + n > limits[res]);
  if (over.length === 0) return;
  const [res, n] = over[0];
  const names = over.map(([r]) => r).join(', ');
  throw overQuota(`Quota exceeded for ${names}: Requested ${n}, but already used ${used[res] ?? 0} of ${limits[res]} ${res}`);
}

/** The largest count in [min, max] that fits the project's quota (for min_count/max_count). */
export async function maxAllowedCount(
  sql: Sql,
  projectId: string,
  per: { instances: number; cores: number; ram: number },
  min: number,
  max: number,
): Promise<number> {
  const limits = await quotaLimits(sql, projectId);
  const used = await quotaUsage(sql, projectId);
  let allowed = max;
  for (const res of ['instances', 'cores', 'ram'] as const) {
    const lim = limits[res];
    if (lim === undefined || lim < 0 || per[res] === 0) continue;
    allowed = Math.min(allowed, Math.floor((lim - (used[res] ?? 0)) / per[res]));
  }
  if (allowed < min) await checkQuota(sql, projectId, { instances: min * per.instances, cores: min * per.cores, ram: min * per.ram });
  return Math.max(min, Math.min(allowed, max));
}
