/**
 * Resize, DB side. Protocol (the API does the first step; see manager.ts for the full contract):
 *
 * 1. API: records a `migrations` row (uuid, instance_uuid, migration_type 'resize', source_compute
 *    and source_node = instance host/node, old/new_flavor_id, status 'pre-migrating'), sets the
 *    instance task_state 'resize_prep', casts conductor resize_instance.
 * 2. Conductor (resizeInstance): moves the instance's allocation to consumer = migration uuid,
 *    asks the scheduler for the new flavor (consumer = instance uuid, so both count while the
 *    resize is unconfirmed; the same host is allowed), records the destination on the
 *    migration (status 'migrating') and new_flavor on the instance, casts compute
 *    resize_instance to the source host with dest_host/dest_node. On NoValidHost: allocation
 *    moved back, migration 'error', task_state null, fault + action event Error; the instance
 *    keeps running unchanged.
 * 3. Same host: the source resizes the guest. Across hosts: the source powers its guest off
 *    (kept for a revert) and casts finish_resize to the destination, which starts the guest
 *    with the new flavor. Then resize_finished: flavor <- new, old_flavor <- old, host/node <-
 *    destination, vm_state resized (VERIFY_RESIZE), migration 'finished'.
 * 4. Confirm (API casts to the source host): across hosts the source deletes its old guest;
 *    resize_confirmed drops the migration's allocation. Revert (API casts to the destination):
 *    same host, the guest is resized back; across hosts the destination deletes its guest,
 *    resize_reverted puts the instance back on the source (still 'resize_reverting') and the
 *    destination casts finish_revert_resize to the source, which powers the old guest on.
 */
import { addInstanceFault, finishActionEvent, getInstance, startActionEvent, updateInstance, type InstanceRow } from '../db/instances.js';
import { json } from '../db/sql.js';
import { conflict, notFound } from '../errors.js';
import type { FlavorSnapshot } from '../objects/flavor.js';
import { moveAllocations, release } from '../scheduler/claims.js';
import { nowIso } from '../util/time.js';
import type { InstancePayload } from '../virt/driver.js';
import type { MigrationInfo } from './rpcapi.js';
import type { ConductorContext } from './context.js';
import { instancePayload } from './payload.js';
import { schedulingSpec } from './request-spec.js';

export const RESIZE_EVENT = 'conductor_migrate_server';

export async function migrationGet(ctx: ConductorContext, uuid: string): Promise<MigrationInfo> {
  const m = await ctx.sql.get<MigrationInfo>(
    'SELECT uuid, instance_uuid, status, source_compute, source_node, dest_compute, dest_node FROM migrations WHERE uuid = ?',
    [uuid],
  );
  if (!m) throw notFound(`Migration ${uuid} could not be found.`);
  return m;
}

async function setMigration(ctx: ConductorContext, uuid: string, fields: Record<string, string | null>): Promise<void> {
  const cols = Object.keys(fields);
  await ctx.sql.run(`UPDATE migrations SET ${cols.map((c) => `${c} = ?`).join(', ')}, updated_at = ? WHERE uuid = ?`, [
    ...cols.map((c) => fields[c]),
    nowIso(),
    uuid,
  ]);
}

export async function loadFlavor(ctx: ConductorContext, id: number): Promise<FlavorSnapshot> {
  const f = await ctx.sql.get<any>('SELECT * FROM flavors WHERE id = ?', [id]);
  if (!f) throw notFound(`Flavor ${id} could not be found.`);
  const specs = await ctx.sql.all<{ key: string; value: string }>('SELECT key, value FROM flavor_extra_specs WHERE flavor_id = ?', [id]);
  return {
    id: Number(f.id),
    flavorid: f.flavorid,
    name: f.name,
    memory_mb: f.memory_mb,
    vcpus: f.vcpus,
    root_gb: f.root_gb,
    ephemeral_gb: f.ephemeral_gb,
    swap: f.swap,
    rxtx_factor: f.rxtx_factor,
    is_public: !!f.is_public,
    description: f.description ?? null,
    extra_specs: Object.fromEntries(specs.map((s) => [s.key, s.value])),
  };
}

const flavorColumns = (f: FlavorSnapshot) => ({
  flavor: JSON.stringify(f),
  flavor_id: f.id,
  vcpus: f.vcpus,
  memory_mb: f.memory_mb,
  root_gb: f.root_gb,
  ephemeral_gb: f.ephemeral_gb,
});

export async function resizeInstance(ctx: ConductorContext, a: { instance_uuid: string; new_flavor_id: number; migration_uuid: string; request_id: string }): Promise<void> {
  const { sql } = ctx;
  const row = await getInstance(sql, a.instance_uuid);
  await migrationGet(ctx, a.migration_uuid);
  await startActionEvent(sql, { uuid: row.uuid, requestId: a.request_id, event: RESIZE_EVENT });
  const fail = async (message: string, details: string) => {
    const back = await release(sql, row.uuid);
    await moveAllocations(sql, a.migration_uuid, row.uuid);
    ctx.hostStateChanged(back);
    await setMigration(ctx, a.migration_uuid, { status: 'error' });
    await addInstanceFault(sql, row.uuid, { code: 500, message, details });
    await finishActionEvent(sql, { uuid: row.uuid, requestId: a.request_id, event: RESIZE_EVENT, result: 'Error', details: message });
    await updateInstance(sql, row.uuid, { task_state: null, new_flavor: null, old_flavor: null }).catch(() => undefined);
  };
  let newFlavor: FlavorSnapshot;
  try {
    newFlavor = await loadFlavor(ctx, a.new_flavor_id);
  } catch (e) {
    return fail((e as Error).message, '');
  }
  await moveAllocations(sql, row.uuid, a.migration_uuid);
  let sel;
  try {
    // Any host that fits, this one included (its old claim counts until confirmed).
    const spec = { ...(await schedulingSpec(sql, row, [row.uuid], { flavor: newFlavor })), requested_host: null, requested_node: null };
    [[sel]] = await ctx.scheduler.selectDestinations({ spec, num_alternates: 0 });
  } catch (e) {
    const hosts = (e as any)?.details?.hosts as Record<string, string> | undefined;
    return fail((e as Error).message, hosts ? Object.values(hosts).join('\n') : '');
  }
  await setMigration(ctx, a.migration_uuid, { dest_compute: sel.host, dest_node: sel.node, dest_host: sel.host, status: 'migrating' });
  const updated = await updateInstance(sql, row.uuid, { new_flavor: JSON.stringify(newFlavor) });
  await finishActionEvent(sql, { uuid: row.uuid, requestId: a.request_id, event: RESIZE_EVENT, result: 'Success' });
  await ctx.compute.resizeInstance(row.host ?? sel.host, {
    instance: await instancePayload(sql, updated),
    request_id: a.request_id,
    new_flavor: newFlavor,
    migration_uuid: a.migration_uuid,
    dest_host: sel.host,
    dest_node: sel.node,
  });
}

/** The guest now runs the new flavor: instance in VERIFY_RESIZE. */
export async function resizeFinished(ctx: ConductorContext, a: { instance_uuid: string; migration_uuid: string; power_state: number }): Promise<InstancePayload> {
  const row = await getInstance(ctx.sql, a.instance_uuid);
  const next = json<FlavorSnapshot | null>(row.new_flavor, null);
  if (!next) throw conflict(`Instance ${row.uuid} has no resize in progress.`);
  const m = await migrationGet(ctx, a.migration_uuid);
  const updated = await updateInstance(ctx.sql, row.uuid, {
    ...flavorColumns(next),
    ...(m.dest_compute ? { host: m.dest_compute, node: m.dest_node, launched_on: m.dest_compute } : {}),
    old_flavor: row.flavor,
    new_flavor: null,
    vm_state: 'resized',
    task_state: null,
    power_state: a.power_state,
  });
  await setMigration(ctx, a.migration_uuid, { status: 'finished' });
  return instancePayload(ctx.sql, updated);
}

const settledVmState = (power: number) => (power === 4 ? 'stopped' : 'active');

/** Confirmed: the old flavor's resources (held by the migration) are freed. */
export async function resizeConfirmed(ctx: ConductorContext, a: { instance_uuid: string; migration_uuid: string; power_state: number }): Promise<InstancePayload> {
  ctx.hostStateChanged(await release(ctx.sql, a.migration_uuid));
  const updated = await updateInstance(ctx.sql, a.instance_uuid, { old_flavor: null, vm_state: settledVmState(a.power_state), task_state: null, power_state: a.power_state });
  await setMigration(ctx, a.migration_uuid, { status: 'confirmed' });
  return instancePayload(ctx.sql, updated);
}

/**
 * Reverted: allocations and flavor restored, the instance back on the source host. When it
 * comes back from another host it stays in resize_reverting until the source has powered its
 * guest on (finish_revert_resize); otherwise it settles now.
 */
export async function resizeReverted(ctx: ConductorContext, a: { instance_uuid: string; migration_uuid: string; power_state: number }): Promise<InstancePayload> {
  const row: InstanceRow = await getInstance(ctx.sql, a.instance_uuid);
  const m = await migrationGet(ctx, a.migration_uuid);
  const moving = !!m.source_compute && m.source_compute !== row.host;
  const old = json<FlavorSnapshot | null>(row.old_flavor, null);
  const freed = await release(ctx.sql, row.uuid);
  freed.push(...(await moveAllocations(ctx.sql, a.migration_uuid, row.uuid)));
  ctx.hostStateChanged(freed);
  const updated = await updateInstance(ctx.sql, row.uuid, {
    ...(old ? flavorColumns(old) : {}),
    old_flavor: null,
    new_flavor: null,
    ...(moving
      ? { host: m.source_compute, node: m.source_node, launched_on: m.source_compute, task_state: 'resize_reverting' }
      : { vm_state: settledVmState(a.power_state), task_state: null, power_state: a.power_state }),
  });
  await setMigration(ctx, a.migration_uuid, { status: 'reverted' });
  return instancePayload(ctx.sql, updated);
}
