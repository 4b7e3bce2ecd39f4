/**
 * The conductor service (topic `conductor`): build and resize orchestration for the API, and
 * the only DB access compute hosts have. Records its `nova-conductor` services row.
 *
 * What the Compute API must do before each cast (the contract with src/api/compute):
 * - create: instance rows in vm_state 'building', task_state 'scheduling', an instance action
 *   'create' with the request id, then ConductorRpcApi.buildInstances. A requested destination
 *   goes in scheduler_hints `requested_destination` {host, node} or `force_hosts`/`force_nodes`
 *   (see request-spec.ts). The conductor records the image meta in system_metadata
 *   `image_meta` (IMAGE_META_KEY) for later payloads.
 * - stop/start/reboot/pause/unpause/suspend/resume/rebuild/snapshot: set task_state
 *   ('powering-off', 'powering-on', 'rebooting' | 'rebooting_hard', 'pausing', 'unpausing',
 *   'suspending', 'resuming', 'rebuilding' (image_ref already the new image; pass the new
 *   image meta as instancePayload(sql, row, {image})), 'image_snapshot'), start the action,
 *   cast to ComputeRpcApi with instancePayload(sql, row). The host clears task_state, also on
 *   failure (then with a fault and an Error event).
 * - delete: task_state 'deleting', action 'delete', cast terminate_instance to row.host; an
 *   instance without host is soft-deleted by the API itself.
 * - evacuate: see src/conductor/evacuate.ts (migration 'evacuation', task_state 'rebuilding',
 *   cast ConductorRpcApi.evacuateInstance).
 * - resize: see src/conductor/resize.ts (migration row, task_state 'resize_prep', cast
 *   ConductorRpcApi.resizeInstance).
 * - confirmResize: instance must be vm_state 'resized'; task_state may stay null or be
 *   'resize_confirming' (migration status 'confirming' optional), cast
 *   ComputeRpcApi.confirmResize(migration.source_compute, {instance, request_id,
 *   migration_uuid}). Ends in ACTIVE (or SHUTOFF), task null, old claim freed.
 * - revertResize: vm_state 'resized'; set task_state 'resize_reverting' (migration status
 *   'reverting' optional), cast ComputeRpcApi.revertResize(migration.dest_compute, ...).
 *   Ends in ACTIVE (or SHUTOFF) on the source host with the old flavor.
 */
import { hostname } from 'node:os';
import type { Bus } from '../bus/bus.js';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { invalid } from '../errors.js';
import type { ImageClient } from '../image/client.js';
import { logger } from '../util/log.js';
import { CONDUCTOR_TOPIC } from './rpcapi.js';
import { conductorContext, type ConductorContext } from './context.js';
import { buildFailed, buildInstances, buildSucceeded, endsBuild } from './build.js';
import { migrationGet, resizeConfirmed, resizeFinished, resizeInstance, resizeReverted } from './resize.js';
import * as hostApi from './host-api.js';
import { bdmDestroy, bdmsOf, bdmUpdate } from './bdms.js';
import { instanceShelved, shelveOffloaded, unshelved, unshelveInstance } from './unshelve.js';
import { upsertComputeNode } from './compute-nodes.js';
import { keepServiceAlive, serviceHeartbeat } from './service-records.js';
import { evacuated, evacuateInstance, evacuationCleaned, evacuationFailed, evacuationsFrom } from './evacuate.js';
import { startBuildReaper } from './stuck-builds.js';

const log = logger('conductor');

const str = (a: any, k: string): string => {
  if (typeof a?.[k] !== 'string' || a[k] === '') throw invalid(`Conductor request is missing the string '${k}'.`);
  return a[k];
};
const num = (a: any, k: string): number => {
  if (typeof a?.[k] !== 'number' || !Number.isFinite(a[k])) throw invalid(`Conductor request is missing the number '${k}'.`);
  return a[k];
};
const list = (a: any, k: string): any[] => {
  if (!Array.isArray(a?.[k])) throw invalid(`Conductor request is missing the list '${k}'.`);
  return a[k];
};

type Method = (ctx: ConductorContext, a: any) => Promise<unknown>;

const METHODS: Record<string, Method> = {
  build_instances: (c, a) => buildInstances(c, list(a, 'instance_uuids').map(String), str(a, 'request_id')),
  resize_instance: (c, a) =>
    resizeInstance(c, { instance_uuid: str(a, 'instance_uuid'), new_flavor_id: num(a, 'new_flavor_id'), migration_uuid: str(a, 'migration_uuid'), request_id: str(a, 'request_id') }),
  unshelve_instance: (c, a) =>
    unshelveInstance(c, { instance_uuid: str(a, 'instance_uuid'), request_id: str(a, 'request_id'), host: typeof a.host === 'string' && a.host ? a.host : null }),
  evacuate_instance: (c, a) =>
    evacuateInstance(c, {
      instance_uuid: str(a, 'instance_uuid'),
      migration_uuid: str(a, 'migration_uuid'),
      request_id: str(a, 'request_id'),
      host: typeof a.host === 'string' && a.host ? a.host : null,
      force: a.force === true,
      admin_password: typeof a.admin_password === 'string' ? a.admin_password : null,
    }),
  evacuated: (c, a) =>
    evacuated(c, { instance_uuid: str(a, 'instance_uuid'), migration_uuid: str(a, 'migration_uuid'), host: str(a, 'host'), node: str(a, 'node'), power_state: num(a, 'power_state') }),
  evacuation_failed: (c, a) =>
    evacuationFailed(c, { instance_uuid: str(a, 'instance_uuid'), migration_uuid: str(a, 'migration_uuid'), host: str(a, 'host'), reason: String(a.reason ?? 'unknown error'), request_id: str(a, 'request_id') }),
  evacuations_from: (c, a) => evacuationsFrom(c, str(a, 'host')),
  evacuation_cleaned: (c, a) => evacuationCleaned(c, str(a, 'migration_uuid')),
  instance_shelved: (c, a) => instanceShelved(c, { uuid: str(a, 'uuid'), host: str(a, 'host'), image_id: typeof a.image_id === 'string' && a.image_id ? a.image_id : null }),
  shelve_offloaded: (c, a) => shelveOffloaded(c, { uuid: str(a, 'uuid'), fault: a.fault && typeof a.fault.message === 'string' ? a.fault : undefined }),
  unshelved: (c, a) => unshelved(c, { uuid: str(a, 'uuid'), power_state: num(a, 'power_state') }),
  build_failed: (c, a) => buildFailed(c, { uuid: str(a, 'uuid'), request_id: str(a, 'request_id'), host: str(a, 'host'), reason: String(a.reason ?? 'unknown error'), alternates: list(a, 'alternates') }),
  instance_update: async (c, a) => {
    const inst = await hostApi.instanceUpdate(c.sql, {
      uuid: str(a, 'uuid'),
      updates: a.updates,
      expect_task_state: a.expect_task_state ?? undefined,
      expect_host: typeof a.expect_host === 'string' ? a.expect_host : undefined,
    });
    if (endsBuild(a)) await buildSucceeded(c, inst);
    return inst;
  },
  action_event_start: (c, a) => hostApi.actionEventStart(c.sql, { uuid: str(a, 'uuid'), request_id: str(a, 'request_id'), event: str(a, 'event'), host: str(a, 'host') }),
  action_event_finish: (c, a) =>
    hostApi.actionEventFinish(c.sql, { uuid: str(a, 'uuid'), request_id: str(a, 'request_id'), event: str(a, 'event'), result: a.result, details: a.details }),
  instance_fault_create: (c, a) =>
    hostApi.instanceFaultCreate(c.sql, { uuid: str(a, 'uuid'), code: a.code, message: str(a, 'message'), details: a.details, host: str(a, 'host') }),
  instance_destroyed: (c, a) => hostApi.instanceDestroyed(c, { uuid: str(a, 'uuid') }),
  compute_node_update: async (c, a) => {
    if (!a?.resources || typeof a.resources !== 'object') throw invalid("Conductor request is missing 'resources'.");
    const r = await upsertComputeNode(c.sql, str(a, 'host'), a.resources);
    if (r.changed) c.hostStateChanged();
    return { node_uuid: r.node_uuid };
  },
  service_heartbeat: async (c, a) => {
    const s = await serviceHeartbeat(c.sql, str(a, 'host'), str(a, 'binary'));
    return { disabled: s.disabled, forced_down: s.forced_down };
  },
  instances_on_host: (c, a) => hostApi.instancesOnHost(c.sql, str(a, 'host')),
  deleted_instances: (c, a) => hostApi.deletedInstances(c.sql, list(a, 'uuids').map(String)),
  migration_get: (c, a) => migrationGet(c, str(a, 'uuid')),
  bdms_of: (c, a) => bdmsOf(c.sql, str(a, 'instance_uuid')),
  bdm_update: (c, a) => bdmUpdate(c.sql, str(a, 'bdm_uuid'), a.updates),
  bdm_destroy: (c, a) => bdmDestroy(c.sql, str(a, 'bdm_uuid')),
  resize_finished: (c, a) => resizeFinished(c, { instance_uuid: str(a, 'instance_uuid'), migration_uuid: str(a, 'migration_uuid'), power_state: num(a, 'power_state') }),
  resize_confirmed: (c, a) => resizeConfirmed(c, { instance_uuid: str(a, 'instance_uuid'), migration_uuid: str(a, 'migration_uuid'), power_state: num(a, 'power_state') }),
  resize_reverted: (c, a) => resizeReverted(c, { instance_uuid: str(a, 'instance_uuid'), migration_uuid: str(a, 'migration_uuid'), power_state: num(a, 'power_state') }),
};

export async function startConductor(deps: { sql: Sql; bus: Bus; images: ImageClient; config: Config; host?: string }): Promise<{ stop(): Promise<void> }> {
  const ctx = conductorContext(deps);
  const stopServe = await deps.bus.serve(CONDUCTOR_TOPIC, (method, args) => {
    const m = METHODS[method];
    if (!m) throw invalid(`Unknown conductor method '${method}'.`);
    return m(ctx, args);
  });
  const stopBeat = await keepServiceAlive(deps.sql, deps.host ?? (hostname() || 'controller'), 'nova-conductor', deps.config.compute.reportIntervalSec, (e) =>
    log.warn('heartbeat failed', e),
  );
  // Builds without progress for build_timeout go to ERROR (stuck-builds.ts; safe with several conductors).
  const reaper = startBuildReaper(ctx, deps.config.compute.buildTimeoutSec ?? 180);
  return {
    async stop() {
      await reaper.stop();
      stopBeat();
      await stopServe();
    },
  };
}
