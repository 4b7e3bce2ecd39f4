import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syncPowerStates } from './power-sync.js';
import { PowerState, VmState } from './vm-states.js';
import type { ConductorRpcApi } from '../conductor/rpcapi.js';
import type { ComputeDriver } from '../virt/driver.js';
import type { InstanceLocks } from './instance-locks.js';
import { logger } from '../util/log.js';

test('a build that finishes while the DB answers slowly is not taken for a vanished guest (its server is not stopped)', async () => {
  const uuid = '7021666f-fe8e-406a-a886-ee2b68df703f';
  const guests: string[] = [];
  const updates: unknown[] = [];
  // The DB answers late (a database restart); meanwhile the guest is spawned and the instance set active.
  const conductor = {
    instancesOnHost: async () => {
      await new Promise((r) => setTimeout(r, 50));
      guests.push(uuid);
      return [{ uuid, vm_state: VmState.ACTIVE, task_state: null, power_state: PowerState.RUNNING }];
    },
    instanceUpdate: async (a: unknown) => void updates.push(a),
    deletedInstances: async () => [],
  } as unknown as ConductorRpcApi;
  const driver = {
    listInstances: async () => [...guests],
    powerState: async (u: string) => (guests.includes(u) ? PowerState.RUNNING : PowerState.NOSTATE),
    powerOff: async () => assert.fail('nothing is powered off'),
  } as unknown as ComputeDriver;
  const locks = { busy: () => false } as unknown as InstanceLocks;
  const r = await syncPowerStates({ host: 'host1', driver, conductor, locks, log: logger('test') });
  assert.deepEqual(updates, [], 'the active instance is left alone');
  assert.deepEqual(r, { updated: 0, unknown: [] });
});
