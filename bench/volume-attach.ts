/**
 * Volume attach and detach latency on a running QEMU guest, in the repo:
 *   npm run bench:volume-attach -- --runs 10
 *
 * Drives the qemu driver (src/virt/qemu) directly, in a temporary directory: boots one
 * tiny-linux guest (the image is built once into, or found in, $NOVA_TS_GUEST_IMAGE_DIR or
 * <os tmpdir>/nova-ts-guest-image-cache) and waits for its banner; makes a 1 GiB qcow2 volume
 * file with qemu-img; then --runs times: attachVolume (QMP blockdev-add + device_add) and the
 * time until the guest's disk watcher prints the disk on the serial console (it polls every
 * second, so that figure carries up to 1 s of polling), then detachVolume (device_del, waiting
 * for QEMU's DEVICE_DELETED, i.e. the guest releasing the device, then blockdev-del) and the
 * time until the console shows the disk detached. The console is read every 50 ms.
 * Prints a table and one JSON line. Whatever happens, the guest is destroyed and its QEMU
 * killed by PID, and the directory removed. Accelerator: auto (KVM when /dev/kvm is usable).
 */
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultConfig } from '../src/config.js';
import { contractInstance } from '../src/virt/driver.contract.js';
import { QemuDriver } from '../src/virt/qemu/driver.js';
import { testGuestImage } from '../src/virt/qemu/test-guest.js';
import { guestPids } from '../test/helpers/qemu.js';
import { round, summary } from './lib/stats.js';

const { values: a } = parseArgs({
  options: { runs: { type: 'string', default: '10' }, help: { type: 'boolean', short: 'h' } },
});
if (a.help) {
  console.log('Usage: npm run bench:volume-attach -- [--runs N]   (attach/detach cycles on one running guest, default 10)');
  process.exit(0);
}
const runs = Number(a.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');

const images = await testGuestImage();
const root = mkdtempSync(join(tmpdir(), 'bench-va-'));
const driver = new QemuDriver({ host: 'bench', root, config: defaultConfig().qemu, fetchImage: (id) => images.fetch(id) });
const vm = contractInstance({ image_ref: images.disk.id, image: images.disk, config_drive: true, display_name: 'bench-va', hostname: 'bench-va' });
const volumeId = 'be7c4a11-0000-4000-8000-000000000001';
const serial = volumeId.slice(0, 20);
const file = join(root, 'volume.qcow2');

/** Waits for re in the console after offset `from`; returns the console length at the match. */
async function seen(re: RegExp, from: number, ms = 60_000): Promise<number> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const out = await driver.consoleOutput(vm.uuid);
    const m = re.exec(out.slice(from));
    if (m) return from + m.index + m[0].length;
    await sleep(50);
  }
  throw new Error(`the console did not show ${re} within ${ms} ms`);
}

const cleanup = async () => {
  await driver.destroy(vm.uuid).catch(() => undefined);
  for (const pid of guestPids(vm.uuid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await driver.close();
  rmSync(root, { recursive: true, force: true });
};
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

const ms = { attach_call: [] as number[], attach_seen: [] as number[], detach_call: [] as number[], detach_seen: [] as number[] };
try {
  if (spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', file, '1G']).status !== 0) throw new Error('qemu-img create failed');
  await driver.init('bench');
  const t0 = performance.now();
  await driver.spawn(vm);
  let at = await seen(/=== tiny-linux bench-va up/, 0, 120_000);
  console.log(`guest up in ${Math.round(performance.now() - t0)} ms (accelerator ${driver.accel})`);
  const dev = {
    volume_id: volumeId, device_name: '/dev/vdb', boot_index: null,
    connection_info: { driver_volume_type: 'file' as const, data: { volume_id: volumeId, path: file, format: 'qcow2' as const, access_mode: 'rw' as const, shareable: false } },
  };
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    await driver.attachVolume(vm.uuid, dev);
    ms.attach_call.push(performance.now() - t);
    at = await seen(new RegExp(`=== disk vd[a-z] attached serial ${serial} size 1024 MiB ===`), at);
    ms.attach_seen.push(performance.now() - t);
    t = performance.now();
    await driver.detachVolume(vm.uuid, volumeId);
    ms.detach_call.push(performance.now() - t);
    at = await seen(/=== disk vd[a-z] detached ===/, at);
    ms.detach_seen.push(performance.now() - t);
  }
} finally {
  await cleanup();
}

const sec = (xs: number[]) => summary(xs.map((x) => x / 1000));
const rows: [string, number[]][] = [
  ['attachVolume (blockdev-add + device_add)', ms.attach_call],
  ['attach -> disk on the guest console', ms.attach_seen],
  ['detachVolume (device_del -> DEVICE_DELETED, blockdev-del)', ms.detach_call],
  ['detach -> "detached" on the guest console', ms.detach_seen],
];
console.log(`\n${runs} attach/detach cycles of a 1 GiB qcow2 volume on one running tiny-linux guest (ms)`);
console.log('what'.padEnd(60) + 'p50'.padStart(8) + 'p95'.padStart(8) + 'max'.padStart(8));
for (const [name, xs] of rows) {
  const s = sec(xs);
  console.log(name.padEnd(60) + [s.p50, s.p95, s.max].map((v) => String(round((v ?? 0) * 1000, 0)).padStart(8)).join(''));
}
console.log(JSON.stringify({ bench: 'volume-attach', accel: driver.accel, runs, ...Object.fromEntries(Object.entries(ms).map(([k, xs]) => [k, sec(xs)])) }));
