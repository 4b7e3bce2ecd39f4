/**
 * The power-state reconciler: compares what the DB says of this host's instances with what the
 * hypervisor reports, and fixes the DB (or the guest) as Nova's _sync_power_states does. Each
 * pass is idempotent; instances with an operation in progress (task_state set, or a local
 * operation queued) are left alone, and every write is a compare-and-set on task_state null.
 *
 * - DB active, guest SHUTDOWN/CRASHED or gone -> vm_state stopped with that power state
 *   (NOSTATE when gone).
 * - DB stopped, guest running -> the guest is powered off (the user asked for it stopped).
 * - other differences -> power_state updated.
 * - guests the DB does not place on this host -> logged once, left alone (the source guest
 *   of a resize across hosts is one until the resize is confirmed or reverted).
 */
import { PowerState, VmState } from './vm-states.js';
import type { ConductorRpcApi } from '../conductor/rpcapi.js';
import type { ComputeDriver } from '../virt/driver.js';
import type { InstanceLocks } from './instance-locks.js';
import type { Logger } from '../util/log.js';

const SKIP_VM_STATES = new Set<string>([VmState.BUILDING, VmState.DELETED, VmState.SOFT_DELETED, VmState.SHELVED_OFFLOADED]);

export async function syncPowerStates(d: {
  host: string;
  driver: ComputeDriver;
  conductor: ConductorRpcApi;
  locks: InstanceLocks;
  log: Logger;
  /** Unknown guests already reported (each is logged once, not on every pass). */
  reported?: Set<string>;
}): Promise<{ updated: number; unknown: string[] }> {
  // The DB's view first, then the hypervisor's: an instance is active in the DB only after its
  // guest was spawned, so a build that finishes while the DB answers slowly is seen with its
  // guest (listing both at once took such a guest for gone and stopped the new server).
  const instances = await d.conductor.instancesOnHost({ host: d.host });
  const guests = await d.driver.listInstances();
  const all = new Set(guests);
  const present = new Set(guests);
  let updated = 0;
  for (const inst of instances) {
    present.delete(inst.uuid);
    if (inst.task_state !== null || SKIP_VM_STATES.has(inst.vm_state) || d.locks.busy(inst.uuid)) continue;
    let actual: number = PowerState.NOSTATE;
    if (all.has(inst.uuid)) {
      try {
        actual = await d.driver.powerState(inst.uuid);
      } catch {
        actual = PowerState.NOSTATE;
      }
    }
    const updates: Record<string, unknown> = {};
    if (actual !== inst.power_state) updates.power_state = actual;
    if (inst.vm_state === VmState.ACTIVE && (actual === PowerState.SHUTDOWN || actual === PowerState.CRASHED || actual === PowerState.NOSTATE)) {
      d.log.info(`instance ${inst.uuid} is ${actual === PowerState.NOSTATE ? 'gone from the hypervisor' : 'shut down'} while active: marking it stopped`);
      updates.vm_state = VmState.STOPPED;
    } else if (inst.vm_state === VmState.STOPPED && actual === PowerState.RUNNING) {
      d.log.info(`instance ${inst.uuid} is running while stopped: powering it off`);
      await d.driver.powerOff(inst.uuid).catch((e) => d.log.warn(`power off of ${inst.uuid} failed`, e));
      updates.power_state = PowerState.SHUTDOWN;
      if (inst.power_state === PowerState.SHUTDOWN) delete updates.power_state;
    }
    if (Object.keys(updates).length === 0) continue;
    try {
      await d.conductor.instanceUpdate({ uuid: inst.uuid, updates: updates as any, expect_task_state: [null] });
      updated++;
    } catch (e) {
      d.log.debug(`power sync of ${inst.uuid} skipped: ${(e as Error).message}`);
    }
  }
  // Guests of instances deleted while this host was away (deleted locally by the API): reap
  // them, as Nova's running_deleted_instance_action = reap does.
  if (present.size > 0) {
    for (const uuid of await d.conductor.deletedInstances({ uuids: [...present] })) {
      d.log.info(`instance ${uuid} was deleted while this host was down: destroying its guest`);
      await d.driver.destroy(uuid).then(
        () => present.delete(uuid),
        (e) => d.log.warn(`destroying the guest of deleted instance ${uuid} failed`, e),
      );
    }
  }
  const unknown = [...present];
  const fresh = unknown.filter((u) => !d.reported?.has(u));
  if (fresh.length)
    d.log.warn(`${fresh.length} guest(s) on host ${d.host} are not known as instances of this host (a resize source awaiting confirmation, or a leak): ${fresh.join(', ')}`);
  if (d.reported) {
    for (const u of fresh) d.reported.add(u);
    for (const u of d.reported) if (!present.has(u)) d.reported.delete(u);
  }
  return { updated, unknown };
}
