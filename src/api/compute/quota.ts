/**
 * The quota engine of the Compute API: limits per project (project override, else the
 * `default` quota class, else the built-in default), optionally narrowed by per-user overrides,
 * usage counted from live rows, and a check that raises Nova's 403 "Quota exceeded" message.
 * Enforcement happens inside the same transaction that records the new resources, so
 * concurrent requests cannot overshoot.
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

/** Resources counted per user rather than per project. */
export const USER_COUNTED = new Set(['key_pairs']);

/** Limits of a quota class: built-in defaults overridden by the class's rows (-1 unlimited). */
export async function quotaClassLimits(sql: Sql, className = 'default'): Promise<Record<string, number>> {
  const out = { ...QUOTA_DEFAULTS };
  for (const r of await sql.all<{ resource: string; hard_limit: number }>(
    'SELECT resource, hard_limit FROM quota_classes WHERE class_name = ?',
    [className],
  ))
    if (r.resource in out) out[r.resource] = Number(r.hard_limit);
  return out;
}

/**
 * Effective limits of a project (-1 means unlimited). With userId, the user's own overrides
 * replace the project's values for that user, as Nova's per-user quotas do.
 */
export async function quotaLimits(sql: Sql, projectId: string, userId?: string): Promise<Record<string, number>> {
  const out = await quotaClassLimits(sql);
  for (const r of await sql.all<{ resource: string; hard_limit: number }>(
    "SELECT resource, hard_limit FROM quotas WHERE project_id = ? AND user_id = ''",
    [projectId],
  ))
    if (r.resource in out) out[r.resource] = Number(r.hard_limit);
  if (userId) {
    for (const r of await sql.all<{ resource: string; hard_limit: number }>(
      'SELECT resource, hard_limit FROM quotas WHERE project_id = ? AND user_id = ?',
      [projectId, userId],
    ))
      if (r.resource in out) out[r.resource] = Number(r.hard_limit);
  }
  return out;
}

/**
 * Usage of the counted resources, from live instances, key pairs and server groups. Without
 * userId: the project's instances, cores, ram and server groups. With userId: that user's
 * instances, cores, ram and server groups in the project, and their key pairs (key pairs are
 * always counted per user).
 */
export async function quotaUsage(sql: Sql, projectId: string, userId?: string): Promise<Record<string, number>> {
  const i = userId
    ? await sql.get<{ n: number; cores: number | null; ram: number | null }>(
        'SELECT COUNT(*) AS n, SUM(vcpus) AS cores, SUM(memory_mb) AS ram FROM instances WHERE project_id = ? AND user_id = ? AND deleted = 0',
        [projectId, userId],
      )
    : await sql.get<{ n: number; cores: number | null; ram: number | null }>(
        'SELECT COUNT(*) AS n, SUM(vcpus) AS cores, SUM(memory_mb) AS ram FROM instances WHERE project_id = ? AND deleted = 0',
        [projectId],
      );
  const out: Record<string, number> = { instances: Number(i?.n ?? 0), cores: Number(i?.cores ?? 0), ram: Number(i?.ram ?? 0) };
  if (userId) out.key_pairs = await keyPairCount(sql, userId);
  out.server_groups = await serverGroupCount(sql, projectId, userId);
  return out;
}

/** Live server groups of a project (of one user in it, with userId), as Nova counts them. */
export async function serverGroupCount(sql: Sql, projectId: string, userId?: string): Promise<number> {
  const g = userId
    ? await sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM server_groups WHERE project_id = ? AND user_id = ? AND deleted = 0', [projectId, userId])
    : await sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM server_groups WHERE project_id = ? AND deleted = 0', [projectId]);
  return Number(g?.n ?? 0);
}

export async function keyPairCount(sql: Sql, userId: string): Promise<number> {
  const k = await sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM key_pairs WHERE user_id = ?', [userId]);
  return Number(k?.n ?? 0);
}

function firstOver(delta: Record<string, number>, limits: Record<string, number>, used: Record<string, number>): [string, number][] {
  return Object.entries(delta).filter(([res, n]) => n > 0 && limits[res] !== undefined && limits[res] >= 0 && (used[res] ?? 0) + n > limits[res]);
}

/**
 * Raises OverQuota when adding `delta` to the project's usage would pass a limit (and, with
 * userId, when it would pass the user's own limits). Call inside the transaction that creates
 * the resources. Message as Nova's:
 * "Quota exceeded for instances: Requested 5, but already used 8 of 10 instances".
 */
export async function checkQuota(sql: Sql, projectId: string, delta: Record<string, number>, userId?: string): Promise<void> {
  const projectDelta = Object.fromEntries(Object.entries(delta).filter(([r]) => !USER_COUNTED.has(r)));
  const checks: [Record<string, number>, Record<string, number>, Record<string, number>][] = [
    [projectDelta, await quotaLimits(sql, projectId), await quotaUsage(sql, projectId)],
  ];
  if (userId) checks.push([delta, await quotaLimits(sql, projectId, userId), await quotaUsage(sql, projectId, userId)]);
  for (const [d, limits, used] of checks) {
    const over = firstOver(d, limits, used);
    if (over.length === 0) continue;
    const [res, n] = over[0];
    const names = over.map(([r]) => r).join(', ');
    throw overQuota(`Quota exceeded for ${names}: Requested ${n}, but already used ${used[res] ?? 0} of ${limits[res]} ${res}`);
  }
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
