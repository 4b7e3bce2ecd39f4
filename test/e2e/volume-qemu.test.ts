/**
 * End to end with the real `openstack` CLI against nova-ts running real QEMU guests (tiny-linux,
 * TCG where there is no KVM): data on a volume outlives the guest that wrote it. vm1's user data
 * waits for the volume's disk (found by its serial, the volume id's first 20 characters: the
 * guest's device name need not be the one Nova reports, the config drive is a virtio disk too)
 * and writes a marker to it; after `server remove volume` and `server add volume vm2`, vm2's
 * user data reads the marker back and prints it on its console. Beside it, a guest boots from a
 * volume made from tiny-linux. Steps within a flow run in order; the two flows run at once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cliSteps } from '../helpers/cli-steps.js';
import { type CloudProcess } from '../helpers/process.js';
import { startQemuE2e, type QemuE2e } from '../helpers/qemu-e2e.js';
import { guestPids, qemuSkipReason } from '../helpers/qemu.js';

const skip = qemuSkipReason();
const CLOUD_ARGS = ['--driver', 'qemu', '--shutdown-timeout', '10'];
/** The first build of tiny-linux downloads a kernel: give the first start time for it. */
const FIRST_START_MS = 600_000;
const json = ['-f', 'json'];
const MARKER = `nova-ts-marker-${randomBytes(6).toString('hex')}`;

/** Shell for the user data: sets $dev to the disk whose serial is $1 once it appears. */
const FIND_DISK = [
  'find_disk() {',
  '  while :; do',
  '    for d in /sys/block/vd*; do',
  '      if [ "$(cat "$d/serial" 2>/dev/null)" = "$1" ]; then dev=/dev/${d##*/}; return 0; fi',
  '    done',
  '    sleep 1',
  '  done',
  '}',
];
const writer = (serial: string) =>
  ['#!/bin/sh', ...FIND_DISK, `find_disk ${serial}`, `echo ${MARKER} > "$dev"`, 'sync', 'echo "marker written to $dev"', ''].join('\n');
const reader = (serial: string) =>
  ['#!/bin/sh', ...FIND_DISK, `find_disk ${serial}`, 'echo "read from $dev: $(head -n 1 "$dev")"', ''].join('\n');

let e2e: QemuE2e | undefined;
let cloud: CloudProcess | undefined;
let work = '';

function c(): CloudProcess {
  assert.ok(cloud, 'the cloud is not running (see the before hook)');
  return cloud;
}

const { ok, batch, waitConsoleLog } = cliSteps(c);

/** Waits until each server / volume named has the status given; fails at once on ERROR / error*. */
async function statuses(want: [kind: 'server' | 'volume', ref: string, status: string][], timeoutMs = 120_000): Promise<any[]> {
  const end = Date.now() + timeoutMs;
  let last: any[] = [];
  while (Date.now() < end) {
    last = (await batch(want.map(([kind, ref]) => [kind, 'show', ref, ...json]), want.length)).json;
    if (last.every((o, i) => o.status === want[i][2])) return last;
    const failed = last.find((o) => /^error/i.test(String(o.status)));
    assert.ok(!failed, `went to ${failed?.status}: ${JSON.stringify(failed?.fault ?? failed)}`);
    await sleep(1000);
  }
  assert.fail(`not ${JSON.stringify(want)} within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

describe('openstack CLI: volumes on real QEMU guests', { skip, timeout: 600_000 }, () => {
  before(async () => {
    e2e = await startQemuE2e({ name: 'volq', args: CLOUD_ARGS, readyTimeoutMs: FIRST_START_MS });
    cloud = e2e.cloud;
    work = e2e.work;
  });

  after(async () => {
    await e2e?.stop();
  });

  describe('two flows at once', { concurrency: true }, () => {
    test('vm1 writes a marker to v1; after remove volume / add volume, vm2 reads it back', async () => {
      const [v1] = (await batch([['volume', 'create', '--size', '1', 'v1', ...json]], 1)).json;
      const serial = String(v1.id).slice(0, 20);
      writeFileSync(join(work, 'writer.sh'), writer(serial));
      writeFileSync(join(work, 'reader.sh'), reader(serial));
      const BOOT = ['--flavor', 'm1.tiny', '--image', 'tiny-linux', '--nic', 'none'];
      // vm2 boots now too: its user data waits for the disk.
      await batch(
        [
          ['server', 'create', ...BOOT, '--user-data', join(work, 'writer.sh'), 'vm1', ...json],
          ['server', 'create', ...BOOT, '--user-data', join(work, 'reader.sh'), 'vm2', ...json],
        ],
        2,
      );
      const [, vm1] = await statuses([['volume', 'v1', 'available'], ['server', 'vm1', 'ACTIVE']]);
      await waitConsoleLog('vm1', /running user data/);

      const [added, used] = (await batch([['server', 'add', 'volume', 'vm1', 'v1', ...json], ['volume', 'show', 'v1', ...json]], 2)).json;
      assert.equal(added.Device ?? added.device, '/dev/vdb', JSON.stringify(added));
      assert.equal(used.status, 'in-use');
      assert.deepEqual(used.attachments.map((a: any) => [a.server_id, a.device]), [[vm1.id, '/dev/vdb']]);
      // The guest's disk watcher sees a 1 GiB disk with the volume's serial, and the user data writes to it.
      const log1 = await waitConsoleLog('vm1', /marker written to \/dev\/vd[a-z]/);
      assert.match(log1, new RegExp(`=== disk vd[a-z] attached serial ${serial} size 1024 MiB ===`), log1.slice(-3000));

      await ok(['server', 'remove', 'volume', 'vm1', 'v1']);
      assert.deepEqual((await statuses([['volume', 'v1', 'available']]))[0].attachments, []);
      await waitConsoleLog('vm1', /=== disk vd[a-z] detached ===/, 30_000);

      const [vm2] = await statuses([['server', 'vm2', 'ACTIVE']]);
      await ok(['server', 'add', 'volume', 'vm2', 'v1']);
      const [onVm2] = await statuses([['volume', 'v1', 'in-use']]);
      assert.deepEqual(onVm2.attachments.map((a: any) => a.server_id), [vm2.id]);
      const log2 = await waitConsoleLog('vm2', /read from \/dev\/vd[a-z]: /);
      assert.match(log2, new RegExp(`read from /dev/vd[a-z]: ${MARKER}`), log2.slice(-3000));

      await ok(['server', 'remove', 'volume', 'vm2', 'v1']);
      await statuses([['volume', 'v1', 'available']]);
      await batch([['server', 'delete', '--wait', 'vm1', 'vm2'], ['volume', 'delete', 'v1']], 0);
      assert.deepEqual([...guestPids(vm1.id), ...guestPids(vm2.id)], []);
    });

    test('a volume made from tiny-linux boots a server (server create --volume --config-drive): ACTIVE, the banner with its name on its console', async () => {
      const [bootvol] = (await batch([['volume', 'create', '--image', 'tiny-linux', '--size', '1', 'bootvol', ...json]], 1)).json;
      const [ready] = await statuses([['volume', 'bootvol', 'available']]);
      assert.equal(String(ready.bootable), 'true');
      // The config drive (a virtio disk too) gives the guest its name, which the banner shows.
      await ok(['server', 'create', '--flavor', 'm1.tiny', '--volume', 'bootvol', '--nic', 'none', '--config-drive', 'True', 'vm3']);
      const [vm3, used] = await statuses([['server', 'vm3', 'ACTIVE'], ['volume', 'bootvol', 'in-use']]);
      assert.deepEqual((vm3.volumes_attached as any[]).map((a) => a.id), [bootvol.id]);
      assert.equal(used.attachments[0].device, '/dev/vda');
      assert.equal(guestPids(vm3.id).length, 1, 'one QEMU for vm3');
      const log = await waitConsoleLog('vm3', /=== tiny-linux vm3 up: [^\n]*===/);
      assert.match(log, /Linux version/);

      await ok(['server', 'delete', '--wait', 'vm3']);
      assert.deepEqual(guestPids(vm3.id), []);
      const [kept] = await statuses([['volume', 'bootvol', 'available']]);
      assert.deepEqual(kept.attachments, []);
      await batch([['volume', 'delete', 'bootvol']], 0);
    });
  });
});
