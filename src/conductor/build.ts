/**
 * Building instances: schedule (host + alternates, first host claimed), record the host on the
 * instance, cast build_and_run_instance; and the reschedule path when a host fails the build.
 *
 * Failure outcomes, all leaving the instance in ERROR with task_state null, a fault (code 500)
 * whose message a user can act on and whose details hold the per-host reasons for admins, and
 * the action's conductor event finished with Error:
 * - NoValidHost: the scheduler's explanation ("3 of 3 hosts lack memory: ...").
 * - every attempt failed: what went wrong on each host tried, in order.
 */
import { addInstanceFault, finishActionEvent, getInstance, startActionEvent, updateInstance, type InstancePatch, type InstanceRow } from '../db/instances.js';
import { inList, json } from '../db/sql.js';
import { isNovaError, NovaError } from '../errors.js';
import type { Selection } from '../compute/rpcapi.js';
import { claim, release } from '../scheduler/claims.js';
import { flavorResources } from '../scheduler/host-state.js';
import type { FlavorSnapshot } from '../objects/flavor.js';
import type { ImageMeta } from '../virt/driver.js';
import { logger } from '../util/log.js';
import type { ConductorContext } from './context.js';
import { IMAGE_META_KEY, instancePayload, systemMetadata } from './payload.js';
import { groupSpec, schedulingSpec } from './request-spec.js';

const log = logger('conductor');
export const SCHEDULE_EVENT = 'conductor_schedule_and_build_instances';
const FAILURES_KEY = 'build_failures';
export const ZONE_FROM_HOST_KEY = 'availability_zone_from_host';
const BUILD_TASK_STATES = ['scheduling', 'block_device_mapping', 'networking', 'spawning', null];

interface Attempt {
  host: string;
  reason: string;
}

async function imageMeta(ctx: ConductorContext, ref: string | null): Promise<ImageMeta | null> {
  if (!ref) return null;
  try {
    return await ctx.images.get(ref);
  } catch (e) {
    log.warn(`image ${ref} metadata unavailable; building without it`, e);
    return null;
  }
}

/**
 * Puts an instance in ERROR with a fault; tolerant of the instance having been deleted. The
 * `message` (any user who sees the server reads it: no host names) is the fault message and the
 * event's details; `details` (per-host lines, for admins) is the fault's details and the event's
 * traceback.
 */
export async function failInstance(ctx: ConductorContext, uuid: string, requestId: string, event: string, message: string, details: string): Promise<void> {
  // One transaction: whoever sees ERROR also sees the fault. Not over a delete the user
  // asked for meanwhile (task_state 'deleting').
  await ctx.sql
    .tx(async (tx) => {
      await updateInstance(tx, uuid, { vm_state: 'error', task_state: null }, { expectTaskState: BUILD_TASK_STATES });
      await addInstanceFault(tx, uuid, { code: 500, message, details });
      await finishActionEvent(tx, { uuid, requestId, event, result: 'Error', details: message, traceback: details });
    })
    .catch((e) => {
      if (!(isNovaError(e) && (e.kind === 'NotFound' || e.kind === 'Conflict'))) throw e;
    });
}

/** The zone to record: the requested one, else the host's (remembered as such for reschedules). */
function zoneOf(row: InstanceRow, sel: Selection, sys: Record<string, string>): string | null {
  if (row.availability_zone && !sys[ZONE_FROM_HOST_KEY]) return row.availability_zone;
  if (!sel.availability_zone) return row.availability_zone;
  sys[ZONE_FROM_HOST_KEY] = '1';
  return sel.availability_zone;
}

/** A scheduling failure's per-host reasons (NoValidHost's details.hosts), one per line; undefined when it has none. */
export function perHostReasons(e: unknown): string | undefined {
  const hosts = isNovaError(e) ? (e.details.hosts as Record<string, string> | undefined) : undefined;
  return hosts && Object.keys(hosts).length ? Object.values(hosts).join('\n') : undefined;
}

/**
 * The columns that move an instance scheduled before (evacuate, unshelve) to sel: host, node,
 * launched_on and, as at build, for an instance that asked for no zone its new host's zone.
 */
export function movedTo(sel: Selection, sys: Record<string, string>): InstancePatch {
  return {
    host: sel.host,
    node: sel.node,
    launched_on: sel.host,
    ...(sys[ZONE_FROM_HOST_KEY] && sel.availability_zone ? { availability_zone: sel.availability_zone } : {}),
  };
}

/** Records the chosen host on the instance and casts the build to it; false if the instance went away. */
async function dispatch(ctx: ConductorContext, row: InstanceRow, sel: Selection, alternates: Selection[], requestId: string, sys: Record<string, string>): Promise<boolean> {
  let updated: InstanceRow;
  try {
    updated = await updateInstance(
      ctx.sql,
      row.uuid,
      {
        host: sel.host,
        node: sel.node,
        launched_on: sel.host,
        // As Nova: an instance that asked for no zone is in its host's zone from now on.
        availability_zone: zoneOf(row, sel, sys),
        vm_state: 'building',
        task_state: 'scheduling',
        system_metadata: JSON.stringify(sys),
      },
      { expectTaskState: BUILD_TASK_STATES, expectVmState: ['building'] },
    );
  } catch (e) {
    // Deleted (or otherwise moved on) while we scheduled: give the claim back.
    log.info(`instance ${row.uuid} changed while scheduling (${(e as Error).message}); releasing its claim`);
    await release(ctx.sql, row.uuid);
    ctx.hostStateChanged([sel.node_uuid]);
    return false;
  }
  await ctx.compute.buildAndRunInstance(sel.host, {
    instance: await instancePayload(ctx.sql, updated),
    request_id: requestId,
    node: sel.node,
    alternates,
  });
  return true;
}

/** build_instances: the instances are in BUILD/scheduling, recorded by the API with an action. */
export async function buildInstances(ctx: ConductorContext, uuids: string[], requestId: string): Promise<void> {
  const rows = await ctx.sql.all<InstanceRow>(`SELECT * FROM instances WHERE deleted = 0 AND uuid IN ${inList(uuids.length)}`, uuids);
  // Casts arrive at least once: an instance already given a host was dispatched by an earlier
  // delivery of this cast and is not scheduled again.
  const live = uuids.map((u) => rows.find((r) => r.uuid === u)).filter((r): r is InstanceRow => !!r && r.task_state === 'scheduling' && !r.host);
  if (live.length === 0) return;
  for (const r of live) await startActionEvent(ctx.sql, { uuid: r.uuid, requestId, event: SCHEDULE_EVENT });
  const image = await imageMeta(ctx, live[0].image_ref);
  let selections: Selection[][];
  try {
    selections = await ctx.scheduler.selectDestinations({
      spec: await schedulingSpec(ctx.sql, live[0], live.map((r) => r.uuid), { image }),
      num_alternates: Math.max(0, ctx.config.scheduler.maxAttempts - 1),
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // NoValidHost: the message is the summary for everyone, the per-host lines are for admins.
    const details = perHostReasons(e) ?? (e instanceof NovaError ? message : String((e as Error)?.stack ?? e));
    for (const r of live) await failInstance(ctx, r.uuid, requestId, SCHEDULE_EVENT, message, details);
    return;
  }
  for (let i = 0; i < live.length; i++) {
    const r = live[i];
    const [primary, ...alternates] = selections[i];
    const sys = systemMetadata(r);
    if (image) sys[IMAGE_META_KEY] = JSON.stringify(image);
    delete sys[FAILURES_KEY];
    if (await dispatch(ctx, r, primary, alternates, requestId, sys))
      await finishActionEvent(ctx.sql, { uuid: r.uuid, requestId, event: SCHEDULE_EVENT, result: 'Success' });
  }
}

/**
 * One more failed build on the node(s) of `host` that held the build's claim (all of the host's
 * nodes when the claim was already gone): BuildFailureWeigher steers new builds away from them.
 */
async function countFailedBuild(ctx: ConductorContext, host: string, nodes: string[]): Promise<void> {
  const [where, params] = nodes.length ? [`uuid IN ${inList(nodes.length)}`, nodes] : ['host = ?', [host]];
  await ctx.sql.run(`UPDATE compute_nodes SET failed_builds = failed_builds + 1 WHERE ${where} AND deleted = 0`, params);
  if (!nodes.length) ctx.hostStateChanged((await ctx.sql.all<{ uuid: string }>('SELECT uuid FROM compute_nodes WHERE host = ? AND deleted = 0', [host])).map((n) => n.uuid));
}

/**
 * A build finished on its host (the instance went ACTIVE from a build task state): the node's
 * failed-build count starts again from 0. Costs one indexed read when the count is already 0.
 */
export async function buildSucceeded(ctx: ConductorContext, inst: { host: string | null; node: string | null }): Promise<void> {
  if (!inst.node) return;
  const n = await ctx.sql.get<{ uuid: string }>('SELECT uuid FROM compute_nodes WHERE hypervisor_hostname = ? AND deleted = 0 AND failed_builds <> 0', [inst.node]);
  if (!n) return;
  await ctx.sql.run('UPDATE compute_nodes SET failed_builds = 0 WHERE uuid = ?', [n.uuid]);
  ctx.hostStateChanged([n.uuid]);
}

/** Whether an instance_update from a compute host is the end of a successful build. */
export function endsBuild(a: { updates?: Record<string, unknown>; expect_task_state?: (string | null)[] }): boolean {
  return a.updates?.vm_state === 'active' && !!a.expect_task_state?.includes('spawning');
}

/**
 * build_failed: the build on `host` failed with `reason` and the host cleaned up. Releases the
 * claim, then claims the alternates in order until one fits and casts the build there; after
 * config.scheduler.maxAttempts hosts (or when no alternate is left) sets ERROR with a fault
 * listing what went wrong on each host.
 */
export async function buildFailed(ctx: ConductorContext, a: { uuid: string; request_id: string; host: string; reason: string; alternates: Selection[] }): Promise<void> {
  const freed = await release(ctx.sql, a.uuid);
  await countFailedBuild(ctx, a.host, freed);
  ctx.hostStateChanged(freed);
  let row: InstanceRow;
  try {
    row = await getInstance(ctx.sql, a.uuid);
  } catch {
    return; // deleted meanwhile: nothing more to do
  }
  const sys = systemMetadata(row);
  const attempts = json<Attempt[]>(sys[FAILURES_KEY], []);
  attempts.push({ host: a.host, reason: a.reason });
  const skipped: Attempt[] = [];
  const flavor = json<FlavorSnapshot>(row.flavor, null as never);
  const alts = [...a.alternates];
  // The group's policy holds for alternates too (their claim re-checks it).
  const group = alts.length ? await groupSpec(ctx.sql, row) : null;
  while (attempts.length < ctx.config.scheduler.maxAttempts && alts.length) {
    const alt = alts.shift()!;
    const c = await claim(ctx.sql, { node_uuid: alt.node_uuid, consumer_uuid: a.uuid, resources: flavorResources(flavor), project_id: row.project_id, user_id: row.user_id, group });
    if (!c.ok) {
      skipped.push({ host: alt.host, reason: `no longer had room (${c.reason})` });
      continue;
    }
    sys[FAILURES_KEY] = JSON.stringify(attempts);
    log.info(`rescheduling ${a.uuid} from ${a.host} to ${alt.host}: ${a.reason}`);
    if (!(await dispatch(ctx, row, alt, alts, a.request_id, sys))) return;
    return;
  }
  const n = attempts.length;
  const lines = [...attempts.map((t) => `${t.host}: ${t.reason}`), ...skipped.map((t) => `${t.host} (alternate, not tried): ${t.reason}`)];
  const message =
    `Build of instance ${a.uuid} failed on ${n === 1 ? 'the only host tried' : `all ${n} hosts tried`}` +
    ` (which hosts, and why on each, is in the fault details for admins). Last error: ${a.reason}`;
  await failInstance(ctx, a.uuid, a.request_id, SCHEDULE_EVENT, message, lines.join('\n'));
}
