/**
 * Shelve and unshelve, DB side.
 *
 * - instance_shelved (from the host, guest off and snapshotted): vm_state shelved, task_state
 *   null, system_metadata shelved_at / shelved_image_id / shelved_host.
 * - shelve_offloaded (from the host, guest destroyed; also after a failed unshelve there):
 *   the instance's allocations are released, host/node cleared, vm_state shelved_offloaded,
 *   power_state 0.
 * - unshelve_instance (task, from the API: instance SHELVED_OFFLOADED, task_state unshelving,
 *   action 'unshelve'): the scheduler picks (and claims) a host in the instance's zone (or the
 *   requested host), the conductor records it and casts compute unshelve_instance there with
 *   the shelved image as instance.image (image_ref keeps the original image). NoValidHost:
 *   back to SHELVED_OFFLOADED (task_state null) with a fault and the event in Error, as Nova.
 * - unshelved (from the host, guest running): vm_state active, shelved_* dropped, the shelved
 *   image deleted.
 */
import { addInstanceFault, finishActionEvent, getInstance, startActionEvent, updateInstance } from '../db/instances.js';
import { isNovaError } from '../errors.js';
import { release } from '../scheduler/claims.js';
import { logger } from '../util/log.js';
import { nowIso } from '../util/time.js';
import type { ImageMeta, InstancePayload } from '../virt/driver.js';
import { movedTo, perHostReasons, ZONE_FROM_HOST_KEY } from './build.js';
import type { ConductorContext } from './context.js';
import { imageMetaOf, instancePayload, systemMetadata } from './payload.js';
import { schedulingSpec } from './request-spec.js';

const log = logger('conductor');
export const UNSHELVE_EVENT = 'schedule_instances';
const SHELVED_KEYS = ['shelved_at', 'shelved_image_id', 'shelved_host'];
const SHELVING_TASKS = ['shelving', 'shelving_image_pending_upload', 'shelving_image_uploading'];

export async function instanceShelved(ctx: ConductorContext, a: { uuid: string; host: string; image_id: string | null }): Promise<InstancePayload> {
  const row = await getInstance(ctx.sql, a.uuid);
  const sys = { ...systemMetadata(row), shelved_at: nowIso(), shelved_host: a.host, shelved_image_id: a.image_id ?? '' };
  if (!a.image_id) delete (sys as Record<string, string>).shelved_image_id;
  const updated = await updateInstance(
    ctx.sql,
    a.uuid,
    { vm_state: 'shelved', task_state: null, power_state: 4, system_metadata: JSON.stringify(sys) },
    { expectTaskState: SHELVING_TASKS },
  );
  return instancePayload(ctx.sql, updated);
}

export async function shelveOffloaded(ctx: ConductorContext, a: { uuid: string; fault?: { message: string; details?: string } }): Promise<InstancePayload> {
  ctx.hostStateChanged(await release(ctx.sql, a.uuid));
  const updated = await ctx.sql.tx(async (tx) => {
    if (a.fault) await addInstanceFault(tx, a.uuid, { code: 500, message: a.fault.message, details: a.fault.details ?? a.fault.message });
    return updateInstance(tx, a.uuid, { vm_state: 'shelved_offloaded', task_state: null, power_state: 0, host: null, node: null });
  });
  return instancePayload(ctx.sql, updated);
}

export async function unshelved(ctx: ConductorContext, a: { uuid: string; power_state: number }): Promise<InstancePayload> {
  const row = await getInstance(ctx.sql, a.uuid);
  const sys = systemMetadata(row);
  const imageId = sys.shelved_image_id;
  for (const k of SHELVED_KEYS) delete sys[k];
  const updated = await updateInstance(ctx.sql, a.uuid, {
    vm_state: 'active',
    task_state: null,
    power_state: a.power_state,
    system_metadata: JSON.stringify(sys),
  });
  if (imageId) await ctx.images.remove?.(imageId).catch((e) => log.warn(`deleting shelved image ${imageId} of ${a.uuid} failed`, e));
  return instancePayload(ctx.sql, updated);
}

export async function unshelveInstance(ctx: ConductorContext, a: { instance_uuid: string; request_id: string; host?: string | null }): Promise<void> {
  const { sql } = ctx;
  const uuid = a.instance_uuid;
  const row = await getInstance(sql, uuid);
  await startActionEvent(sql, { uuid, requestId: a.request_id, event: UNSHELVE_EVENT });
  const sys = systemMetadata(row);
  const fail = async (message: string, details: string) => {
    await sql
      .tx(async (tx) => {
        await updateInstance(tx, uuid, { task_state: null }, { expectTaskState: ['unshelving'] });
        await addInstanceFault(tx, uuid, { code: 500, message, details });
        await finishActionEvent(tx, { uuid, requestId: a.request_id, event: UNSHELVE_EVENT, result: 'Error', details: message, traceback: details });
      })
      .catch((e) => {
        if (!(isNovaError(e) && (e.kind === 'NotFound' || e.kind === 'Conflict'))) throw e;
      });
  };
  let image: ImageMeta | null = imageMetaOf(row);
  if (sys.shelved_image_id) {
    try {
      image = await ctx.images.get(sys.shelved_image_id);
    } catch (e) {
      return fail(`Unshelve of instance ${uuid} failed: its shelved image ${sys.shelved_image_id} is gone (${(e as Error).message})`, '');
    }
  }
  let sel;
  try {
    const spec = await schedulingSpec(sql, row, [uuid], { image: imageMetaOf(row) });
    // The zone the user asked for (at create or unshelve), not the one taken from the last host.
    if (sys[ZONE_FROM_HOST_KEY]) spec.availability_zone = null;
    if (a.host) {
      spec.requested_host = a.host;
      spec.requested_node = null;
    }
    [[sel]] = await ctx.scheduler.selectDestinations({ spec, num_alternates: 0 });
  } catch (e) {
    return fail((e as Error).message, perHostReasons(e) ?? (e as Error).message);
  }
  let updated;
  try {
    updated = await updateInstance(sql, uuid, movedTo(sel, sys), { expectTaskState: ['unshelving'], expectVmState: ['shelved_offloaded'] });
  } catch (e) {
    log.info(`instance ${uuid} changed while scheduling its unshelve (${(e as Error).message}); releasing its claim`);
    ctx.hostStateChanged(await release(sql, uuid));
    return;
  }
  await finishActionEvent(sql, { uuid, requestId: a.request_id, event: UNSHELVE_EVENT, result: 'Success' });
  await ctx.compute.unshelveInstance(sel.host, { instance: await instancePayload(sql, updated, { image }), request_id: a.request_id, node: sel.node });
}
