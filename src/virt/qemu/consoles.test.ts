/**
 * The guest's consoles: where the sockets go (the guest dir, or a short fallback), the QEMU
 * arguments, and on real QEMU (TCG) one booted tiny-linux checked through both sockets: the
 * serial shell answers, the console log fills with and without a client (and still rotates),
 * VNC speaks RFB 3.8 without a password, getConsole's errors, a restart of the driver, and a
 * guest started before consoles existed (Conflict; suspend and resume keep its devices; a hard
 * reboot gives it consoles).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { defaultConfig } from '../../config.js';
import { contractInstance } from '../driver.contract.js';
import { rotateConsoleLog } from './console-log.js';
import { consoleArgs, consoleSockets, fallbackSocketDir, MAX_SOCKET_PATH, prepareConsoleSockets } from './consoles.js';
import { QemuDriver } from './driver.js';
import { guestFiles, launch, qemuArgs, type GuestDefinition } from './process.js';
import { testGuestImage } from './test-guest.js';

const UUID = '0b7e3f0c-6a53-4f6e-9d0b-2d3c1f0a9e11';

test('consoleSockets: in the guest dir when they fit, else a short per-directory fallback under tmpdir', () => {
  const dir = `/var/lib/nova-ts/h1/${UUID}`;
  assert.deepEqual(consoleSockets(dir), { vnc: `${dir}/vnc.sock`, serial: `${dir}/serial.sock` });
  const deep = `/${'d'.repeat(80)}/h1/${UUID}`;
  const s = consoleSockets(deep);
  assert.equal(dirname(s.vnc), fallbackSocketDir(dirname(deep)));
  assert.ok(s.vnc.startsWith(tmpdir()) && s.vnc.endsWith(`${UUID}.vnc.sock`) && s.serial.endsWith(`${UUID}.serial.sock`));
  assert.ok(Buffer.byteLength(s.serial) <= MAX_SOCKET_PATH);
  // The same guest dir always gives the same paths (adopted guests); other hosts' dirs others.
  assert.deepEqual(consoleSockets(deep), s);
  assert.notEqual(fallbackSocketDir(`/${'d'.repeat(80)}/h2`), fallbackSocketDir(dirname(deep)));
});

test('qemuArgs: a guest with consoles has VGA, VNC on its socket and the serial socket logging to console.log; one without keeps the file', () => {
  const def: GuestDefinition = { uuid: UUID, name: 'vm', memoryMb: 64, vcpus: 1, accel: 'tcg', kernel: null, ramdisk: null, cmdline: null, configDrive: false };
  const withConsoles = qemuArgs({ ...def, consoles: true }, '/g,x');
  assert.deepEqual(consoleArgs('/g,x', '/g,x/console.log'), [
    '-vga', 'std',
    '-vnc', 'unix:/g,,x/vnc.sock',
    '-chardev', 'socket,id=serial0,path=/g,,x/serial.sock,server=on,wait=off,logfile=/g,,x/console.log,logappend=on',
  ]);
  for (const a of consoleArgs('/g,x', '/g,x/console.log')) assert.ok(withConsoles.includes(a), a);
  const without = qemuArgs(def, '/g');
  assert.ok(!without.includes('-vnc') && !without.includes('-vga'));
  assert.ok(without.includes('file,id=serial0,path=/g/console.log,append=on'));
});

test('prepareConsoleSockets: refuses a fallback directory others can enter', { skip: process.getuid?.() === undefined }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'qc-'));
  const deep = join(root, 'x'.repeat(90), UUID);
  const sockDir = dirname(consoleSockets(deep).vnc);
  try {
    assert.equal(dirname((await prepareConsoleSockets(deep)).serial), sockDir);
    assert.equal((await stat(sockDir)).mode & 0o777, 0o700);
    await chmod(sockDir, 0o777);
    await assert.rejects(prepareConsoleSockets(deep), /must be a directory owned by this user with mode 0700/);
  } finally {
    await rm(sockDir, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
  }
});

const haveQemu = spawnSync('qemu-system-x86_64', ['--version']).status === 0 && spawnSync('qemu-img', ['--version']).status === 0;

test('qemu consoles on a real guest: serial shell, console log, RFB 3.8, errors, restart, pre-console guests', { skip: !haveQemu && 'qemu is not installed' }, async (t) => {
  const images = await testGuestImage();
  const base = await mkdtemp(join(tmpdir(), 'qc-'));
  // A guest dir of 97 bytes: its qmp.sock fits in 107 bytes, serial.sock does not (fallback).
  const vm = contractInstance({ image_ref: images.disk.id, image: images.disk, config_drive: true, display_name: 'con-vm', hostname: 'con-vm',
    // Output the guest makes by itself, with or without a client on the serial port.
    user_data: Buffer.from('#!/bin/sh\ni=0\nwhile :; do i=$((i+1)); echo "tick-$i"; sleep 2; done\n').toString('base64') });
  const host = 'contract-host';
  const root = join(base, 'r'.repeat(97 - base.length - 1 - host.length - 1 - 36 - 1));
  await mkdir(root);
  const opts = { host, root, config: { ...defaultConfig().qemu, shutdownTimeoutSec: 10 }, fetchImage: async (id: string) => images.fetch(id) };
  let driver = new QemuDriver(opts);
  const dir = join(root, host, vm.uuid);
  assert.equal(dir.length, 97);
  const log = guestFiles(dir).console;
  try {
    await driver.init(host);
    const t0 = Date.now();
    await driver.spawn(vm);
    await assert.rejects(driver.getConsole('00000000-0000-0000-0000-000000000000', 'serial'), { name: 'NotFound' });
    const serialInfo = await driver.getConsole(vm.uuid, 'serial');
    assert.deepEqual(serialInfo, { host, port: null, internal_access_path: consoleSockets(dir).serial });
    assert.ok(serialInfo.internal_access_path!.startsWith(tmpdir()) && !serialInfo.internal_access_path!.startsWith(dir), 'fallback path used');
    assert.ok(existsSync(guestFiles(dir).qmp));

    // No client yet: the boot still lands in console.log.
    await waitFile(log, /=== tiny-linux con-vm up: no network ===/, 90_000);
    t.diagnostic(`spawn to banner: ${Date.now() - t0} ms`);

    let serial = await Client.open(serialInfo.internal_access_path!);
    serial.write('\r');
    await serial.expect(/con-vm:~# /, 5000);
    const n = randomInt(1e6, 1e7);
    serial.write(`echo hello-${n}-$((6*7))\r`);
    await serial.expect(new RegExp(`\\nhello-${n}-42\\r?\\n`), 5000);
    // tty1 (the VNC screen) has a shell too.
    serial.write('for p in /proc/[0-9]*; do readlink $p/fd/0; done | grep -c /dev/tty1 | sed s/^/tty1-users-/\r');
    await serial.expect(/\ntty1-users-[1-9]/, 5000);
    // With a client connected the log still fills (the guest's own output and the session's).
    await waitTick(log, await lastTick(log));

    // Rotation by truncation: the guest's next output lands at the start of the file (O_APPEND).
    assert.equal(await rotateConsoleLog(log, 100), true);
    serial.write(`echo after-rotation-${n}\r`);
    await serial.expect(new RegExp(`\\nafter-rotation-${n}`), 5000);
    const rotated = await readFile(log);
    assert.ok(rotated.length < 4096 && !rotated.subarray(0, 16).includes(0), 'no hole of NULs after truncation');
    assert.match(rotated.toString('utf8'), new RegExp(`after-rotation-${n}`));
    serial.close();

    // No client again: the log keeps filling.
    await waitTick(log, await lastTick(log));

    // VNC: RFB 3.8, security type None offered, a screen of some size, not all black.
    const vncInfo = await driver.getConsole(vm.uuid, 'vnc');
    assert.equal(vncInfo.internal_access_path, consoleSockets(dir).vnc);
    const screen = await rfbHandshake(vncInfo.internal_access_path!);
    assert.ok(screen.width > 0 && screen.height > 0, `screen ${screen.width}x${screen.height}`);
    assert.match(screen.name, new RegExp(vm.uuid));
    assert.ok(screen.litPixels > 0, 'the screen shows something');

    // A restart of the driver: the adopted guest keeps its sockets.
    await driver.close();
    driver = new QemuDriver(opts);
    await driver.init(host);
    assert.deepEqual(await driver.getConsole(vm.uuid, 'serial'), serialInfo);
    serial = await Client.open(serialInfo.internal_access_path!);
    serial.write('\r');
    await serial.expect(/con-vm:~# /, 5000);
    serial.close();

    await driver.pause(vm.uuid);
    await assert.rejects(driver.getConsole(vm.uuid, 'vnc'), { name: 'Conflict', message: /is paused: unpause it/ });
    await driver.unpause(vm.uuid);
    await assert.rejects(driver.getConsole(vm.uuid, 'spice' as 'vnc'), { name: 'Invalid' });

    // A guest started before consoles existed (as an older nova-ts did): Conflict, and it
    // suspends and resumes with the devices it had.
    await driver.powerOff(vm.uuid, 0);
    await assert.rejects(driver.getConsole(vm.uuid, 'serial'), { name: 'Conflict', message: /is shut off: start it/ });
    const def = JSON.parse(await readFile(guestFiles(dir).definition, 'utf8')) as GuestDefinition;
    assert.equal(def.consoles, true);
    const old: GuestDefinition = { ...def, consoles: undefined };
    await writeFile(guestFiles(dir).definition, JSON.stringify(old));
    await launch(opts.config.binary, qemuArgs(old, dir));
    await assert.rejects(driver.getConsole(vm.uuid, 'vnc'), { name: 'Conflict', message: /a hard reboot, or a stop and start, gives it one/ });
    await driver.suspend(vm.uuid);
    await assert.rejects(driver.getConsole(vm.uuid, 'serial'), { name: 'Conflict', message: /is suspended: resume it/ });
    await driver.resume(vm.uuid);
    assert.equal(await driver.powerState(vm.uuid), 1);
    await assert.rejects(driver.getConsole(vm.uuid, 'serial'), /gives it one/);
    await driver.reboot(vm.uuid, 'HARD');
    assert.equal((await driver.getConsole(vm.uuid, 'serial')).internal_access_path, serialInfo.internal_access_path);
    // ...and with consoles, a suspend and resume keeps them.
    await driver.suspend(vm.uuid);
    await driver.resume(vm.uuid);
    await rfbHandshake((await driver.getConsole(vm.uuid, 'vnc')).internal_access_path!, false);

    await driver.destroy(vm.uuid);
    assert.ok(!existsSync(serialInfo.internal_access_path!) && !existsSync(vncInfo.internal_access_path!), 'sockets removed');
  } finally {
    await driver.destroy(vm.uuid).catch(() => undefined);
    await driver.close();
    await rm(dirname(consoleSockets(dir).vnc), { recursive: true, force: true });
    await rm(base, { recursive: true, force: true });
  }
});

/** A raw client of a unix socket that keeps everything it has received. */
class Client {
  private got = '';
  private constructor(private readonly sock: Socket) {
    sock.setEncoding('latin1').on('data', (d: string) => (this.got += d));
  }
  static open(path: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const sock = connect(path, () => resolve(new Client(sock)));
      sock.once('error', reject);
    });
  }
  write(s: string): void {
    this.sock.write(s);
  }
  async expect(re: RegExp, ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (!re.test(this.got)) {
      if (Date.now() > until) assert.fail(`serial did not show ${re} within ${ms} ms; got:\n${this.got.slice(-1000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  close(): void {
    this.sock.destroy();
  }
}

/** The guest's last `tick-N` line in the console log (its live file and the rotated part). */
async function lastTick(log: string): Promise<number> {
  const text = (await readFile(`${log}.0`, 'utf8').catch(() => '')) + (await readFile(log, 'utf8'));
  return Math.max(0, ...[...text.matchAll(/tick-(\d+)/g)].map((m) => Number(m[1])));
}

/** Waits (10 s at most) until the guest has logged a tick after `after`. */
async function waitTick(log: string, after: number): Promise<void> {
  const until = Date.now() + 10_000;
  while ((await lastTick(log)) <= after) {
    if (Date.now() > until) assert.fail(`the console log shows no tick after tick-${after} within 10 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function waitFile(path: string, re: RegExp, ms: number): Promise<string> {
  const until = Date.now() + ms;
  let text = '';
  while (Date.now() < until) {
    text = await readFile(path, 'utf8').catch(() => '');
    if (re.test(text)) return text;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${path} did not show ${re} within ${ms} ms; it shows:\n${text.slice(-1500)}`);
}

/**
 * The RFB 3.8 handshake as a viewer does it (version, security type None, ClientInit shared)
 * and, with `frame`, one full raw framebuffer update: the screen's size, name and how many of
 * its bytes are not black.
 */
async function rfbHandshake(path: string, frame = true): Promise<{ width: number; height: number; name: string; litPixels: number }> {
  const sock = connect(path);
  let buf = Buffer.alloc(0);
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake?.();
  });
  sock.on('error', (e) => ((failure = e), wake?.()));
  const read = async (n: number): Promise<Buffer> => {
    const until = Date.now() + 10_000;
    while (buf.length < n) {
      if (failure) throw failure;
      if (Date.now() > until) assert.fail(`VNC server sent ${buf.length} of ${n} bytes`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
    const out = buf.subarray(0, n);
    buf = buf.subarray(n);
    return out;
  };
  try {
    assert.equal((await read(12)).toString('latin1'), 'RFB 003.008\n');
    sock.write('RFB 003.008\n');
    const types = [...(await read((await read(1))[0]))];
    assert.ok(types.includes(1), `security types ${types} include None (1)`);
    sock.write(Buffer.from([1]));
    assert.equal((await read(4)).readUInt32BE(0), 0, 'SecurityResult OK');
    sock.write(Buffer.from([1])); // ClientInit: shared
    const init = await read(24);
    const width = init.readUInt16BE(0);
    const height = init.readUInt16BE(2);
    const bpp = init[4];
    const name = (await read(init.readUInt32BE(20))).toString('utf8');
    let litPixels = 0;
    if (frame) {
      // FramebufferUpdateRequest, not incremental, the whole screen (raw encoding by default).
      const req = Buffer.alloc(10);
      req[0] = 3;
      req.writeUInt16BE(width, 6);
      req.writeUInt16BE(height, 8);
      sock.write(req);
      const head = await read(4);
      assert.equal(head[0], 0, 'FramebufferUpdate');
      for (let r = head.readUInt16BE(2); r > 0; r--) {
        const rect = await read(12);
        const encoding = rect.readInt32BE(8);
        if (encoding !== 0) continue; // pseudo-encodings carry no pixels here
        const pixels = await read(rect.readUInt16BE(4) * rect.readUInt16BE(6) * (bpp / 8));
        for (const b of pixels) if (b !== 0) litPixels++;
      }
    }
    return { width, height, name, litPixels };
  } finally {
    sock.destroy();
  }
}
