/**
 * The qemu driver on real QEMU (TCG here): the driver contract suite, then what only a real
 * hypervisor shows (the guest's own console, config drive, survival across a driver restart,
 * bad images). Guests are destroyed by the contract, and every test removes its directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../config.js';
import type { ImageMeta } from '../driver.js';
import { contractInstance, driverContract } from '../driver.contract.js';
import { QemuDriver } from './driver.js';
import { testGuestImage, type TestImages } from './test-guest.js';
import { WHOLE_DISK_PACKAGES } from './whole-disk.js';

const haveQemu = spawnSync('qemu-system-x86_64', ['--version']).status === 0 && spawnSync('qemu-img', ['--version']).status === 0;

async function fixture(images: TestImages) {
  const root = await mkdtemp(join(tmpdir(), 'qd-'));
  const driver = new QemuDriver({
    host: 'contract-host',
    root,
    config: { ...defaultConfig().qemu, shutdownTimeoutSec: 20 },
    fetchImage: async (id) => images.fetch(id),
  });
  return {
    root,
    driver,
    // With a config drive the guest knows its name (there is no metadata service without a network).
    instance: (over = {}) => contractInstance({ image_ref: images.disk.id, image: images.disk, config_drive: true, ...over }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

if (!haveQemu) {
  test('qemu driver', { skip: 'qemu-system-x86_64 or qemu-img is not installed' }, () => undefined);
} else {
  const images = await testGuestImage();
  driverContract('qemu', () => fixture(images));

  test('qemu driver: the guest boots its own kernel, reads its config drive and runs the user data', async () => {
    const f = await fixture(images);
    await f.driver.init('contract-host');
    const vm = f.instance({ display_name: 'ud-vm', hostname: 'ud-vm', user_data: Buffer.from('#!/bin/sh\necho user-data-ran-$((6*7))\n').toString('base64') });
    try {
      await f.driver.spawn(vm);
      const out = await waitConsole(f.driver, vm.uuid, /user-data-ran-42/, 60_000);
      assert.match(out, /Linux version/);
    } finally {
      await f.driver.destroy(vm.uuid);
      await f.cleanup();
    }
  });

  test('qemu driver: guests survive a restart of the driver and stay controllable', async () => {
    const f = await fixture(images);
    await f.driver.init('contract-host');
    const vm = f.instance();
    try {
      await f.driver.spawn(vm);
      await f.driver.close();
      const again = new QemuDriver(f.driver.opts);
      await again.init('contract-host');
      assert.deepEqual(await again.listInstances(), [vm.uuid]);
      assert.equal(await again.powerState(vm.uuid), 1);
      await again.pause(vm.uuid);
      assert.equal(await again.powerState(vm.uuid), 3);
      await again.destroy(vm.uuid);
      assert.deepEqual(await again.listInstances(), []);
    } finally {
      await f.driver.destroy(vm.uuid);
      await f.cleanup();
    }
  });

  test('qemu driver: bad images fail the spawn with the reason and leave nothing behind', async () => {
    const f = await fixture(images);
    await f.driver.init('contract-host');
    const cases: [ImageMeta, RegExp][] = [
      [images.corrupt, /not a valid qcow2|corrupt qcow2/],
      [images.unbootable, /cannot boot: its disk has no boot sector/],
      [{ ...images.disk, properties: { kernel_id: images.unbootable.id } }, /not a bootable Linux kernel/],
      [images.iso, /disk_format 'iso'/],
    ];
    try {
      for (const [image, why] of cases) {
        const vm = f.instance({ image, image_ref: image.id });
        await assert.rejects(f.driver.spawn(vm), why);
        assert.deepEqual(await f.driver.listInstances(), []);
      }
      const big = f.instance({ flavor: { ...f.instance().flavor, root_gb: 1 }, image: images.big, image_ref: images.big.id });
      await assert.rejects(f.driver.spawn(big), /flavor's root disk is 1 GB/);
      assert.deepEqual(await f.driver.listInstances(), []);
    } finally {
      await f.cleanup();
    }
  });

  // Images without kernel_id boot like real hardware: SeaBIOS runs the disk's MBR, which
  // chains to syslinux on the FAT partition. The console shows SYSLINUX before the kernel,
  // so a direct kernel boot could not pass this test.
  const wholeDiskSkip = ensureWholeDiskPackages();
  test('qemu driver: whole-disk images (raw and qcow2) boot through the BIOS', { skip: wholeDiskSkip }, async (t) => {
    const f = await fixture(images);
    await f.driver.init('contract-host');
    const started = Date.now();
    for (const image of [images.wholeRaw, images.wholeQcow2]) await images.fetch(image.id);
    t.diagnostic(`whole-disk images ready (built or cached) in ${Date.now() - started} ms`);
    const vms = [images.wholeRaw, images.wholeQcow2].map((image) => {
      const name = `bios-${image.disk_format}`;
      return { name, vm: f.instance({ image, image_ref: image.id, display_name: name, hostname: name }) };
    });
    try {
      await Promise.all(
        vms.map(async ({ name, vm }) => {
          const t0 = Date.now();
          await f.driver.spawn(vm);
          const out = await waitConsole(f.driver, vm.uuid, new RegExp(`=== tiny-linux ${name} up`), 90_000);
          t.diagnostic(`${name}: spawn to banner ${Date.now() - t0} ms`);
          assert.match(out, /SYSLINUX[\s\S]*Loading vmlinuz[\s\S]*Linux version/, 'booted by the bootloader on its disk');
          assert.match(out, /Command line: BOOT_IMAGE=vmlinuz console=ttyS0/);
        }),
      );
    } finally {
      for (const { vm } of vms) await f.driver.destroy(vm.uuid);
      assert.deepEqual(await f.driver.listInstances(), []);
      await f.cleanup();
    }
  });
}

/** Installs the whole-disk image's packages (as openstack-cli.test.ts does); the skip reason when that fails. */
function ensureWholeDiskPackages(): string | undefined {
  const script = fileURLToPath(new URL('../../../scripts/ensure-system-packages.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [script, ...WHOLE_DISK_PACKAGES], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  const why = `${r.stdout}${r.stderr}`.trim().split('\n').slice(-3).join('; ');
  return `cannot install ${WHOLE_DISK_PACKAGES.join(' ')} (needed to build the whole-disk image): ${why}`;
}

async function waitConsole(driver: QemuDriver, uuid: string, re: RegExp, ms: number): Promise<string> {
  const until = Date.now() + ms;
  let out = '';
  while (Date.now() < until) {
    out = await driver.consoleOutput(uuid);
    if (re.test(out)) return out;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`console did not show ${re} within ${ms} ms; it shows:\n${out.slice(-2000)}`);
}
