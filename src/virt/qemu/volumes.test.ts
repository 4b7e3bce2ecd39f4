/**
 * Volumes in the qemu driver: the command line and QMP ids (unit), the detach timeout against a
 * fake QMP, and on real QEMU (TCG) with the tiny-linux guest: hot-plug into a running guest
 * (the guest's disk watcher reports it), data written by one guest read back by another after a
 * detach and attach, a detach a paused guest does not acknowledge (timeout, still attached,
 * finished later), a volume recorded on a stopped guest, and a boot from a volume.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../config.js';
import type { VolumeDevice } from '../../volume/types.js';
import { contractInstance } from '../driver.contract.js';
import { QemuDriver } from './driver.js';
import { guestPids } from '../../../test/helpers/qemu.js';
import { qemuArgs, type GuestDefinition } from './process.js';
import type { QmpClient, QmpEvent } from './qmp.js';
import { testGuestImage } from './test-guest.js';
import { FIRST_VOLUME_SLOT, unplugVolume, volumeIds, withSlot, type GuestVolume } from './volumes.js';

const haveQemu = spawnSync('qemu-system-x86_64', ['--version']).status === 0 && spawnSync('qemu-img', ['--version']).status === 0;

const vol = (id: string, device: string, over: Partial<GuestVolume> = {}): GuestVolume => ({
  id, device, bootIndex: null, path: `/v/${id}`, format: 'qcow2', readOnly: false, shareable: false, ...over,
});

test('qemuArgs: a boot volume replaces the root overlay; data volumes follow in device-name order at their slots', () => {
  const def: GuestDefinition = {
    uuid: 'u1', name: 'vm', memoryMb: 64, vcpus: 1, accel: 'tcg', kernel: null, ramdisk: null, cmdline: null, configDrive: false,
    volumes: [
      vol('11111111-2222-3333-4444-555555555555', '/dev/vdc', { slot: 0x11, shareable: true }),
      vol('boot-volume', '/dev/vda', { bootIndex: 0, format: 'raw' }),
      vol('data-b', '/dev/vdb', { slot: 0x10, readOnly: true }),
    ],
  };
  const args = qemuArgs(def, '/g');
  assert.ok(!args.some((a) => a.includes('/g/disk')), 'no root overlay');
  const blockdevs = args.flatMap((a, i) => (a === '-blockdev' ? [JSON.parse(args[i + 1])] : []));
  const devices = args.flatMap((a, i) =>
    a === '-device' && args[i + 1].includes('drive=vol-')
      ? [Object.fromEntries(args[i + 1].split(',').slice(1).map((kv) => kv.split('=')).map(([k, v]) => [k, k === 'bootindex' ? Number(v) : v === 'on' ? true : v]))]
      : [],
  );
  assert.deepEqual(blockdevs.map((b) => [b.driver, b.file.filename, b['read-only'], b.file.locking]), [
    ['raw', '/v/boot-volume', false, 'auto'],
    ['qcow2', '/v/data-b', true, 'auto'],
    ['qcow2', '/v/11111111-2222-3333-4444-555555555555', false, 'off'],
  ]);
  assert.deepEqual(devices.map((d) => [d.serial, d.bootindex, d.addr, d['share-rw']]), [
    ['boot-volume', 1, undefined, undefined],
    ['data-b', undefined, '0x10', undefined],
    ['11111111-2222-3333-4', undefined, '0x11', true],
  ]);
  for (const [b, d] of blockdevs.map((b, i) => [b, devices[i]])) {
    assert.equal(d.drive, b['node-name']);
    assert.ok(b['node-name'].length <= 31, 'QEMU node names are at most 31 characters');
  }
  // Without volumes the root overlay stays as it was.
  const plain = qemuArgs({ ...def, volumes: undefined }, '/g');
  assert.ok(plain.includes('virtio-blk-pci,drive=root,bootindex=1') && !plain.includes('-blockdev'));
});

test('volume slots: the lowest free from 0x10, kept once chosen; ids are stable and distinct', () => {
  const a = withSlot(vol('a', '/dev/vdb'), []);
  const b = withSlot(vol('b', '/dev/vdc'), [a]);
  assert.deepEqual([a.slot, b.slot], [FIRST_VOLUME_SLOT, FIRST_VOLUME_SLOT + 1]);
  assert.equal(withSlot(vol('c', '/dev/vdd'), [b]).slot, FIRST_VOLUME_SLOT);
  assert.equal(withSlot(b, [a, b]).slot, b.slot);
  assert.equal(withSlot(vol('r', '/dev/vda', { bootIndex: 0 }), []).slot, undefined);
  let all: GuestVolume[] = [];
  for (let i = 0; i < 16; i++) all = [...all, withSlot(vol(`v${i}`, `/dev/vd${i}`), all)];
  assert.throws(() => withSlot(vol('x', '/dev/vdz'), all), /no free PCI slot/);
  assert.deepEqual(volumeIds('abc'), volumeIds('abc'));
  assert.notEqual(volumeIds('abc').node, volumeIds('abd').node);
});

/** A QMP peer that lists the device and never sends DEVICE_DELETED (as a paused guest). */
function fakeQmp(devices: Set<string>, nodes: Set<string>) {
  const calls: string[] = [];
  const ee = new EventEmitter();
  const c = {
    calls,
    execute: async (cmd: string, args?: Record<string, unknown>) => {
      calls.push(cmd);
      if (cmd === 'qom-list') return [...devices].map((name) => ({ name }));
      if (cmd === 'query-named-block-nodes') return [...nodes].map((n) => ({ 'node-name': n }));
      if (cmd === 'blockdev-del') nodes.delete(String(args?.['node-name']));
      return {};
    },
    waitEvent: (name: string, ms: number, match: (e: QmpEvent) => boolean) =>
      new Promise((resolve, reject) => {
        const on = (e: QmpEvent) => e.event === name && match(e) && resolve(e);
        ee.on('event', on);
        setTimeout(() => reject(new Error('timeout')), ms);
      }),
    emit: (e: QmpEvent) => ee.emit('event', e),
  };
  return c;
}

test('unplugVolume: a guest that does not release the device in time: Error, the node stays; released: the node goes', async () => {
  const ids = volumeIds('vol-1');
  const devices = new Set([ids.device]);
  const nodes = new Set([ids.node]);
  const c = fakeQmp(devices, nodes);
  await assert.rejects(unplugVolume(c as unknown as QmpClient, { id: 'vol-1', device: '/dev/vdb' }, 0.2), {
    message: 'The guest did not release volume vol-1 (/dev/vdb) within 0.2 s; it stays attached. Try again when the guest is idle, or stop the server first.',
  });
  assert.ok(nodes.has(ids.node) && !c.calls.includes('blockdev-del'));
  const done = unplugVolume(c as unknown as QmpClient, { id: 'vol-1', device: '/dev/vdb' }, 5);
  setTimeout(() => {
    devices.delete(ids.device);
    c.emit({ event: 'DEVICE_DELETED', data: { device: ids.device } });
  }, 50);
  await done;
  assert.ok(!nodes.has(ids.node));
  await unplugVolume(c as unknown as QmpClient, { id: 'vol-1', device: '/dev/vdb' }, 1); // idempotent
});

if (!haveQemu) {
  test('qemu volumes', { skip: 'qemu-system-x86_64 or qemu-img is not installed' }, () => undefined);
} else {
  const images = await testGuestImage();
  const fixture = async () => {
    const root = await mkdtemp(join(tmpdir(), 'qv-'));
    const driver = new QemuDriver({
      host: 'vol-host', root, config: { ...defaultConfig().qemu, shutdownTimeoutSec: 20 },
      fetchImage: async (id) => images.fetch(id),
    });
    await driver.init('vol-host');
    return { root, driver };
  };
  const device = (id: string, path: string, over: Partial<VolumeDevice> = {}): VolumeDevice => ({
    volume_id: id, device_name: '/dev/vdb', boot_index: null,
    connection_info: { driver_volume_type: 'file', data: { volume_id: id, path, format: 'qcow2', access_mode: 'rw', shareable: false } },
    ...over,
  });
  // A user-data script that waits for the disk whose serial is the volume id's prefix, then runs `then`.
  const findDisk = (serial: string, then: string) =>
    Buffer.from(
      [
        '#!/bin/sh',
        'while :; do',
        `  for d in /sys/block/vd*; do [ "$(cat $d/serial 2>/dev/null)" = "${serial}" ] && break 2; done`,
        '  sleep 1',
        'done',
        'D=/dev/$(basename $d)',
        then,
        '',
      ].join('\n'),
    ).toString('base64');
  const definition = async (root: string, uuid: string) => JSON.parse(await readFile(join(root, 'vol-host', uuid, 'guest.json'), 'utf8')) as GuestDefinition;

  test('qemu volumes: hot-plug, data written by one guest read back by another, a detach the paused guest does not ack, a stopped guest', async (t) => {
    const f = await fixture();
    const volumeId = '6b1c7a52-0d1e-4c55-9a57-3c2b0f9e1d01';
    const serial = volumeId.slice(0, 20);
    const file = join(f.root, 'volume.qcow2');
    spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', file, '64M']);
    const vm1 = contractInstance({ image_ref: images.disk.id, image: images.disk, config_drive: true, display_name: 'writer', hostname: 'writer',
      user_data: findDisk(serial, 'printf "MARKER-%s\\n" 4242 | dd of=$D conv=fsync 2>/dev/null && echo "marker written to $D"') });
    const vm2 = contractInstance({ image_ref: images.disk.id, image: images.disk, config_drive: true, display_name: 'reader', hostname: 'reader',
      user_data: findDisk(serial, 'echo "read back: $(head -c 11 $D)"') });
    try {
      await Promise.all([f.driver.spawn(vm1), f.driver.spawn(vm2)]);
      await Promise.all([waitConsole(f.driver, vm1.uuid, /=== tiny-linux writer up/), waitConsole(f.driver, vm2.uuid, /=== tiny-linux reader up/)]);
      const dev = device(volumeId, file);

      let t0 = Date.now();
      await f.driver.attachVolume(vm1.uuid, dev);
      t.diagnostic(`attach (QMP) ${Date.now() - t0} ms`);
      await f.driver.attachVolume(vm1.uuid, dev); // idempotent
      const seen = await waitConsole(f.driver, vm1.uuid, new RegExp(`=== disk (vd[a-z]) attached serial ${serial} size 64 MiB ===`));
      t.diagnostic(`attach seen by the guest after ${Date.now() - t0} ms`);
      const vdx = /=== disk (vd[a-z]) attached serial 6b1c/.exec(seen)![1];
      await waitConsole(f.driver, vm1.uuid, new RegExp(`marker written to /dev/${vdx}`));
      assert.deepEqual((await definition(f.root, vm1.uuid)).volumes?.map((v) => [v.id, v.device, v.path]), [[volumeId, '/dev/vdb', file]]);

      t0 = Date.now();
      await f.driver.detachVolume(vm1.uuid, volumeId);
      t.diagnostic(`detach (device_del to DEVICE_DELETED, blockdev-del) ${Date.now() - t0} ms`);
      await waitConsole(f.driver, vm1.uuid, new RegExp(`=== disk ${vdx} detached ===`));
      assert.deepEqual((await definition(f.root, vm1.uuid)).volumes, []);
      await f.driver.detachVolume(vm1.uuid, volumeId); // idempotent

      await f.driver.attachVolume(vm2.uuid, dev);
      await waitConsole(f.driver, vm2.uuid, /read back: MARKER-4242/);
      // The watcher polls every second: let it see the disk before the guest is paused.
      await waitConsole(f.driver, vm2.uuid, new RegExp(`=== disk vd[a-z] attached serial ${serial}`));

      // A paused guest does not acknowledge the unplug: Error, still attached and recorded.
      await f.driver.pause(vm2.uuid);
      await assert.rejects(f.driver.detachVolume(vm2.uuid, volumeId, 2), {
        message: `The guest did not release volume ${volumeId} (/dev/vdb) within 2 s; it stays attached. Try again when the guest is idle, or stop the server first.`,
      });
      assert.equal((await definition(f.root, vm2.uuid)).volumes?.length, 1);
      await f.driver.unpause(vm2.uuid);
      await f.driver.detachVolume(vm2.uuid, volumeId, 20);
      await waitConsole(f.driver, vm2.uuid, /=== disk vd[a-z] detached ===/);
      assert.deepEqual((await definition(f.root, vm2.uuid)).volumes, []);

      // A stopped guest records the volume and has it from its next start (-blockdev at launch).
      await f.driver.powerOff(vm1.uuid);
      await f.driver.attachVolume(vm1.uuid, dev);
      const before = (await f.driver.consoleOutput(vm1.uuid)).length;
      await f.driver.powerOn(vm1.uuid);
      await waitConsole(f.driver, vm1.uuid, new RegExp(`=== disk vd[a-z] attached serial ${serial} size 64 MiB ===`), before);
      t0 = Date.now();
      await f.driver.detachVolume(vm1.uuid, volumeId);
      t.diagnostic(`detach of a volume plugged at start ${Date.now() - t0} ms`);
    } finally {
      await f.driver.destroy(vm1.uuid).catch(() => undefined);
      await f.driver.destroy(vm2.uuid).catch(() => undefined);
      killGuests(vm1.uuid, vm2.uuid);
      await f.driver.close();
      await rm(f.root, { recursive: true, force: true });
    }
  });

  test('qemu volumes: a hot-plugged volume survives a suspend and resume (same PCI slot) and a restart of the driver', async () => {
    const f = await fixture();
    const volumeId = '5a5e1d00-0d1e-4c55-9a57-3c2b0f9e1d03';
    const file = join(f.root, 'volume.qcow2');
    spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', file, '32M']);
    const vm = contractInstance({ image_ref: images.disk.id, image: images.disk, config_drive: true, display_name: 'keeper', hostname: 'keeper' });
    let again: QemuDriver | null = null;
    try {
      await f.driver.spawn(vm);
      await waitConsole(f.driver, vm.uuid, /=== tiny-linux keeper up/);
      await f.driver.attachVolume(vm.uuid, device(volumeId, file));
      let at = (await waitConsole(f.driver, vm.uuid, /=== disk vd[a-z] attached serial 5a5e1d00-0d1e-4c55-9 size 32 MiB ===/)).length;
      // Restoring the saved memory needs the disk at the slot it was hot-plugged into.
      await f.driver.suspend(vm.uuid);
      await f.driver.resume(vm.uuid);
      assert.equal(await f.driver.powerState(vm.uuid), 1);
      await f.driver.close();
      again = new QemuDriver(f.driver.opts);
      await again.init('vol-host');
      await again.detachVolume(vm.uuid, volumeId, 20);
      at = (await waitConsole(again, vm.uuid, /=== disk vd[a-z] detached ===/, at)).length;
      await again.attachVolume(vm.uuid, device(volumeId, file));
      await waitConsole(again, vm.uuid, /=== disk vd[a-z] attached serial 5a5e1d00/, at);
    } finally {
      await (again ?? f.driver).destroy(vm.uuid).catch(() => undefined);
      killGuests(vm.uuid);
      await again?.close();
      await f.driver.close();
      await rm(f.root, { recursive: true, force: true });
    }
  });

  test('qemu volumes: boot from a volume made from tiny-linux (kernel and ramdisk from the payload, no image disk)', async () => {
    const f = await fixture();
    const volumeId = 'b00710ad-7e57-4c55-9a57-3c2b0f9e1d02';
    const file = join(f.root, 'boot.qcow2');
    const src = (await images.fetch(images.disk.id)).path;
    spawnSync('qemu-img', ['convert', '-q', '-O', 'qcow2', src, file]);
    const vm = contractInstance({ image_ref: '', image: null, kernel_id: images.kernel.id, ramdisk_id: images.ramdisk.id,
      config_drive: true, display_name: 'bfv', hostname: 'bfv',
      volumes: [device(volumeId, file, { device_name: '/dev/vda', boot_index: 0 })] });
    try {
      await f.driver.spawn(vm);
      const out = await waitConsole(f.driver, vm.uuid, /=== tiny-linux bfv up/);
      assert.match(out, /=== disk vda attached serial b00710ad-7e57-4c55-9 size 64 MiB ===/);
      assert.match(out, /root disk \/dev\/vda mounted read-only/);
      assert.ok(!existsSync(join(f.root, 'vol-host', vm.uuid, 'disk')), 'no image disk was made');
      await assert.rejects(f.driver.detachVolume(vm.uuid, volumeId), /is the root disk/);
      await f.driver.destroy(vm.uuid);
      assert.ok(existsSync(file), 'destroying the guest leaves its volume');
    } finally {
      await f.driver.destroy(vm.uuid).catch(() => undefined);
      killGuests(vm.uuid);
      await f.driver.close();
      await rm(f.root, { recursive: true, force: true });
    }
  });
}

/** SIGKILLs what still runs of these guests' QEMUs (after destroy nothing should), by PID. */
function killGuests(...uuids: string[]): void {
  for (const pid of uuids.flatMap((u) => guestPids(u)))
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
}

async function waitConsole(driver: QemuDriver, uuid: string, re: RegExp, from = 0, ms = 90_000): Promise<string> {
  const until = Date.now() + ms;
  let out = '';
  while (Date.now() < until) {
    out = await driver.consoleOutput(uuid);
    const m = re.exec(out.slice(from));
    if (m) return out.slice(0, from + m.index + m[0].length);
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`console did not show ${re} within ${ms} ms; it shows:\n${out.slice(-2000)}`);
}
