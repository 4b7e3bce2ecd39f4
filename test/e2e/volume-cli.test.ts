/**
 * End to end with the real `openstack` CLI: volumes (issue 6) on a fake-driver cloud run as a
 * child process, as a user would: create, attach to a server, the in-use rules (no delete, one
 * server at a time unless the type is multiattach), detach, and boot from volume (a new volume
 * made from tiny-linux, kept or deleted with the server as delete_on_termination says, and an
 * existing bootable volume). Independent flows run concurrently, each on its own servers and
 * volumes; the steps within a flow run in order. Most steps run several commands in one CLI
 * process (test/helpers/cli-batch.ts): the Python start-up is most of a command's time.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCliBatch, type BatchResult } from '../helpers/cli-batch.js';
import { REPO_ROOT, describeCli, startCloudProcess, type CliResult, type CloudProcess } from '../helpers/process.js';

const BOOT = ['--flavor', 'm1.tiny', '--image', 'tiny-linux', '--nic', 'none'];
const json = ['-f', 'json'];

let cloud: CloudProcess | undefined;

function c(): CloudProcess {
  assert.ok(cloud, 'the cloud did not start (see the before hook)');
  return cloud;
}

async function ok(args: string[]): Promise<CliResult> {
  const r = await c().cli(args);
  assert.equal(r.code, 0, describeCli(r));
  return r;
}

/**
 * Runs the commands in one CLI process; unless errorsExpected, asserts none of them failed.
 * `want` is how many JSON documents the commands print (those given -f json).
 */
async function batch(commands: string[][], want: number, errorsExpected = false): Promise<BatchResult> {
  const r = await runCliBatch(commands, { cloudsYaml: c().cloudsYaml });
  if (!errorsExpected) assert.equal(r.stderr.trim(), '', `a command failed:\n${r.input}\nstderr: ${r.stderr}`);
  assert.equal(r.json.length, want, `expected ${want} JSON outputs:\n${r.input}\nstdout: ${r.stdout.slice(0, 3000)}\nstderr: ${r.stderr}`);
  return r;
}

/**
 * Runs the `show` commands (one JSON document each) in one CLI process until done(outputs) is
 * true; fails at once when one shows an ERROR / error status, or after timeoutMs.
 */
async function until(commands: string[][], done: (out: any[]) => boolean, timeoutMs = 20_000): Promise<any[]> {
  const end = Date.now() + timeoutMs;
  let last: any[] = [];
  while (Date.now() < end) {
    last = (await batch(commands, commands.length)).json;
    if (done(last)) return last;
    const failed = last.find((o) => /^error/i.test(String(o?.status)));
    assert.ok(!failed, `went to ${failed?.status}: ${JSON.stringify(failed)}`);
    await sleep(300);
  }
  assert.fail(`not reached within ${timeoutMs} ms:\n${commands.map((l) => l.join(' ')).join('\n')}\nlast: ${JSON.stringify(last)}`);
}

/** Waits until each of the servers / volumes named has the status given. */
function statuses(want: [kind: 'server' | 'volume', ref: string, status: string][]): Promise<any[]> {
  return until(
    want.map(([kind, ref]) => [kind, 'show', ref, ...json]),
    (out) => out.every((o, i) => o.status === want[i][2]),
  );
}

/** Waits until none of the volume ids is listed any more. */
async function volumesGone(...ids: string[]): Promise<void> {
  await until([['volume', 'list', '--long', ...json]], ([rows]) => !(rows as any[]).some((r) => ids.includes(r.ID)));
}

const ids = (attached: { id: string }[] | undefined) => (attached ?? []).map((a) => a.id);

before(async () => {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'ensure-system-packages.mjs'), 'python3-openstackclient'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `could not install python3-openstackclient:\n${r.stdout}\n${r.stderr}`);
  cloud = await startCloudProcess();
});

after(async () => {
  if (cloud) await cloud.stop();
});

describe('openstack CLI: volumes on nova-ts (fake driver)', { concurrency: true, timeout: 180_000 }, () => {
  test('create, attach (in-use, device, console), no delete while in use, one server at a time, detach, delete', async () => {
    const [v1] = (
      await batch([['volume', 'create', '--size', '1', 'v1', ...json], ['server', 'create', ...BOOT, 'vm1', ...json], ['server', 'create', ...BOOT, 'vm2', ...json]], 3)
    ).json;
    assert.equal(v1.size, 1);
    assert.equal(v1.name, 'v1');
    const [, vm1, vm2] = await statuses([['volume', 'v1', 'available'], ['server', 'vm1', 'ACTIVE'], ['server', 'vm2', 'ACTIVE']]);

    // The attach is complete when the API answers (Nova's compute reserves the device by an RPC call; ours attaches in it).
    const [added, used, shown, list] = (
      await batch([['server', 'add', 'volume', 'vm1', 'v1', ...json], ['volume', 'show', 'v1', ...json], ['server', 'show', 'vm1', ...json], ['server', 'volume', 'list', 'vm1', ...json]], 4)
    ).json;
    assert.equal(added.Device ?? added.device, '/dev/vdb', JSON.stringify(added));
    assert.equal(used.status, 'in-use');
    assert.equal(used.attachments.length, 1, JSON.stringify(used.attachments));
    assert.equal(used.attachments[0].server_id, vm1.id);
    assert.equal(used.attachments[0].device, '/dev/vdb');
    assert.equal(used.attachments[0].host_name, 'host1');
    assert.deepEqual(ids(shown.volumes_attached), [v1.id]);
    assert.deepEqual((list as any[]).map((a) => [a.Device, a['Volume ID'], a['Server ID']]), [['/dev/vdb', v1.id, vm1.id]]);

    // In use: no delete (400), and not on a second server (400: not multiattach); nothing changes.
    const refused = await batch([['volume', 'delete', 'v1'], ['server', 'add', 'volume', 'vm2', 'v1'], ['volume', 'show', 'v1', ...json], ['server', 'show', 'vm2', ...json]], 2, true);
    assert.match(refused.stderr, /Invalid volume: .*current status is: in-use\. \(HTTP 400\)/, refused.stderr);
    assert.match(refused.stderr, /BadRequest.*400.*os-volume_attachments.*not multiattach/, refused.stderr);
    const [still, other] = refused.json;
    assert.equal(still.status, 'in-use');
    assert.deepEqual(still.attachments.map((a: any) => a.server_id), [vm1.id]);
    assert.deepEqual(ids(other.volumes_attached), []);

    await ok(['server', 'remove', 'volume', 'vm1', 'v1']);
    const [free] = await statuses([['volume', 'v1', 'available']]);
    assert.deepEqual(free.attachments, []);

    // Free again, so vm2 may have it now.
    const [, onVm2, vm1After] = (await batch([['server', 'add', 'volume', 'vm2', 'v1', ...json], ['volume', 'show', 'v1', ...json], ['server', 'show', 'vm1', ...json]], 3)).json;
    assert.deepEqual(onVm2.attachments.map((a: any) => a.server_id), [vm2.id]);
    assert.deepEqual(ids(vm1After.volumes_attached), []);
    // The fake guest prints what a Linux guest's kernel would.
    const log = (await ok(['console', 'log', 'show', 'vm1'])).stdout;
    assert.match(log, new RegExp(`virtio_blk: vdb attached \\(volume ${v1.id}\\)[^]*virtio_blk: vdb detached \\(volume ${v1.id}\\)`), log);

    await ok(['server', 'remove', 'volume', 'vm2', 'v1']);
    await statuses([['volume', 'v1', 'available']]);
    await batch([['volume', 'delete', 'v1'], ['server', 'delete', '--wait', 'vm1', 'vm2']], 0);
    await volumesGone(v1.id);
  });

  test('a volume of a multiattach type (volume type create --property multiattach="<is> True") is attached to two servers at once', async () => {
    // On its own: the interactive mode would take the `<` for a redirection.
    const type = (await ok(['volume', 'type', 'create', '--property', 'multiattach=<is> True', 'multi', ...json])).json;
    const [shared] = (
      await batch(
        [['volume', 'create', '--size', '1', '--type', 'multi', 'shared', ...json], ['server', 'create', ...BOOT, 'ma1', ...json], ['server', 'create', ...BOOT, 'ma2', ...json]],
        3,
      )
    ).json;
    assert.match(JSON.stringify(type.properties), /multiattach[^,]*<is> True/, JSON.stringify(type));
    const [ready, ma1, ma2] = await statuses([['volume', 'shared', 'available'], ['server', 'ma1', 'ACTIVE'], ['server', 'ma2', 'ACTIVE']]);
    assert.equal(ready.multiattach, true);

    const [, , both, s1, s2] = (
      await batch(
        [
          ['server', 'add', 'volume', 'ma1', 'shared', ...json],
          ['server', 'add', 'volume', 'ma2', 'shared', ...json],
          ['volume', 'show', 'shared', ...json],
          ['server', 'show', 'ma1', ...json],
          ['server', 'show', 'ma2', ...json],
        ],
        5,
      )
    ).json;
    assert.equal(both.status, 'in-use');
    assert.deepEqual(both.attachments.map((a: any) => a.server_id).sort(), [ma1.id, ma2.id].sort(), JSON.stringify(both.attachments));
    assert.deepEqual(ids(s1.volumes_attached), [shared.id]);
    assert.deepEqual(ids(s2.volumes_attached), [shared.id]);

    await ok(['server', 'remove', 'volume', 'ma1', 'shared']);
    const [left] = await until([['volume', 'show', 'shared', ...json]], ([v]) => v.attachments.length === 1 && v.status !== 'detaching');
    assert.equal(left.status, 'in-use', 'still attached to ma2');
    assert.deepEqual(left.attachments.map((a: any) => a.server_id), [ma2.id]);
    await ok(['server', 'remove', 'volume', 'ma2', 'shared']);
    await statuses([['volume', 'shared', 'available']]);
    await batch([['volume', 'delete', 'shared'], ['server', 'delete', '--wait', 'ma1', 'ma2']], 0);
    await volumesGone(shared.id);
  });

  test('server create --boot-from-volume: the root volume is made from the image and kept when the server is deleted', async () => {
    await ok(['server', 'create', ...BOOT, '--boot-from-volume', '1', 'bfv1']);
    const [made] = await statuses([['server', 'bfv1', 'ACTIVE']]);
    assert.match(String(made.image), /booted from volume/i, JSON.stringify(made.image));
    assert.equal(made.volumes_attached?.length, 1, JSON.stringify(made.volumes_attached));
    const root = made.volumes_attached[0];
    assert.equal(root.delete_on_termination, false);

    const r = await batch([['volume', 'show', root.id, ...json], ['server', 'remove', 'volume', 'bfv1', root.id], ['server', 'delete', '--wait', 'bfv1']], 1, true);
    const [vol] = r.json;
    assert.equal(vol.status, 'in-use');
    assert.equal(vol.size, 1);
    assert.equal(String(vol.bootable), 'true');
    assert.equal(vol.attachments[0].server_id, made.id);
    assert.equal(vol.attachments[0].device, '/dev/vda');
    assert.match(JSON.stringify(vol.volume_image_metadata), /tiny-linux/);
    // The root volume cannot be detached (Nova: 400 "Cannot detach a root device volume").
    assert.match(r.stderr, /root device volume.*400|400.*root device volume/s, r.stderr);

    const [kept] = await statuses([['volume', root.id, 'available']]);
    assert.deepEqual(kept.attachments, []);
    await batch([['volume', 'delete', root.id]], 0);
    await volumesGone(root.id);
  });

  test('boot from volume with delete_on_termination (server volume update, 2.85): the volume goes with the server', async () => {
    await ok(['server', 'create', ...BOOT, '--boot-from-volume', '1', 'bfv2']);
    const [made] = await statuses([['server', 'bfv2', 'ACTIVE']]);
    const root = made.volumes_attached[0];
    assert.equal(root?.delete_on_termination, false, JSON.stringify(made.volumes_attached));
    const [listed, shown] = (
      await batch(
        [['server', 'volume', 'update', '--delete-on-termination', 'bfv2', root.id], ['server', 'volume', 'list', 'bfv2', ...json], ['server', 'show', 'bfv2', ...json]],
        2,
      )
    ).json;
    assert.deepEqual((listed as any[]).map((a) => [a['Volume ID'], a['Delete On Termination?']]), [[root.id, true]]);
    assert.equal(shown.volumes_attached[0].delete_on_termination, true);

    await batch([['server', 'delete', '--wait', 'bfv2']], 0);
    await volumesGone(root.id);
  });

  test('volume create --image, then server create --volume boots from it; the volume stays after the server', async () => {
    const [bootvol] = (await batch([['volume', 'create', '--image', 'tiny-linux', '--size', '1', 'bootvol', ...json]], 1)).json;
    const [ready] = await statuses([['volume', 'bootvol', 'available']]);
    assert.equal(String(ready.bootable), 'true');
    await ok(['server', 'create', '--flavor', 'm1.tiny', '--volume', 'bootvol', '--nic', 'none', 'bfv3']);
    const [made] = await statuses([['server', 'bfv3', 'ACTIVE']]);
    assert.deepEqual(ids(made.volumes_attached), [bootvol.id]);

    const r = await batch([['volume', 'show', 'bootvol', ...json], ['volume', 'delete', 'bootvol'], ['server', 'delete', '--wait', 'bfv3']], 1, true);
    const [used] = r.json;
    assert.equal(used.status, 'in-use');
    assert.equal(used.attachments[0].server_id, made.id);
    assert.equal(used.attachments[0].device, '/dev/vda');
    assert.match(r.stderr, /current status is: in-use\. \(HTTP 400\)/, r.stderr);

    const [kept] = await statuses([['volume', 'bootvol', 'available']]);
    assert.deepEqual(kept.attachments, []);
    await batch([['volume', 'delete', 'bootvol']], 0);
    await volumesGone(bootvol.id);
  });
});
