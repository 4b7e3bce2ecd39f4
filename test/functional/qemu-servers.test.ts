/**
 * Servers on real QEMU guests (tiny-linux; TCG on machines without KVM) through the HTTP API of
 * a whole cloud in this process: user data and the console output action, the hypervisor as
 * os-hypervisors reports it, and a snapshot of a running server that boots a second server.
 * QEMU is daemonized and outlives the cloud, so after() kills, by PID, every QEMU whose command
 * line names this cloud's data dir.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultConfig } from '../../src/config.js';
import type { QemuDriver } from '../../src/virt/qemu/driver.js';
import { startTestCloud, waitFor, type TestCloud } from '../helpers/cloud.js';
import { GUEST_IMAGE_CACHE, guestPids, killQemusOf, qemuSkipReason } from '../helpers/qemu.js';

const skip = qemuSkipReason();
const BANNER = /=== tiny-linux (\S+) up: [^\n]*===/;
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Nova's _tail_log: the last n pieces of the log split on newlines. */
const novaTail = (log: string, n: number) => log.split('\n').slice(-n).join('\n');

/** True when this machine would run guests with KVM (the driver's own rule: CPU flag and /dev/kvm). */
function expectKvm(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return false;
  }
  return /^flags\s*:.*\b(vmx|svm)\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
}

describe('servers on the qemu driver', { skip, timeout: 900_000 }, () => {
  let tc: TestCloud;
  /** Where the driver keeps its guests: <root>/host1/<uuid>. */
  let root = '';
  let tiny: any;
  /** A running server shared by the tests below (created by the first). */
  let vm = '';

  const act = (id: string, body: unknown, mv = '2.1') =>
    tc.admin.post(`/compute/v2.1/servers/${id}/action`, body, { 'openstack-api-version': `compute ${mv}` });
  const server = async (id: string) => (await tc.admin.get(`/compute/v2.1/servers/${id}`)).body.server;
  const consoleOut = (id: string, length?: unknown) =>
    act(id, { 'os-getConsoleOutput': length === undefined ? {} : { length } });

  async function waitStatus(id: string, want: string, timeoutMs = 90_000): Promise<any> {
    return waitFor(
      async () => {
        const s = await server(id);
        assert.notEqual(s.status, 'ERROR', `server ${id} went to ERROR: ${JSON.stringify(s.fault ?? s)}`);
        return s.status === want ? s : undefined;
      },
      `server ${id} ${want}`,
      timeoutMs,
      250,
    );
  }

  async function waitConsole(id: string, what: string, check: (out: string) => boolean, timeoutMs = 60_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    let out = '';
    while (Date.now() < end) {
      const r = await consoleOut(id);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      out = r.body.output;
      if (check(out)) return out;
      await sleep(500);
    }
    assert.fail(`the console of ${id} did not show ${what} within ${timeoutMs} ms; its end:\n${out.slice(-3000)}`);
  }

  async function boot(name: string, imageRef: string, extra: Record<string, unknown> = {}): Promise<string> {
    const r = await tc.admin.post('/compute/v2.1/servers', { server: { name, imageRef, flavorRef: '1', ...extra } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return r.body.server.id;
  }

  before(async () => {
    tc = await startTestCloud({
      driver: 'qemu',
      qemu: { ...defaultConfig().qemu, shutdownTimeoutSec: 20, guestImageDir: GUEST_IMAGE_CACHE },
    });
    root = (tc.cloud.drivers.get('host1') as QemuDriver).opts.root;
    tiny = (await tc.admin.get('/image/v2/images?name=tiny-linux')).body.images[0];
    assert.ok(tiny, 'tiny-linux is not registered');
  });

  after(async () => {
    try {
      await tc?.close();
    } finally {
      if (root) {
        const killed = killQemusOf(root);
        if (killed.length) console.log(`killed QEMU processes left by this test: ${killed.join(', ')}`);
      }
    }
  });

  it('a server with user data boots; os-getConsoleOutput gives the whole log or its last lines', async () => {
    const script = '#!/bin/sh\necho "func-user-data-$((6*7))"\n';
    vm = await boot('func-vm', tiny.id, { user_data: b64(script) });
    // Before the guest is up (BUILD), Nova answers 409: the instance is not ready.
    const early = await consoleOut(vm);
    if (early.status === 409) assert.match(early.body.conflictingRequest.message, new RegExp(`Instance ${vm} is not ready`));
    else {
      assert.equal(early.status, 200, JSON.stringify(early.body));
      assert.notEqual((await server(vm)).status, 'BUILD', 'console output of a server still building');
    }

    const active = await waitStatus(vm, 'ACTIVE');
    assert.equal(active['OS-EXT-SRV-ATTR:host'], 'host1');
    assert.equal(guestPids(vm).length, 1, 'one QEMU process for the server');
    const full = await waitConsole(vm, 'the banner and the user data', (o) => BANNER.test(o) && /user data exited with status 0/.test(o));
    assert.match(full, /Linux version/);
    assert.match(full, /func-user-data-42/);
    assert.equal(BANNER.exec(full)?.[1], 'func-vm', 'the guest took its hostname from the config drive');

    // length: the last pieces of the log, as Nova's _tail_log (compared while the log holds still).
    let checked = false;
    for (let i = 0; i < 10 && !checked; i++) {
      const a = (await consoleOut(vm)).body.output as string;
      const five = await consoleOut(vm, 5);
      const three = await consoleOut(vm, '3');
      const b = (await consoleOut(vm)).body.output as string;
      assert.equal(five.status, 200, JSON.stringify(five.body));
      assert.equal(three.status, 200, JSON.stringify(three.body));
      assert.ok(five.body.output.split('\n').length <= 5, five.body.output);
      assert.ok(three.body.output.split('\n').length <= 3, three.body.output);
      if (a !== b) continue;
      assert.equal(five.body.output, novaTail(a, 5));
      assert.equal(three.body.output, novaTail(a, 3));
      assert.ok(a.length > five.body.output.length);
      checked = true;
    }
    assert.ok(checked, 'the console log never held still long enough to compare');
    const all = await consoleOut(vm, -1);
    assert.equal(all.status, 200);
    assert.match(all.body.output, /Linux version[\s\S]*func-user-data-42/);

    for (const bad of [-2, 'abc', 1.5]) {
      const r = await consoleOut(vm, bad);
      assert.equal(r.status, 400, `length ${bad}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.badRequest.message, /length/);
    }
    const missing = await consoleOut(randomUUID());
    assert.equal(missing.status, 404, JSON.stringify(missing.body));
    assert.match(missing.body.itemNotFound.message, /could not be found/);
  });

  it('os-hypervisors shows QEMU with the machine\'s real vCPUs and memory', async () => {
    const r = await tc.admin.get('/compute/v2.1/os-hypervisors/detail');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.hypervisors.length, 1, JSON.stringify(r.body));
    const h = r.body.hypervisors[0];
    assert.equal(h.hypervisor_hostname, 'host1');
    // Nova's libvirt driver names software emulation QEMU and accelerated guests KVM.
    assert.equal(h.hypervisor_type, expectKvm() ? 'KVM' : 'QEMU');
    assert.equal(h.vcpus, cpus().length);
    assert.equal(h.memory_mb, Math.floor(totalmem() / 1048576));
    assert.ok(h.local_gb > 0, JSON.stringify(h));
    const m = /version (\d+)\.(\d+)\.(\d+)/.exec(spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).stdout);
    assert.ok(m);
    assert.equal(h.hypervisor_version, Number(m[1]) * 1_000_000 + Number(m[2]) * 1000 + Number(m[3]));
    assert.equal(h.state, 'up');
    assert.equal(h.status, 'enabled');
    const cpuInfo = typeof h.cpu_info === 'string' ? JSON.parse(h.cpu_info) : h.cpu_info;
    assert.equal(cpuInfo.arch, 'x86_64');
    // The running server of the first test is counted.
    if (vm) assert.ok(h.vcpus_used >= 1 && h.memory_mb_used >= 512, JSON.stringify(h));
  });

  it('createImage of a running server gives an active qcow2 snapshot that boots a second server', async () => {
    if (!vm) {
      vm = await boot('func-vm', tiny.id);
      await waitStatus(vm, 'ACTIVE');
    }
    const bannersBefore = (await waitConsole(vm, 'the banner', (o) => BANNER.test(o))).match(new RegExp(BANNER.source, 'g'))!.length;
    const r = await act(vm, { createImage: { name: 'func-snap', metadata: { purpose: 'functional-test' } } }, '2.45');
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const snapId = r.body.image_id;
    const snap = await waitFor(
      async () => {
        const i = (await tc.admin.get(`/image/v2/images/${snapId}`)).body;
        assert.ok(!['killed', 'deleted'].includes(i.status), JSON.stringify(i));
        return i.status === 'active' ? i : undefined;
      },
      'the snapshot to become active',
      120_000,
      250,
    );
    assert.equal(snap.disk_format, 'qcow2');
    assert.equal(snap.container_format, 'bare');
    assert.equal(snap.image_type, 'snapshot');
    assert.equal(snap.instance_uuid, vm);
    assert.equal(snap.purpose, 'functional-test');
    assert.ok(tiny.kernel_id && tiny.ramdisk_id, `tiny-linux is not AMI-style: ${JSON.stringify(tiny)}`);
    // As Nova: the snapshot keeps the boot image's properties (image_* system metadata), so an
    // AMI-style server's snapshot boots with the same kernel and ramdisk.
    assert.equal(snap.kernel_id, tiny.kernel_id, `the snapshot did not inherit kernel_id: ${JSON.stringify(snap)}`);
    assert.equal(snap.ramdisk_id, tiny.ramdisk_id, `the snapshot did not inherit ramdisk_id: ${JSON.stringify(snap)}`);

    // The data really is a qcow2 image.
    const file = await fetch(`${tc.url}/image/v2/images/${snapId}/file`, { headers: { 'x-auth-token': tc.admin.token } });
    assert.equal(file.status, 200);
    const work = mkdtempSync(join(tmpdir(), 'nova-ts-func-snap-'));
    try {
      writeFileSync(join(work, 'snap'), Buffer.from(await file.arrayBuffer()));
      const info = JSON.parse(spawnSync('qemu-img', ['info', '--output=json', join(work, 'snap')], { encoding: 'utf8' }).stdout);
      assert.equal(info.format, 'qcow2');
      assert.ok(!info['backing-filename'], 'the snapshot depends on a backing file');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }

    // The snapshotted server goes on running the same boot.
    assert.equal((await waitStatus(vm, 'ACTIVE')).status, 'ACTIVE');
    const after = (await consoleOut(vm)).body.output as string;
    assert.equal(after.match(new RegExp(BANNER.source, 'g'))!.length, bannersBefore, 'the snapshot rebooted the server');

    const second = await boot('func-from-snap', snapId, { config_drive: true });
    await waitStatus(second, 'ACTIVE');
    const out = await waitConsole(second, 'the banner', (o) => BANNER.test(o));
    assert.match(out, /Linux version/);
    assert.equal(BANNER.exec(out)?.[1], 'func-from-snap');

    for (const id of [second, vm]) {
      assert.equal((await tc.admin.delete(`/compute/v2.1/servers/${id}`)).status, 204);
    }
    for (const id of [second, vm]) {
      await waitFor(async () => (await tc.admin.get(`/compute/v2.1/servers/${id}`)).status === 404, `server ${id} deleted`, 60_000, 250);
      assert.deepEqual(guestPids(id), [], `a QEMU process is left for deleted server ${id}`);
      assert.ok(!existsSync(join(root, 'host1', id)), `the guest directory of deleted server ${id} is left`);
    }
    vm = '';
  });

  it('power sync: a guest that powers itself off, and one whose QEMU is killed behind nova-ts, become SHUTOFF', async () => {
    // The user data powers the guest off once it is up (busybox poweroff: a clean ACPI S5).
    const selfOff = await boot('func-self-off', tiny.id, { user_data: b64('#!/bin/sh\n(sleep 1; poweroff) &\n') });
    const killed = await boot('func-killed', tiny.id, { config_drive: true });
    await waitStatus(killed, 'ACTIVE');
    await waitConsole(killed, 'the banner', (o) => BANNER.test(o));
    const [pid] = guestPids(killed);
    assert.ok(pid, 'no QEMU process for func-killed');
    process.kill(pid, 'SIGKILL');
    // The test cloud syncs power states every second; a guest's shutdown is seen by the next pass.
    for (const id of [selfOff, killed]) {
      const s = await waitStatus(id, 'SHUTOFF', 60_000);
      assert.equal(s['OS-EXT-STS:power_state'], 4, `power state of ${id}`);
      assert.equal(s['OS-EXT-STS:task_state'], null);
      assert.deepEqual(guestPids(id), [], `a QEMU process is left for ${id}`);
    }
    assert.match((await consoleOut(selfOff)).body.output, /reboot: Power down/);
    // Start works on the killed one: its guest boots again.
    assert.equal((await act(killed, { 'os-start': null })).status, 202);
    await waitStatus(killed, 'ACTIVE');
    assert.equal(guestPids(killed).length, 1);
    for (const id of [selfOff, killed]) assert.equal((await tc.admin.delete(`/compute/v2.1/servers/${id}`)).status, 204);
    for (const id of [selfOff, killed])
      await waitFor(async () => (await tc.admin.get(`/compute/v2.1/servers/${id}`)).status === 404, `server ${id} deleted`, 60_000, 250);
  });
});
