/**
 * End to end with the real `openstack` CLI against nova-ts running real QEMU guests (tiny-linux,
 * TCG on machines without KVM), as a user would: boot with user data, read the console, every
 * power action, a crash of nova-ts that the guests outlive, delete, and images the driver must
 * refuse. One cloud, one guest walked through the steps in order (each step needs the last);
 * what QEMU does is checked from outside through /proc, never through QMP (the driver holds it).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeCli, type CliResult, type CloudProcess } from '../helpers/process.js';
import { startQemuE2e, type QemuE2e } from '../helpers/qemu-e2e.js';
import { cpuTicks, guestPids, isLiveQemu, qemuSkipReason } from '../helpers/qemu.js';

const skip = qemuSkipReason();
const CLOUD_ARGS = ['--driver', 'qemu', '--shutdown-timeout', '20'];
/** The first build of tiny-linux downloads a kernel: give the first start time for it. */
const FIRST_START_MS = 600_000;
const BOOT = ['--flavor', 'm1.tiny', '--image', 'tiny-linux', '--nic', 'none'];
const BANNER = /=== tiny-linux \S+ up: [^\n]*===/g;
/**
 * The user data: a marker once, then a counter every second for as long as the guest runs,
 * with a little work each second so that the running guest measurably uses CPU (an idle TCG
 * guest may use none for seconds).
 */
const SCRIPT = [
  '#!/bin/sh',
  'echo "e2e-user-data-ran-$((6*7))"',
  'i=0',
  'while :; do',
  '  i=$((i+1)); echo "e2e-tick-$i"',
  '  j=0; while [ $j -lt 2000 ]; do j=$((j+1)); done',
  '  sleep 1',
  'done',
  '',
].join('\n');

let e2e: QemuE2e | undefined;
let cloud: CloudProcess | undefined;
let dataDir = '';
let work = '';
/** vm1's uuid, once created. */
let vm1 = '';

function c(): CloudProcess {
  assert.ok(cloud, 'the cloud is not running (see the before hook or an earlier step)');
  return cloud;
}

async function ok(args: string[]): Promise<CliResult> {
  const r = await c().cli(args);
  assert.equal(r.code, 0, describeCli(r));
  return r;
}

async function fails(args: string[]): Promise<CliResult> {
  const r = await c().cli(args);
  assert.notEqual(r.code, 0, `expected a failure: ${describeCli(r)}`);
  return r;
}

const show = async (ref: string) => (await ok(['server', 'show', ref, '-f', 'json'])).json;

/** Polls `server show` until the status is `want`; fails on an unexpected ERROR or after timeoutMs. */
async function waitStatus(ref: string, want: string, timeoutMs = 90_000): Promise<any> {
  const end = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < end) {
    last = await show(ref);
    if (last.status === want) return last;
    if (want !== 'ERROR') assert.notEqual(last.status, 'ERROR', `server ${ref} went to ERROR: ${JSON.stringify(last.fault ?? last)}`);
    await sleep(500);
  }
  assert.fail(`server ${ref} did not reach ${want} within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

const consoleLog = async (ref: string, lines?: number) =>
  (await ok(['console', 'log', 'show', ...(lines === undefined ? [] : ['--lines', String(lines)]), ref])).stdout;

/** Polls the console log until check(log) is true; fails after timeoutMs with the log's tail. */
async function waitConsole(ref: string, what: string, check: (log: string) => boolean, timeoutMs = 60_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let log = '';
  while (Date.now() < end) {
    log = await consoleLog(ref);
    if (check(log)) return log;
    await sleep(1000);
  }
  assert.fail(`the console of ${ref} did not show ${what} within ${timeoutMs} ms; its end:\n${log.slice(-3000)}`);
}

const count = (log: string, re: RegExp) => (log.match(new RegExp(re.source, 'g')) ?? []).length;
const banners = (log: string) => count(log, BANNER);
const lastTick = (log: string) => Math.max(0, ...[...log.matchAll(/e2e-tick-(\d+)/g)].map((m) => Number(m[1])));
const guestDir = (uuid: string) => join(dataDir, 'qemu', 'host1', uuid);

/** The one QEMU process of a guest (fails when there is none or more than one). */
function onePid(uuid: string): number {
  const pids = guestPids(uuid);
  assert.equal(pids.length, 1, `expected one QEMU process for ${uuid}, found ${JSON.stringify(pids)}`);
  return pids[0];
}

/** CPU ticks the process used over ms milliseconds. */
async function ticksOver(pid: number, ms: number): Promise<number> {
  const a = cpuTicks(pid);
  await sleep(ms);
  return cpuTicks(pid) - a;
}

describe('openstack CLI against nova-ts with the qemu driver', { skip, timeout: 900_000 }, () => {
  before(async () => {
    e2e = await startQemuE2e({ name: 'qe2e', args: CLOUD_ARGS, readyTimeoutMs: FIRST_START_MS });
    ({ cloud, dataDir, work } = e2e);
  });

  after(async () => {
    await e2e?.stop();
  });

  // The refused images run beside vm1's power actions (they start no QEMU); the crash of
  // nova-ts comes after both, as it would cut their requests short.
  describe('while vm1 runs', { concurrency: true }, () => {
    describe('vm1: boot, console, power actions', { concurrency: false }, () => {
      test('server create --user-data --wait boots tiny-linux; the console log shows the kernel and the script', async () => {
        const script = join(work, 'script.sh');
        writeFileSync(script, SCRIPT);
        const made = (await ok(['server', 'create', ...BOOT, '--user-data', script, '--wait', 'vm1', '-f', 'json'])).json;
        assert.equal(made.status, 'ACTIVE', JSON.stringify(made));
        vm1 = made.id;
        assert.equal(made['OS-EXT-SRV-ATTR:host'], 'host1');
        onePid(vm1);
        const log = await waitConsole('vm1', 'the kernel boot and the user data', (l) => /Linux version/.test(l) && /e2e-user-data-ran-42/.test(l));
        assert.equal(banners(log), 1, `one boot, one banner: ${log.slice(-2000)}`);
        assert.match(log, /=== tiny-linux vm1 up: no network ===/);

        const tail = await consoleLog('vm1', 5);
        const lines = tail.replace(/\n$/, '').split('\n');
        assert.ok(lines.length <= 5 && lines.length >= 1, `--lines 5 printed ${lines.length} lines:\n${tail}`);
        // The tail is the end of the log: the counter keeps printing, so it holds a tick.
        await sleep(1500);
        assert.match(await consoleLog('vm1', 5), /e2e-tick-\d+/);
      });

      test('server stop powers the guest off (no QEMU left); start boots it again', async () => {
        await ok(['server', 'stop', 'vm1']);
        const off = await waitStatus('vm1', 'SHUTOFF');
        assert.ok([4, 'Shutdown'].includes(off['OS-EXT-STS:power_state']), `power_state ${off['OS-EXT-STS:power_state']}`);
        assert.deepEqual(guestPids(vm1), [], 'a QEMU process is left for the stopped server');
        // The guest shut down by itself on the ACPI power button (not killed after the timeout).
        assert.match(await consoleLog('vm1'), /ACPI power button pressed/);

        await ok(['server', 'start', 'vm1']);
        await waitStatus('vm1', 'ACTIVE');
        onePid(vm1);
        await waitConsole('vm1', 'a second banner', (l) => banners(l) === 2);
      });

      test('server reboot (soft) and reboot --hard each boot the guest again', async () => {
        const before = onePid(vm1);
        await ok(['server', 'reboot', '--wait', 'vm1']);
        assert.equal((await show('vm1')).status, 'ACTIVE');
        await waitConsole('vm1', 'a third banner after the soft reboot', (l) => banners(l) === 3);
        const soft = onePid(vm1);
        assert.notEqual(soft, before, 'a soft reboot powers the guest off and starts a new QEMU');

        await ok(['server', 'reboot', '--hard', '--wait', 'vm1']);
        assert.equal((await show('vm1')).status, 'ACTIVE');
        await waitConsole('vm1', 'a fourth banner after the hard reboot', (l) => banners(l) === 4);
        assert.notEqual(onePid(vm1), soft);
      });

      test('server pause stops the vCPUs (the QEMU process uses no CPU); unpause resumes them', async () => {
        const pid = onePid(vm1);
        // The user data's counter works every second: the running guest uses a few ticks a second.
        const running = await ticksOver(pid, 2000);
        assert.ok(running >= 3, `the running guest used only ${running} CPU ticks in 2 s`);
        await ok(['server', 'pause', 'vm1']);
        const paused = await waitStatus('vm1', 'PAUSED');
        assert.ok([3, 'Paused'].includes(paused['OS-EXT-STS:power_state']), `power_state ${paused['OS-EXT-STS:power_state']}`);
        assert.equal(onePid(vm1), pid, 'pausing keeps the QEMU process');
        // Stopped vCPUs use nothing; one tick of slack for the main loop answering a QMP query.
        const used = await ticksOver(pid, 2500);
        assert.ok(used <= 1, `the paused guest used ${used} CPU ticks in 2.5 s`);
        const tick = lastTick(await consoleLog('vm1'));
        await sleep(1500);
        assert.equal(lastTick(await consoleLog('vm1')), tick, 'the user-data counter went on while paused');

        await ok(['server', 'unpause', 'vm1']);
        await waitStatus('vm1', 'ACTIVE');
        await waitConsole('vm1', `the counter past ${tick}`, (l) => lastTick(l) > tick, 20_000);
        const again = await ticksOver(pid, 2000);
        assert.ok(again >= 3, `the unpaused guest used only ${again} CPU ticks in 2 s`);
      });

      test('server suspend saves the memory and ends QEMU; resume continues the same boot', async () => {
        await ok(['server', 'suspend', 'vm1']);
        const off = await waitStatus('vm1', 'SUSPENDED');
        // Nova's libvirt driver reports a saved guest as shut down; SUSPENDED (7) says more.
        assert.ok([4, 7, 'Shutdown', 'Suspended'].includes(off['OS-EXT-STS:power_state']), `power_state ${off['OS-EXT-STS:power_state']}`);
        assert.deepEqual(guestPids(vm1), [], 'a suspended server has no QEMU process');
        assert.ok(existsSync(join(guestDir(vm1), 'memory.state')), `no memory.state in ${guestDir(vm1)}`);
        const before = await consoleLog('vm1');
        const tick = lastTick(before);
        assert.ok(tick > 0, 'the counter ran before the suspend');

        await ok(['server', 'resume', 'vm1']);
        await waitStatus('vm1', 'ACTIVE');
        onePid(vm1);
        // The same boot goes on: the counter continues from where it was, no new kernel, no new banner.
        const log = await waitConsole('vm1', `the counter past ${tick}`, (l) => lastTick(l) > tick, 30_000);
        assert.equal(banners(log), banners(before), 'resume booted the guest again');
        assert.equal(count(log, /Linux version/), count(before, /Linux version/), 'resume booted a new kernel');
        assert.ok(!existsSync(join(guestDir(vm1), 'memory.state')), 'memory.state is left after the resume');
      });

    });

    describe('images and flavors the driver must refuse', { concurrency: false }, () => {
      test("a flavor smaller than the image's min_ram or min_disk is refused with a 400", async () => {
        const file = join(work, 'small.raw');
        writeFileSync(file, Buffer.alloc(65536));
        await ok(['image', 'create', '--disk-format', 'raw', '--container-format', 'bare', '--min-ram', '4096', '--file', file, 'needs-ram']);
        await ok(['image', 'create', '--disk-format', 'raw', '--container-format', 'bare', '--min-disk', '50', '--file', file, 'needs-disk']);
        const ram = await fails(['server', 'create', '--flavor', 'm1.tiny', '--image', 'needs-ram', '--nic', 'none', 'too-small-ram']);
        assert.match(ram.stderr, /Flavor's memory is too small for requested image\./, describeCli(ram));
        assert.match(ram.stderr, /HTTP 400/, describeCli(ram));
        const disk = await fails(['server', 'create', '--flavor', 'm1.tiny', '--image', 'needs-disk', '--nic', 'none', 'too-small-disk']);
        assert.match(disk.stderr, /Flavor's disk is too small for requested image\./, describeCli(disk));
        assert.match(disk.stderr, /HTTP 400/, describeCli(disk));
        const list = (await ok(['server', 'list', '-f', 'json'])).json as any[];
        assert.ok(!list.some((s) => /^too-small/.test(s.Name)), `a refused create left a server: ${JSON.stringify(list)}`);
      });

      test('a corrupt qcow2 and a disk with no boot sector: ERROR with a fault that says why, nothing left', async () => {
        // A qcow2 header (magic QFI\xfb, version 3) followed by garbage.
        const corrupt = Buffer.alloc(65536, 0xa5);
        Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]).copy(corrupt, 0);
        writeFileSync(join(work, 'corrupt.qcow2'), corrupt);
        writeFileSync(join(work, 'zeros.raw'), Buffer.alloc(1048576));
        await ok(['image', 'create', '--disk-format', 'qcow2', '--container-format', 'bare', '--file', join(work, 'corrupt.qcow2'), 'corrupt-qcow2']);
        await ok(['image', 'create', '--disk-format', 'raw', '--container-format', 'bare', '--file', join(work, 'zeros.raw'), 'no-boot-sector']);

        const cases: [string, string, RegExp][] = [
          ['corrupt-qcow2', 'bad-qcow2', /not a valid qcow2|corrupt qcow2/i],
          ['no-boot-sector', 'bad-boot', /cannot boot/i],
        ];
        await Promise.all(
          cases.map(async ([image, name, why]) => {
            const made = (await ok(['server', 'create', '--flavor', 'm1.tiny', '--image', image, '--nic', 'none', name, '-f', 'json'])).json;
            const shown = await waitStatus(made.id, 'ERROR');
            assert.ok(shown.fault, `no fault on ${name}: ${JSON.stringify(shown)}`);
            assert.match(String(shown.fault.message), why, `fault of ${name}: ${JSON.stringify(shown.fault)}`);
            assert.ok(!existsSync(guestDir(made.id)), `${guestDir(made.id)} is left after the failed build`);
            assert.deepEqual(guestPids(made.id), [], `a QEMU process is left for ${name}`);
          }),
        );
      });
    });
  });

  test('SIGKILL of nova-ts leaves the guest running; nova-ts restarted on the data dir finds it', async () => {
    const pid = onePid(vm1);
    const bannersBefore = banners(await consoleLog('vm1'));
    // Only nova-ts's own node process (QEMU runs in a session of its own).
    process.kill(c().pid, 'SIGKILL');
    const exit = await c().stop({ keepDataDir: true });
    assert.equal(exit.signal, 'SIGKILL');
    cloud = undefined;
    await sleep(1000);
    assert.ok(isLiveQemu(pid), `QEMU ${pid} died with nova-ts`);

    cloud = await e2e!.restart();
    assert.equal((await show('vm1')).status, 'ACTIVE');
    assert.equal(onePid(vm1), pid, 'the restarted nova-ts started another QEMU');
    // Past a power-state sync pass it is still ACTIVE, and it was not rebooted.
    await sleep(11_000);
    assert.equal((await show('vm1')).status, 'ACTIVE');
    assert.equal(banners(await consoleLog('vm1')), bannersBefore);

    await ok(['server', 'stop', 'vm1']);
    await waitStatus('vm1', 'SHUTOFF');
    assert.deepEqual(guestPids(vm1), []);
    assert.ok(!isLiveQemu(pid));
    await ok(['server', 'start', 'vm1']);
    await waitStatus('vm1', 'ACTIVE');
    onePid(vm1);
    await waitConsole('vm1', 'a new banner after start', (l) => banners(l) === bannersBefore + 1);
  });

  test('server delete --wait leaves no guest directory and no QEMU process', async () => {
    await ok(['server', 'delete', '--wait', 'vm1']);
    const gone = await fails(['server', 'show', vm1]);
    assert.match(gone.stderr, /No server with a name or ID/, describeCli(gone));
    assert.deepEqual(guestPids(vm1), []);
    assert.deepEqual(readdirSync(join(dataDir, 'qemu', 'host1')), []);
  });

});
