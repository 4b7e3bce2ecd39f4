/**
 * Start-up recovery of a compute host (Nova's init_host / _init_instance): operations that
 * were under way when the host stopped will never finish, so every instance of this host
 * with a task_state is brought to a state it can leave. Idempotent; runs before the host
 * serves requests.
 *
 * - building (any task): ERROR with a fault saying the build was interrupted (the user deletes
 *   or rebuilds it); its volumes are disconnected (kept, as their BDMs);
 * - deleting: the delete is finished (guest destroyed, volumes released, instance soft-deleted);
 * - anything else (an interrupted resize step included): task_state cleared; the power-state
 *   sync then fixes vm_state/power_state. An interrupted resize keeps its migration row and
 *   claims (not cleaned up yet).
 */
import type { ConductorRpcApi } from '../conductor/rpcapi.js';
import type { ComputeDriver } from '../virt/driver.js';
import type { Logger } from '../util/log.js';
import { TaskState, VmState } from './vm-states.js';
import type { InstanceVolumes } from './volumes.js';

export async function recoverInterrupted(d: { host: string; driver: ComputeDriver; conductor: ConductorRpcApi; log: Logger; volumes?: InstanceVolumes }): Promise<number> {
  const instances = await d.conductor.instancesOnHost({ host: d.host });
  let n = 0;
  for (const inst of instances) {
    if (inst.task_state === null && inst.vm_state !== VmState.BUILDING) continue;
    n++;
    try {
      if (inst.task_state === TaskState.DELETING) {
        await d.driver.destroy(inst.uuid);
        await d.volumes?.release(inst);
        await d.conductor.instanceDestroyed({ uuid: inst.uuid, request_id: `req-recover-${inst.uuid}`, host: d.host });
      } else if (inst.vm_state === VmState.BUILDING) {
        await d.driver.destroy(inst.uuid);
        await d.volumes?.abandonBuild(inst);
        await d.conductor.instanceFaultCreate({
          uuid: inst.uuid,
          code: 500,
          message: `The build was interrupted because compute host ${d.host} restarted. Delete the server and create it again.`,
          host: d.host,
        });
        await d.conductor.instanceUpdate({ uuid: inst.uuid, updates: { vm_state: VmState.ERROR, task_state: null } });
      } else {
        await d.conductor.instanceUpdate({ uuid: inst.uuid, updates: { task_state: null } });
      }
      d.log.info(`recovered instance ${inst.uuid} (was ${inst.vm_state}/${inst.task_state}) after a restart`);
    } catch (e) {
      d.log.warn(`recovery of instance ${inst.uuid} failed`, e);
    }
  }
  return n;
}
