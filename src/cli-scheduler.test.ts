import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCli } from './cli.js';

const parse = (...args: string[]) => parseCli(['--driver', 'fake', '--data-dir', '/tmp/nova-ts-cli-test', ...args]);

test('scheduling options set filters, weighers, limits and the inventory hosts report', () => {
  const c = parse(
    '--scheduler-filters', 'ComputeFilter,ResourceFilter,NumInstancesFilter',
    '--scheduler-weighers', 'RAMWeigher=-1,NumInstancesWeigher=2.5',
    '--host-subset-size', '3',
    '--max-instances-per-host', '7',
    '--cpu-allocation-ratio', '16',
    '--ram-allocation-ratio', '1.5',
    '--reserved-host-memory-mb', '0',
  );
  assert.deepEqual(c.scheduler.filters, ['ComputeFilter', 'ResourceFilter', 'NumInstancesFilter']);
  assert.deepEqual(c.scheduler.weighers, { RAMWeigher: -1, NumInstancesWeigher: 2.5 });
  assert.equal(c.scheduler.hostSubsetSize, 3);
  assert.equal(c.scheduler.maxInstancesPerHost, 7);
  assert.equal(c.compute.cpuAllocationRatio, 16);
  assert.equal(c.compute.ramAllocationRatio, 1.5);
  assert.equal(c.compute.reservedHostMemoryMb, 0);
  assert.equal(c.compute.diskAllocationRatio, 1, 'untouched options keep their defaults');
});

test('scheduling options refuse unknown names and impossible numbers, saying what is allowed', () => {
  assert.throws(() => parse('--scheduler-filters', 'ComputeFilter,RamFilter'), /unknown name 'RamFilter'\. Known: .*ResourceFilter/);
  assert.throws(() => parse('--scheduler-weighers', 'RAMWeigher'), /wants NAME=MULTIPLIER/);
  assert.throws(() => parse('--host-subset-size', '0'), /--host-subset-size wants a whole number from 1 to 1000, got 0/);
  assert.throws(() => parse('--cpu-allocation-ratio', 'lots'), /--cpu-allocation-ratio wants a number/);
  assert.throws(() => parse('--reserved-host-memory-mb=-1'), /wants a whole number from 0/);
});
