import { test } from 'node:test';
import assert from 'node:assert/strict';
import { driverContract, contractInstance } from '../driver.contract.js';
import { FakeDriver, type FakeDriverOptions } from './driver.js';
import { PowerState } from '../../compute/vm-states.js';

const opts = (over: Partial<FakeDriverOptions> = {}): FakeDriverOptions => ({
  host: 'fake-host',
  delays: {},
  failures: {},
  failingHosts: [],
  vcpus: 8,
  memoryMb: 16384,
  diskGb: 200,
  ...over,
});

driverContract('fake', async () => ({ driver: new FakeDriver(opts()), instance: contractInstance }));

test('fake driver: a failing host refuses every spawn and names the host', async () => {
  const d = new FakeDriver(opts({ host: 'bad1', failingHosts: ['bad1'] }));
  await d.init('bad1');
  await assert.rejects(d.spawn(contractInstance()), /bad1/);
  assert.deepEqual(await d.listInstances(), []);
});

test('fake driver: injected failures follow the configured probability', async () => {
  const d = new FakeDriver(opts({ failures: { spawn: 0.5 }, random: (() => { let i = 0; return () => (i++ % 2 ? 0.9 : 0.1); })() }));
  await assert.rejects(d.spawn(contractInstance()), /failure injected by fake\.failures\.spawn/);
  await d.spawn(contractInstance());
  assert.equal((await d.listInstances()).length, 1);
});

test('fake driver: delays make operations take the configured time', async () => {
  const d = new FakeDriver(opts({ delays: { spawn: 30 } }));
  const t0 = Date.now();
  await d.spawn(contractInstance());
  assert.ok(Date.now() - t0 >= 25);
});

test('fake driver: resources come from the configuration; hypervisor name is the host', async () => {
  const d = new FakeDriver(opts());
  await d.init('compute-7');
  const r = await d.availableResources();
  assert.deepEqual([r.vcpus, r.memory_mb, r.local_gb, r.hypervisor_type, r.hypervisor_hostname], [8, 16384, 200, 'fake', 'compute-7']);
});

test('fake driver: simulatePowerOff shuts the guest down behind the manager\'s back', async () => {
  const d = new FakeDriver(opts());
  const vm = contractInstance();
  await d.spawn(vm);
  d.simulatePowerOff(vm.uuid);
  assert.equal(await d.powerState(vm.uuid), PowerState.SHUTDOWN);
});

test('with a state dir, guests outlive the driver: a new driver on the same host finds them as they were', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'nova-ts-fake-'));
  try {
    const opts = { delays: {}, failures: {}, failingHosts: [], vcpus: 4, memoryMb: 4096, diskGb: 40, host: 'h1', stateDir: dir };
    const a = new FakeDriver(opts);
    await a.init('h1');
    await a.spawn(contractInstance({ uuid: '11111111-1111-1111-1111-111111111111' }));
    await a.spawn(contractInstance({ uuid: '22222222-2222-2222-2222-222222222222' }));
    await a.powerOff('22222222-2222-2222-2222-222222222222');
    await a.close();
    const b = new FakeDriver(opts);
    await b.init('h1');
    assert.deepEqual((await b.listInstances()).sort(), ['11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222']);
    assert.equal(await b.powerState('11111111-1111-1111-1111-111111111111'), 1);
    assert.equal(await b.powerState('22222222-2222-2222-2222-222222222222'), 4);
    const other = new FakeDriver({ ...opts, host: 'h2' });
    await other.init('h2');
    assert.deepEqual(await other.listInstances(), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

