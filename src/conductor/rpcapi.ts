/**
 * Client side of the conductor's RPC interface (topic `conductor`). The API uses the task
 * methods; compute hosts use the rest, which are their only way to read or write the DB.
 *
 * Version history:
 *   1.0 - build_instances, resize_instance; instance_update, action_event_start,
 *         action_event_finish, build_failed, instance_fault_create, compute_node_update,
 *         service_heartbeat, instances_on_host
 *   1.1 - resize_finished, resize_confirmed, resize_reverted (compute -> conductor, DB side of
 *         resize, confirm and revert; see src/conductor/resize.ts), migration_get
 *   1.2 - deleted_instances (a host asks which of its unknown guests belong to deleted
 *         instances, to reap them)
 *   1.3 - bdms_of, bdm_update, bdm_destroy (block device mappings of volumes; see
 *         src/conductor/bdms.ts); instance_destroyed also soft-deletes the instance's BDMs
 *   1.4 - unshelve_instance (task, from the API); instance_shelved, shelve_offloaded,
 *         unshelved (compute -> conductor; see src/conductor/unshelve.ts)
 *   1.5 - evacuate_instance (task, from the API); evacuated, evacuation_failed (from the
 *         destination host), evacuations_from and evacuation_cleaned (a source host coming
 *         back cleans up); see src/conductor/evacuate.ts
 */
import type { Bus } from '../bus/bus.js';
import type { InstancePatch } from '../db/instances.js';
import type { HostResources, InstancePayload } from '../virt/driver.js';
import type { Selection } from '../compute/rpcapi.js';
import type { BdmPatch, BdmRow } from './bdms.js';
import type { Evacuation } from './evacuate.js';

export const CONDUCTOR_RPC_VERSION = '1.5';
export const CONDUCTOR_TOPIC = 'conductor';

export interface MigrationInfo {
  uuid: string;
  instance_uuid: string;
  status: string;
  source_compute: string | null;
  source_node: string | null;
  dest_compute: string | null;
  dest_node: string | null;
}

export class ConductorRpcApi {
  constructor(private readonly bus: Bus) {}

  private call<T>(method: string, args: object): Promise<T> {
    return this.bus.call<T>(CONDUCTOR_TOPIC, method, { ...args, version: CONDUCTOR_RPC_VERSION });
  }

  // --- tasks, from the API ---

  /** Schedules and builds instances already recorded in BUILD/scheduling. */
  buildInstances(args: { instance_uuids: string[]; request_id: string }) {
    return this.bus.cast(CONDUCTOR_TOPIC, 'build_instances', { ...args, version: CONDUCTOR_RPC_VERSION });
  }
  /** Picks a host for the new flavor (migration already recorded) and starts the resize. */
  resizeInstance(args: { instance_uuid: string; new_flavor_id: number; migration_uuid: string; request_id: string }) {
    return this.bus.cast(CONDUCTOR_TOPIC, 'resize_instance', { ...args, version: CONDUCTOR_RPC_VERSION });
  }

  /** Schedules a SHELVED_OFFLOADED instance (task_state unshelving) and casts unshelve_instance to the chosen host. */
  unshelveInstance(args: { instance_uuid: string; request_id: string; host?: string | null }) {
    return this.bus.cast(CONDUCTOR_TOPIC, 'unshelve_instance', { ...args, version: CONDUCTOR_RPC_VERSION });
  }

  /**
   * Evacuates an instance off its failed host (task_state rebuilding and an 'accepted'
   * evacuation migration already recorded by the API): schedules a new host (host: that one,
   * checked by the filters unless force) and casts evacuate_instance there.
   */
  evacuateInstance(args: { instance_uuid: string; migration_uuid: string; request_id: string; host: string | null; force: boolean; admin_password: string | null }) {
    return this.bus.cast(CONDUCTOR_TOPIC, 'evacuate_instance', { ...args, version: CONDUCTOR_RPC_VERSION });
  }

  // --- DB access for compute hosts ---

  /**
   * The destination host runs the evacuated guest: host/node recorded, vm_state active (or
   * stopped), task_state null, migration done, the source node's allocation released.
   */
  evacuated(args: { instance_uuid: string; migration_uuid: string; host: string; node: string; power_state: number }) {
    return this.call<InstancePayload>('evacuated', args);
  }
  /** The evacuation failed on the destination: ERROR with a fault, migration failed, the destination's allocation released. */
  evacuationFailed(args: { instance_uuid: string; migration_uuid: string; host: string; reason: string; request_id: string }) {
    return this.call<void>('evacuation_failed', args);
  }
  /** Evacuations away from host whose guests host must remove (status accepted, pre-migrating or done). */
  evacuationsFrom(args: { host: string }) {
    return this.call<Evacuation[]>('evacuations_from', args);
  }
  /** The source host removed the evacuated guest: migration completed. */
  evacuationCleaned(args: { migration_uuid: string }) {
    return this.call<void>('evacuation_cleaned', args);
  }

  /** The guest is off (and snapshotted into image_id): vm_state shelved, shelved_* system metadata recorded. */
  instanceShelved(args: { uuid: string; host: string; image_id: string | null }) {
    return this.call<InstancePayload>('instance_shelved', args);
  }
  /** The guest is gone from its host: allocations released, host/node cleared, vm_state shelved_offloaded. */
  shelveOffloaded(args: { uuid: string; fault?: { message: string; details?: string } }) {
    return this.call<InstancePayload>('shelve_offloaded', args);
  }
  /** The guest runs again: vm_state active, shelved_* system metadata dropped, the shelved image deleted. */
  unshelved(args: { uuid: string; power_state: number }) {
    return this.call<InstancePayload>('unshelved', args);
  }

  instanceUpdate(args: {
    uuid: string;
    updates: InstancePatch;
    expect_task_state?: (string | null)[];
    /** Only while the instance is on this host (else Conflict). */
    expect_host?: string;
  }): Promise<InstancePayload> {
    return this.call('instance_update', args);
  }
  actionEventStart(args: { uuid: string; request_id: string; event: string; host: string }) {
    return this.call<void>('action_event_start', args);
  }
  actionEventFinish(args: {
    uuid: string;
    request_id: string;
    event: string;
    result: 'Success' | 'Error';
    details?: string;
  }) {
    return this.call<void>('action_event_finish', args);
  }
  instanceFaultCreate(args: { uuid: string; code: number; message: string; details?: string; host: string }) {
    return this.call<void>('instance_fault_create', args);
  }
  /**
   * A build failed on host: the conductor releases that claim and tries the next alternate,
   * or sets the instance to ERROR with a fault saying why.
   */
  buildFailed(args: { uuid: string; request_id: string; host: string; reason: string; alternates: Selection[] }) {
    return this.call<void>('build_failed', args);
  }
  /** Instance deleted on its host: the conductor soft-deletes it and frees its resources. */
  instanceDestroyed(args: { uuid: string; request_id: string; host: string }) {
    return this.call<void>('instance_destroyed', args);
  }
  computeNodeUpdate(args: { host: string; resources: HostResources }) {
    return this.call<{ node_uuid: string }>('compute_node_update', args);
  }
  serviceHeartbeat(args: { host: string; binary: string }) {
    return this.call<{ disabled: boolean; forced_down: boolean }>('service_heartbeat', args);
  }
  instancesOnHost(args: { host: string }) {
    return this.call<InstancePayload[]>('instances_on_host', args);
  }
  /** Of these uuids, those whose instance is deleted in the DB (guests a host may reap). */
  deletedInstances(args: { uuids: string[] }) {
    return this.call<string[]>('deleted_instances', args);
  }
  /** The guest runs the new flavor: instance to VERIFY_RESIZE (vm_state resized). */
  resizeFinished(args: { instance_uuid: string; migration_uuid: string; power_state: number }) {
    return this.call<InstancePayload>('resize_finished', args);
  }
  /** Resize confirmed on the host: the old flavor's allocation is dropped. */
  resizeConfirmed(args: { instance_uuid: string; migration_uuid: string; power_state: number }) {
    return this.call<InstancePayload>('resize_confirmed', args);
  }
  /** Source and destination of a migration (compute hosts cannot read the DB). */
  migrationGet(args: { uuid: string }) {
    return this.call<MigrationInfo>('migration_get', args);
  }
  /** Live block device mappings of an instance, boot disk first. */
  bdmsOf(args: { instance_uuid: string }) {
    return this.call<BdmRow[]>('bdms_of', args);
  }
  /** Records what the host did with a BDM (volume created, attachment, connection_info); false when the BDM is gone. */
  bdmUpdate(args: { bdm_uuid: string; updates: BdmPatch }) {
    return this.call<boolean>('bdm_update', args);
  }
  /** Soft-deletes a BDM (volume detached or attach undone). Idempotent. */
  bdmDestroy(args: { bdm_uuid: string }) {
    return this.call<void>('bdm_destroy', args);
  }
  /** Resize reverted on the host: old flavor and allocation restored. */
  resizeReverted(args: { instance_uuid: string; migration_uuid: string; power_state: number }) {
    return this.call<InstancePayload>('resize_reverted', args);
  }
}
