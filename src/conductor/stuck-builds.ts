/**
 * Nothing stays in BUILD: instances in vm_state building (task_state scheduling,
 * block_device_mapping, networking, spawning or none) that made no progress (no write to
 * their row) for config.compute.buildTimeoutSec (Nova's instance_build_timeout) go to ERROR
 * with a fault "Build of instance X timed out after N s (last task state: T)" and their
 * allocations are released. A lost cast (broker restart), a conductor or compute host that
 * died mid-build, or a hypervisor that hangs all end here.
 *
 * Safe with several conductors: each instance is taken by a compare-and-set UPDATE on the
 * row as it was read (vm_state, task_state and updated_at), so exactly one conductor reaps it
 * and any progress meanwhile (a host marking it spawning or active) wins over the reaper.
 * A compute host that finishes the spawn after the reaper finds the instance in ERROR (its
 * final update is refused); the user deletes the server, which removes the guest.
 */
import type { Sql } from '../db/sql.js';
import { addInstanceFault } from '../db/instances.js';
import { release } from '../scheduler/claims.js';
import { logger } from '../util/log.js';
import { nowIso } from '../util/time.js';
import type { ConductorContext } from './context.js';

const log = logger('conductor');
/** Instances examined per pass (the next pass takes the rest). */
const BATCH = 200;
const BUILD_TASKS = ['scheduling', 'block_device_mapping', 'networking', 'spawning'];

interface StuckRow {
  uuid: string;
  task_state: string | null;
  host: string | null;
  updated_at: string | null;
  created_at: string;
}

/** Puts one stuck build in ERROR unless it moved meanwhile; true when this caller reaped it. */
async function reapOne(sql: Sql, r: StuckRow, timeoutSec: number): Promise<boolean> {
  return sql.tx(async (tx) => {
    const res = await tx.run(
      `UPDATE instances SET vm_state = 'error', task_state = NULL, updated_at = ?
        WHERE uuid = ? AND deleted = 0 AND vm_state = 'building'
          AND ${r.task_state === null ? 'task_state IS NULL' : 'task_state = ?'}
          AND ${r.updated_at === null ? 'updated_at IS NULL' : 'updated_at = ?'}`,
      [nowIso(), r.uuid, ...(r.task_state === null ? [] : [r.task_state]), ...(r.updated_at === null ? [] : [r.updated_at])],
    );
    if (res.changes !== 1) return false;
    const last = r.task_state ?? 'none';
    await addInstanceFault(tx, r.uuid, {
      code: 500,
      message: `Build of instance ${r.uuid} timed out after ${timeoutSec} s (last task state: ${last}). Delete the server and create it again.`,
      details: `No progress since ${r.updated_at ?? r.created_at}${r.host ? ` on host ${r.host}` : ' (no host chosen yet)'}; build_timeout is ${timeoutSec} s.`,
      host: r.host,
    });
    return true;
  });
}

/** One pass: reaps every build without progress for timeoutSec; answers the uuids reaped here. */
export async function reapStuckBuilds(ctx: Pick<ConductorContext, 'sql' | 'hostStateChanged'>, timeoutSec: number, now = Date.now()): Promise<string[]> {
  if (!(timeoutSec > 0)) return [];
  const cutoff = new Date(now - timeoutSec * 1000).toISOString();
  const rows = await ctx.sql.all<StuckRow>(
    `SELECT uuid, task_state, host, updated_at, created_at FROM instances
      WHERE deleted = 0 AND vm_state = 'building' AND (task_state IS NULL OR task_state IN (?, ?, ?, ?))
        AND COALESCE(updated_at, created_at) < ?
      ORDER BY COALESCE(updated_at, created_at) LIMIT ${BATCH}`,
    [...BUILD_TASKS, cutoff],
  );
  const reaped: string[] = [];
  for (const r of rows) {
    try {
      if (!(await reapOne(ctx.sql, r, timeoutSec))) continue;
      ctx.hostStateChanged(await release(ctx.sql, r.uuid));
      reaped.push(r.uuid);
      log.warn(`build of instance ${r.uuid} timed out after ${timeoutSec} s (last task state: ${r.task_state ?? 'none'}); set to ERROR`);
    } catch (e) {
      log.warn(`reaping the stuck build of ${r.uuid} failed`, e);
    }
  }
  return reaped;
}

/**
 * Runs reapStuckBuilds on one timer (a quarter of the timeout, between 0.2 s and 60 s), one
 * pass at a time; timeoutSec 0 turns it off. stop() waits for a pass in progress.
 */
export function startBuildReaper(ctx: Pick<ConductorContext, 'sql' | 'hostStateChanged'>, timeoutSec: number): { stop(): Promise<void> } {
  if (!(timeoutSec > 0)) return { stop: async () => undefined };
  const every = Math.min(60_000, Math.max(200, (timeoutSec * 1000) / 4));
  let stopped = false;
  let running: Promise<unknown> | null = null;
  let timer: NodeJS.Timeout | null = null;
  const tick = () => {
    if (stopped) return;
    running = reapStuckBuilds(ctx, timeoutSec)
      .catch((e) => log.warn('stuck build reaper failed', e))
      .finally(() => {
        running = null;
        if (!stopped) (timer = setTimeout(tick, every)).unref();
      });
  };
  (timer = setTimeout(tick, every)).unref();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
