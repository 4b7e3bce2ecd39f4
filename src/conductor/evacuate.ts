/**
 * Evacuate, DB side (Nova's conductor rebuild_instance with recreate=True). Protocol:
 *
 * 1. API (src/api/compute/server-actions-evacuate.ts): source compute service down, instance
 *    ACTIVE/STOPPED/ERROR; task_state rebuilding, a `migrations` row (migration_type
 *    'evacuation', status 'accepted', source_compute/node = the instance's, dest_compute = the
 *    requested host or null), action 'evacuate'; casts evacuate_instance.
 * 2. Conductor (evacuateInstance): the instance's allocation on the source node moves to the
 *    migration (consumer = migration uuid); the scheduler picks and claims a new host for the
 *    instance, the source host excluded (a requested host goes through the filters; with force
 *    only its room is claimed, as Nova's claim_resources_on_destination). The instance is
 *    recorded on the destination (host/node), the migration gets its destination (status
 *    'pre-migrating'), compute evacuate_instance is cast there.
 *    NoValidHost: allocation back to the instance, migration 'error', the instance in ERROR
 *    with a fault saying why and the event in Error (as Nova's rebuild_instance).
 * 3. Destination (src/compute/evacuate.ts): ports re-bound, volumes re-connected, guest
 *    spawned; then `evacuated`: vm_state active (stopped when it was stopped), task_state
 *    null, migration 'done', the source node's allocation (held by the migration) released.
 *    On failure `evacuation_failed`: the destination's allocation released, the instance back
 *    on the source node with its allocation there, ERROR with a fault, migration 'failed' (so
 *    an admin can evacuate it again while the source stays down).
 * 4. Source host coming back (src/compute/evacuated.ts): `evacuations_from` lists migrations
 *    away from it (accepted, pre-migrating, done); it destroys the guests of instances no
 *    longer on it and `evacuation_cleaned` marks done ones 'completed'.
 */
import { addInstanceFault, finishActionEvent, getInstance, startActionEvent, updateInstance, type InstanceRow } from '../db/instances.js';
import { inList } from '../db/sql.js';
import { isNovaError, noValidHost } from '../errors.js';
import type { Selection } from '../compute/rpcapi.js';
import { claim, moveAllocations, release } from '../scheduler/claims.js';
import { flavorResources } from '../scheduler/host-state.js';
import { json } from '../db/sql.js';
import type { FlavorSnapshot } from '../objects/flavor.js';
import { logger } from '../util/log.js';
import { nowIso } from '../util/time.js';
import type { InstancePayload } from '../virt/driver.js';
import { movedTo, perHostReasons, ZONE_FROM_HOST_KEY } from './build.js';
import type { ConductorContext } from './context.js';
import { imageMetaOf, instancePayload, systemMetadata } from './payload.js';
import { groupSpec, schedulingSpec } from './request-spec.js';
import { migrationGet } from './resize.js';
import type { MigrationInfo } from './rpcapi.js';

const log = logger('conductor');
export const EVACUATE_EVENT = 'rebuild_server';
/** Task states of an evacuation in progress (the API's, then the destination's steps). */
export const EVACUATING_TASKS = ['rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning'];
/** Evacuation migrations whose source host still has to remove its guest (Nova's list). */
const CLEANUP_STATES = ['accepted', 'pre-migrating', 'done'];

async function setMigration(ctx: ConductorContext, uuid: string, fields: Record<string, string | null>): Promise<void> {
  const cols = Object.keys(fields);
  await ctx.sql.run(`UPDATE migrations SET ${cols.map((c) => `${c} = ?`).join(', ')}, updated_at = ? WHERE uuid = ?`, [...cols.map((c) => fields[c]), nowIso(), uuid]);
}

/** ERROR with a fault and the conductor event in Error; tolerant of the instance having moved on or gone. */
async function failEvacuation(ctx: ConductorContext, uuid: string, requestId: string, message: string, details: string, patch: Record<string, unknown> = {}): Promise<void> {
  await ctx.sql
    .tx(async (tx) => {
      await updateInstance(tx, uuid, { vm_state: 'error', task_state: null, ...patch }, { expectTaskState: EVACUATING_TASKS });
      await addInstanceFault(tx, uuid, { code: 500, message, details });
      await finishActionEvent(tx, { uuid, requestId, event: EVACUATE_EVENT, result: 'Error', details: message, traceback: details });
    })
    .catch((e) => {
      if (!(isNovaError(e) && (e.kind === 'NotFound' || e.kind === 'Conflict'))) throw e;
    });
}

/** With force: the requested host's first node, claimed without the filters (its room still checked). */
async function forcedSelection(ctx: ConductorContext, row: InstanceRow, host: string): Promise<Selection> {
  const node = await ctx.sql.get<{ uuid: string; hypervisor_hostname: string }>(
    'SELECT uuid, hypervisor_hostname FROM compute_nodes WHERE host = ? AND deleted = 0 ORDER BY id LIMIT 1',
    [host],
  );
  if (!node) throw noValidHost(`No valid host was found. Compute host ${host} has no compute node.`);
  const flavor = json<FlavorSnapshot>(row.flavor, null as never);
  const c = await claim(ctx.sql, {
    node_uuid: node.uuid,
    consumer_uuid: row.uuid,
    resources: flavorResources(flavor),
    project_id: row.project_id,
    user_id: row.user_id,
    group: await groupSpec(ctx.sql, row),
  });
  if (!c.ok) throw noValidHost(`No valid host was found. ${c.reason}`);
  ctx.hostStateChanged([node.uuid]);
  return { host, node: node.hypervisor_hostname, node_uuid: node.uuid };
}

export async function evacuateInstance(
  ctx: ConductorContext,
  a: { instance_uuid: string; migration_uuid: string; request_id: string; host: string | null; force: boolean; admin_password: string | null },
): Promise<void> {
  const { sql } = ctx;
  const uuid = a.instance_uuid;
  const row = await getInstance(sql, uuid).catch(() => null);
  const m = await migrationGet(ctx, a.migration_uuid);
  // A repeated delivery, or the instance moved on (deleted, or its task cleared meanwhile).
  if (!row || m.status !== 'accepted' || !EVACUATING_TASKS.includes(row.task_state ?? '')) {
    if (m.status === 'accepted') await setMigration(ctx, m.uuid, { status: 'error' });
    return;
  }
  await startActionEvent(sql, { uuid, requestId: a.request_id, event: EVACUATE_EVENT });
  const source = row.host;
  ctx.hostStateChanged(await moveAllocations(sql, uuid, m.uuid));
  const undo = async (message: string, details: string) => {
    ctx.hostStateChanged(await release(sql, uuid));
    ctx.hostStateChanged(await moveAllocations(sql, m.uuid, uuid));
    await setMigration(ctx, m.uuid, { status: 'error' });
    await failEvacuation(ctx, uuid, a.request_id, message, details);
  };
  let sel: Selection;
  try {
    if (a.host && a.force) sel = await forcedSelection(ctx, row, a.host);
    else {
      const spec = await schedulingSpec(sql, row, [uuid], { image: imageMetaOf(row) });
      // Where it was forced or asked to go at boot no longer matters; the source is out.
      spec.requested_host = a.host;
      spec.requested_node = null;
      spec.ignore_hosts = source ? [source] : [];
      if (systemMetadata(row)[ZONE_FROM_HOST_KEY]) spec.availability_zone = null;
      [[sel]] = await ctx.scheduler.selectDestinations({ spec, num_alternates: 0 });
    }
  } catch (e) {
    const message = `Evacuation of instance ${uuid} failed: ${(e as Error).message}`;
    return undo(message, perHostReasons(e) ?? (e as Error).message);
  }
  const sys = systemMetadata(row);
  let updated: InstanceRow;
  try {
    updated = await updateInstance(sql, uuid, movedTo(sel, sys), { expectTaskState: EVACUATING_TASKS });
  } catch (e) {
    log.info(`instance ${uuid} changed while its evacuation was scheduled (${(e as Error).message}); releasing its claim`);
    ctx.hostStateChanged(await release(sql, uuid, sel.node_uuid));
    ctx.hostStateChanged(await moveAllocations(sql, m.uuid, uuid));
    await setMigration(ctx, m.uuid, { status: 'error' });
    return;
  }
  await setMigration(ctx, m.uuid, { dest_compute: sel.host, dest_node: sel.node, dest_host: sel.host, status: 'pre-migrating' });
  await finishActionEvent(sql, { uuid, requestId: a.request_id, event: EVACUATE_EVENT, result: 'Success' });
  await ctx.compute.evacuateInstance(sel.host, {
    instance: await instancePayload(sql, updated),
    request_id: a.request_id,
    node: sel.node,
    migration_uuid: m.uuid,
    admin_password: a.admin_password,
  });
}

/** The guest runs on the destination: settle the instance, finish the migration, free the source. */
export async function evacuated(ctx: ConductorContext, a: { instance_uuid: string; migration_uuid: string; host: string; node: string; power_state: number }): Promise<InstancePayload> {
  const updated = await updateInstance(
    ctx.sql,
    a.instance_uuid,
    {
      host: a.host,
      node: a.node,
      launched_on: a.host,
      vm_state: a.power_state === 4 ? 'stopped' : 'active',
      task_state: null,
      power_state: a.power_state,
      launched_at: nowIso(),
    },
    { expectTaskState: EVACUATING_TASKS },
  );
  await setMigration(ctx, a.migration_uuid, { status: 'done' });
  ctx.hostStateChanged(await release(ctx.sql, a.migration_uuid));
  return instancePayload(ctx.sql, updated);
}

/** The destination could not run the guest (and removed what it made). */
export async function evacuationFailed(ctx: ConductorContext, a: { instance_uuid: string; migration_uuid: string; host: string; reason: string; request_id: string }): Promise<void> {
  const m = await migrationGet(ctx, a.migration_uuid);
  const row = await getInstance(ctx.sql, a.instance_uuid).catch(() => null);
  // Only while the instance is still this evacuation's (not deleted, not moved on).
  if (!row || !EVACUATING_TASKS.includes(row.task_state ?? '') || row.host !== a.host) {
    if (m.status === 'pre-migrating') await setMigration(ctx, m.uuid, { status: 'failed' });
    return;
  }
  ctx.hostStateChanged(await release(ctx.sql, a.instance_uuid));
  ctx.hostStateChanged(await moveAllocations(ctx.sql, m.uuid, a.instance_uuid));
  await setMigration(ctx, m.uuid, { status: 'failed' });
  const message = `Evacuation of instance ${a.instance_uuid} failed on its new host: ${a.reason}`;
  await failEvacuation(ctx, a.instance_uuid, a.request_id, message, `${a.host}: ${a.reason}`, {
    host: m.source_compute,
    node: m.source_node,
    launched_on: m.source_compute,
  });
}

export interface Evacuation {
  migration: MigrationInfo;
  /** The instance as it is now (null when deleted). */
  instance: InstancePayload | null;
}

/** Evacuations away from host that its compute service must clean up, oldest first. */
export async function evacuationsFrom(ctx: ConductorContext, host: string): Promise<Evacuation[]> {
  const ms = await ctx.sql.all<MigrationInfo>(
    `SELECT uuid, instance_uuid, status, source_compute, source_node, dest_compute, dest_node FROM migrations
      WHERE migration_type = 'evacuation' AND source_compute = ? AND status IN ${inList(CLEANUP_STATES.length)} ORDER BY id`,
    [host, ...CLEANUP_STATES],
  );
  const out: Evacuation[] = [];
  for (const m of ms) {
    const row = await getInstance(ctx.sql, m.instance_uuid).catch(() => null);
    out.push({ migration: m, instance: row ? await instancePayload(ctx.sql, row) : null });
  }
  return out;
}

/** The source removed the guest of a finished evacuation: migration 'completed'. Idempotent. */
export async function evacuationCleaned(ctx: ConductorContext, migrationUuid: string): Promise<void> {
  await ctx.sql.run("UPDATE migrations SET status = 'completed', updated_at = ? WHERE uuid = ? AND migration_type = 'evacuation' AND status = 'done'", [
    nowIso(),
    migrationUuid,
  ]);
}
