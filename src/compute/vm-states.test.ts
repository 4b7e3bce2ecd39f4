import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusFromState, vmStatesForStatus } from './vm-states.js';

const cases: [string, string | null, string][] = [
  ['building', 'scheduling', 'BUILD'],
  ['active', null, 'ACTIVE'],
  ['active', 'rebooting', 'REBOOT'],
  ['active', 'rebooting_hard', 'HARD_REBOOT'],
  ['active', 'powering-off', 'ACTIVE'],
  ['stopped', null, 'SHUTOFF'],
  ['stopped', 'resize_prep', 'RESIZE'],
  ['resized', null, 'VERIFY_RESIZE'],
  ['resized', 'resize_reverting', 'REVERT_RESIZE'],
  ['paused', null, 'PAUSED'],
  ['suspended', null, 'SUSPENDED'],
  ['error', null, 'ERROR'],
  ['shelved_offloaded', null, 'SHELVED_OFFLOADED'],
  ['bogus', null, 'UNKNOWN'],
];

for (const [vm, task, status] of cases)
  test(`${vm}/${task} shows as ${status}`, () => assert.equal(statusFromState(vm, task), status));

test('status filters map back to vm states', () => {
  assert.deepEqual(vmStatesForStatus('shutoff'), { vmStates: ['stopped'] });
  assert.ok(vmStatesForStatus('REBOOT')!.taskStates!.includes('rebooting'));
  assert.equal(vmStatesForStatus('NOPE'), null);
});
