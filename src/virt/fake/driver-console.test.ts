import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { contractInstance } from '../driver.contract.js';
import { FakeDriver } from './driver.js';
import { NovaError } from '../../errors.js';
import { connectConsole } from './console-test-client.js';

const newDriver = async (host = 'fake-host') => {
  const d = new FakeDriver({ host, delays: {}, failures: {}, failingHosts: [], vcpus: 8, memoryMb: 16384, diskGb: 200 });
  await d.init(host);
  return d;
};
const kind = (k: string) => (e: unknown) => e instanceof NovaError && e.kind === k;

test('getConsole vnc: a unix socket on this host speaking RFB, named after the instance', async () => {
  const d = await newDriver('compute-3');
  try {
    const vm = contractInstance({ display_name: 'web-1', hostname: 'web-1' });
    await d.spawn(vm);
    const info = await d.getConsole(vm.uuid, 'vnc');
    assert.equal(info.host, 'compute-3');
    assert.equal(info.port, null);
    assert.ok(info.internal_access_path && Buffer.byteLength(info.internal_access_path) <= 107);
    assert.deepEqual(await d.getConsole(vm.uuid, 'vnc'), info, 'the same socket on every request');
    const c = await connectConsole(info.internal_access_path!);
    c.send(await c.chunk());
    assert.deepEqual([...(await c.chunk())], [1, 1]);
    c.send([1]);
    await c.read(4);
    c.send([1]);
    const head = await c.read(24);
    assert.equal((await c.read(head.readUInt32BE(20))).toString(), 'nova-ts fake console web-1');
    c.end();
  } finally {
    await d.close();
  }
});

test('getConsole serial: a fake shell whose prompt names the guest', async () => {
  const d = await newDriver();
  try {
    const vm = contractInstance({ display_name: 'Web One', hostname: 'web-one' });
    await d.spawn(vm);
    const info = await d.getConsole(vm.uuid, 'serial');
    const c = await connectConsole(info.internal_access_path!);
    c.send('\r');
    assert.equal(await c.until('# '), '\r\nroot@web-one:~# ');
    c.end();
  } finally {
    await d.close();
  }
});

test('getConsole: NotFound for an unknown instance, Conflict (saying why) when not running', async () => {
  const d = await newDriver();
  try {
    await assert.rejects(d.getConsole('00000000-0000-0000-0000-000000000000', 'vnc'), kind('NotFound'));
    const vm = contractInstance();
    await d.spawn(vm);
    await d.pause(vm.uuid);
    await assert.rejects(d.getConsole(vm.uuid, 'vnc'), (e) => kind('Conflict')(e) && /not running.*PAUSED/.test((e as Error).message));
    await d.unpause(vm.uuid);
    await d.suspend(vm.uuid);
    await assert.rejects(d.getConsole(vm.uuid, 'serial'), kind('Conflict'));
    await d.resume(vm.uuid);
    await d.powerOff(vm.uuid);
    await assert.rejects(d.getConsole(vm.uuid, 'vnc'), (e) => kind('Conflict')(e) && /SHUTDOWN/.test((e as Error).message));
    await d.powerOn(vm.uuid);
    assert.ok((await d.getConsole(vm.uuid, 'vnc')).internal_access_path);
  } finally {
    await d.close();
  }
});

test('destroy and power off close the consoles and remove their sockets; close removes the directory', async () => {
  const d = await newDriver();
  const a = contractInstance();
  const b = contractInstance();
  await d.spawn(a);
  await d.spawn(b);
  const vncA = (await d.getConsole(a.uuid, 'vnc')).internal_access_path!;
  const serialA = (await d.getConsole(a.uuid, 'serial')).internal_access_path!;
  const vncB = (await d.getConsole(b.uuid, 'vnc')).internal_access_path!;
  const open = await connectConsole(serialA);
  await d.destroy(a.uuid);
  assert.equal(existsSync(vncA), false);
  assert.equal(existsSync(serialA), false);
  await open.closed();
  assert.equal(existsSync(vncB), true);
  await d.powerOff(b.uuid);
  assert.equal(existsSync(vncB), false);
  await d.powerOn(b.uuid);
  await d.getConsole(b.uuid, 'serial');
  await d.close();
  assert.equal(existsSync(dirname(vncB)), false);
});

test('no socket exists for instances nobody asked a console for', async () => {
  const d = await newDriver();
  try {
    for (let i = 0; i < 50; i++) await d.spawn(contractInstance());
    const vm = contractInstance();
    await d.spawn(vm);
    const path = (await d.getConsole(vm.uuid, 'serial')).internal_access_path!;
    assert.deepEqual(readdirSync(dirname(path)).length, 1);
  } finally {
    await d.close();
  }
});

test('two drivers of different hosts keep their consoles apart', async () => {
  const d1 = await newDriver('h1');
  const d2 = await newDriver('h2');
  try {
    const vm = contractInstance();
    await d1.spawn(vm);
    await d2.spawn(vm);
    const p1 = (await d1.getConsole(vm.uuid, 'vnc')).internal_access_path!;
    const p2 = (await d2.getConsole(vm.uuid, 'vnc')).internal_access_path!;
    assert.notEqual(dirname(p1), dirname(p2));
    await d1.close();
    assert.equal(existsSync(p2), true);
  } finally {
    await d1.close();
    await d2.close();
  }
});
