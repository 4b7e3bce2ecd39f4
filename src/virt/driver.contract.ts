/**
 * The behaviour every ComputeDriver must show. A driver's test file calls driverContract with
 * a factory; the factory prepares whatever the driver needs (an image on disk for QEMU) and
 * returns a fresh driver plus an instance payload it can boot. Capability-gated cases are
 * skipped, with the reason, when the driver says it does not support the operation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { NovaError } from '../errors.js';
import { PowerState } from '../compute/vm-states.js';
import type { FlavorSnapshot } from '../objects/flavor.js';
import type { ComputeDriver, InstancePayload } from './driver.js';

export interface DriverFixture {
  driver: ComputeDriver;
  /** A bootable instance payload with a fresh uuid (overrides applied). */
  instance(over?: Partial<InstancePayload>): InstancePayload;
  /** Releases what the factory set up (the contract destroys its own guests first). */
  cleanup?(): Promise<void>;
}

export const contractFlavor = (over: Partial<FlavorSnapshot> = {}): FlavorSnapshot => ({
  id: 1,
  flavorid: '1',
  name: 'm1.tiny',
  memory_mb: 128,
  vcpus: 1,
  root_gb: 1,
  ephemeral_gb: 0,
  swap: 0,
  rxtx_factor: 1,
  is_public: true,
  description: null,
  extra_specs: {},
  ...over,
});

/** An instance payload with sensible defaults, for drivers that need no real image. */
export function contractInstance(over: Partial<InstancePayload> = {}): InstancePayload {
  return {
    uuid: randomUUID(),
    display_name: 'contract-vm',
    hostname: 'contract-vm',
    project_id: 'p1',
    user_id: 'u1',
    flavor: contractFlavor(),
    image_ref: null,
    image: null,
    kernel_id: null,
    ramdisk_id: null,
    key_name: null,
    key_data: null,
    user_data: null,
    config_drive: false,
    metadata: {},
    availability_zone: 'nova',
    launch_index: 0,
    reservation_id: 'r-contract',
    network_info: [],
    block_devices: [],
    vm_state: 'building',
    task_state: 'spawning',
    power_state: PowerState.NOSTATE,
    host: 'contract-host',
    node: 'contract-host',
    created_at: new Date().toISOString(),
    launched_at: null,
    ...over,
  };
}

const isNotFound = (e: unknown) => e instanceof NovaError && e.kind === 'NotFound';

export function driverContract(name: string, make: () => Promise<DriverFixture>): void {
  const host = 'contract-host';
  const withDriver = (title: string, fn: (f: DriverFixture) => Promise<void>, skip?: (d: ComputeDriver) => string | false) =>
    test(`${name} driver: ${title}`, async (t) => {
      const f = await make();
      const why = skip?.(f.driver);
      if (why) {
        t.skip(why);
        await f.cleanup?.();
        return;
      }
      await f.driver.init(host);
      const before = new Set(await f.driver.listInstances());
      try {
        await fn(f);
      } finally {
        for (const uuid of await f.driver.listInstances()) if (!before.has(uuid)) await f.driver.destroy(uuid);
        await f.driver.close();
        await f.cleanup?.();
      }
    });

  withDriver('spawn boots a running guest that listInstances reports', async ({ driver, instance }) => {
    const vm = instance();
    await driver.spawn(vm);
    assert.equal(await driver.powerState(vm.uuid), PowerState.RUNNING);
    assert.ok((await driver.listInstances()).includes(vm.uuid));
  });

  withDriver('destroy removes the guest and is idempotent', async ({ driver, instance }) => {
    const vm = instance();
    await driver.spawn(vm);
    await driver.destroy(vm.uuid);
    assert.ok(!(await driver.listInstances()).includes(vm.uuid));
    await driver.destroy(vm.uuid);
    await driver.destroy(randomUUID());
    await assert.rejects(driver.powerState(vm.uuid), isNotFound);
  });

  withDriver('operations on an unknown guest raise NotFound', async ({ driver }) => {
    const ghost = randomUUID();
    await assert.rejects(driver.powerState(ghost), isNotFound);
    await assert.rejects(driver.powerOn(ghost), isNotFound);
    await assert.rejects(driver.powerOff(ghost), isNotFound);
    await assert.rejects(driver.reboot(ghost, 'HARD'), isNotFound);
    await assert.rejects(driver.consoleOutput(ghost), isNotFound);
  });

  withDriver('power off and on', async ({ driver, instance }) => {
    const vm = instance();
    await driver.spawn(vm);
    await driver.powerOff(vm.uuid, 5);
    assert.equal(await driver.powerState(vm.uuid), PowerState.SHUTDOWN);
    await driver.powerOn(vm.uuid);
    assert.equal(await driver.powerState(vm.uuid), PowerState.RUNNING);
  });

  withDriver('soft and hard reboot leave the guest running', async ({ driver, instance }) => {
    const vm = instance();
    await driver.spawn(vm);
    await driver.reboot(vm.uuid, 'SOFT');
    assert.equal(await driver.powerState(vm.uuid), PowerState.RUNNING);
    await driver.powerOff(vm.uuid);
    await driver.reboot(vm.uuid, 'HARD');
    assert.equal(await driver.powerState(vm.uuid), PowerState.RUNNING);
  });

  withDriver(
    'pause and unpause',
    async ({ driver, instance }) => {
      const vm = instance();
      await driver.spawn(vm);
      await driver.pause(vm.uuid);
      assert.equal(await driver.powerState(vm.uuid), PowerState.PAUSED);
      await driver.unpause(vm.uuid);
      assert.equal(await driver.powerState(vm.uuid), PowerState.RUNNING);
    },
    (d) => !d.capabilities.supportsPause && 'driver does not support pause',
  );

  withDriver(
    'suspend and resume; resume of a running guest fails',
    async ({ driver, instance }) => {
      const vm = instance();
      await driver.spawn(vm);
      await assert.rejects(driver.resume(vm.uuid));
      await driver.suspend(vm.uuid);
      assert.equal(await driver.powerState(vm.uuid), PowerState.SUSPENDED);
      await driver.resume(vm.uuid);
      assert.equal(await driver.powerState(vm.uuid), PowerState.RUNNING);
    },
    (d) => !d.capabilities.supportsSuspend && 'driver does not support suspend',
  );

  withDriver('rebuild keeps the guest and leaves it running', async ({ driver, instance }) => {
    const vm = instance();
    await driver.spawn(vm);
    await driver.rebuild({ ...vm, task_state: 'rebuild_spawning' });
    assert.equal(await driver.powerState(vm.uuid), PowerState.RUNNING);
    assert.deepEqual((await driver.listInstances()).filter((u) => u === vm.uuid), [vm.uuid]);
  });

  withDriver(
    'resize applies a new flavor and keeps the power state',
    async ({ driver, instance }) => {
      const vm = instance();
      await driver.spawn(vm);
      await driver.resize(vm, { ...vm.flavor, id: 2, flavorid: '2', name: 'm1.bigger', memory_mb: vm.flavor.memory_mb * 2 });
      assert.equal(await driver.powerState(vm.uuid), PowerState.RUNNING);
    },
    (d) => !d.capabilities.supportsResize && 'driver does not support resize',
  );

  withDriver(
    'console output mentions the instance and honours the line limit',
    async ({ driver, instance }) => {
      const vm = instance({ display_name: 'console-check-vm', hostname: 'console-check-vm' });
      await driver.spawn(vm);
      // A real guest prints its name once it has booted: allow it a minute.
      let all = '';
      for (const until = Date.now() + 60_000; Date.now() < until; await new Promise((r) => setTimeout(r, 250))) {
        all = await driver.consoleOutput(vm.uuid);
        if (/console-check-vm/.test(all)) break;
      }
      assert.match(all, /console-check-vm/);
      const one = await driver.consoleOutput(vm.uuid, 1);
      assert.ok(one.trim().split('\n').length <= 1, `expected at most one line, got ${JSON.stringify(one)}`);
    },
    (d) => !d.capabilities.supportsConsoleOutput && 'driver does not support console output',
  );

  withDriver(
    'snapshot writes a non-empty disk image file',
    async ({ driver, instance }) => {
      const vm = instance();
      await driver.spawn(vm);
      const dir = await mkdtemp(join(tmpdir(), 'nova-ts-snap-'));
      try {
        const snap = await driver.snapshot(vm.uuid, dir);
        assert.ok((await stat(snap.path)).size > 0);
        assert.ok(snap.disk_format.length > 0 && snap.container_format.length > 0);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    (d) => !d.capabilities.supportsSnapshot && 'driver does not support snapshots',
  );

  withDriver('availableResources describes the host', async ({ driver }) => {
    const r = await driver.availableResources();
    assert.ok(r.vcpus > 0 && r.memory_mb > 0 && r.local_gb > 0);
    assert.ok(r.hypervisor_hostname.length > 0);
    assert.ok(r.hypervisor_type.length > 0);
  });

  withDriver('spawning the same uuid twice is refused and the first guest survives', async ({ driver, instance }) => {
    const vm = instance();
    await driver.spawn(vm);
    await assert.rejects(driver.spawn(vm));
    assert.equal(await driver.powerState(vm.uuid), PowerState.RUNNING);
  });
}
