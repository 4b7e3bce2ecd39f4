/**
 * End to end with the real `openstack` CLI (python3-openstackclient from Debian) against the
 * all-in-one cloud running as a child process, as a user would run it. Independent flows run
 * concurrently; the restart test runs last, alone, and also covers the `npm start` path.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliSteps } from '../helpers/cli-steps.js';
import { REPO_ROOT, describeCli, startCloudProcess, type CliResult, type CloudProcess } from '../helpers/process.js';

let cloud: CloudProcess | undefined;
let work = '';
/** Data dir of the restart test, removed in after() whatever happens. */
let keptDir = '';
const DEMO = { cloud: 'nova-ts-demo' };
const BOOT = ['--flavor', 'm1.tiny', '--image', 'tiny-linux', '--nic', 'none'];

function c(): CloudProcess {
  assert.ok(cloud, 'the cloud did not start (see the before hook)');
  return cloud;
}

const { ok } = cliSteps(c);

/** Runs the CLI and asserts it failed; returns the result for checks on stderr. */
async function fails(args: string[], opts: { cloud?: string } = {}): Promise<CliResult> {
  const r = await c().cli(args, opts);
  assert.notEqual(r.code, 0, `expected a failure: ${describeCli(r)}`);
  return r;
}

/** Polls `server show` until the status is `want` (fails on ERROR or after timeoutMs). */
async function waitStatus(name: string, want: string, opts: { cloud?: string } = {}, timeoutMs = 30_000): Promise<any> {
  const end = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < end) {
    last = (await ok(['server', 'show', name, '-f', 'json'], opts)).json;
    if (last.status === want) return last;
    assert.notEqual(last.status, 'ERROR', `server ${name} went to ERROR: ${JSON.stringify(last.fault ?? last)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.fail(`server ${name} did not reach ${want} within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

/** An ed25519 OpenSSH public key: from ssh-keygen when installed, else built with node:crypto. */
function makePublicKey(dir: string): string {
  const file = join(dir, 'id_e2e');
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'e2e@nova-ts', '-f', file]);
  if (r.status === 0) return readFileSync(`${file}.pub`, 'utf8').trim();
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]).toString('base64')} e2e@nova-ts`;
}

/** Nova's key pair fingerprint: MD5 of the key blob as colon-separated hex. */
function md5Fingerprint(pub: string): string {
  const hex = createHash('md5').update(Buffer.from(pub.split(' ')[1], 'base64')).digest('hex');
  return hex.match(/../g)!.join(':');
}

/** Lines of the cloud's log at level ERROR (see src/util/log.ts), or uncaught exceptions. */
function errorLines(output: string): string[] {
  return output.split('\n').filter((l) => / ERROR |Uncaught|UnhandledPromiseRejection/.test(l));
}

before(async () => {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'ensure-system-packages.mjs'), 'python3-openstackclient'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `could not install python3-openstackclient:\n${r.stdout}\n${r.stderr}`);
  work = mkdtempSync(join(tmpdir(), 'nova-ts-e2e-work-'));
  cloud = await startCloudProcess();
});

after(async () => {
  if (cloud) await cloud.stop();
  if (work) rmSync(work, { recursive: true, force: true });
  if (keptDir) rmSync(keptDir, { recursive: true, force: true });
});

describe('openstack CLI against nova-ts', { concurrency: true, timeout: 300_000 }, () => {
  test('server create --wait reaches ACTIVE; list, show, stop, start, reboot, delete --wait', async () => {
    const created = (await ok(['server', 'create', ...BOOT, '--wait', 'vm1', '-f', 'json'])).json;
    assert.equal(created.status, 'ACTIVE', JSON.stringify(created));
    assert.equal(created.name, 'vm1');
    const list = (await ok(['server', 'list', '-f', 'json'])).json as any[];
    const row = list.find((s) => s.ID === created.id);
    assert.ok(row, `server list lacks vm1: ${JSON.stringify(list)}`);
    assert.equal(row.Status, 'ACTIVE');
    assert.equal(row.Name, 'vm1');
    const shown = (await ok(['server', 'show', 'vm1', '-f', 'json'])).json;
    assert.equal(shown.id, created.id);
    assert.match(JSON.stringify(shown.flavor), /m1\.tiny/);
    assert.match(String(shown.image), /tiny-linux/);
    // The CLI prints power states by name in tables and as numbers with -f json.
    assert.ok([1, 'Running'].includes(shown['OS-EXT-STS:power_state']), `power_state ${shown['OS-EXT-STS:power_state']}`);

    await ok(['server', 'stop', 'vm1']);
    const off = await waitStatus('vm1', 'SHUTOFF');
    assert.ok([4, 'Shutdown'].includes(off['OS-EXT-STS:power_state']), `power_state ${off['OS-EXT-STS:power_state']}`);
    await ok(['server', 'start', 'vm1']);
    await waitStatus('vm1', 'ACTIVE');
    await ok(['server', 'reboot', '--wait', 'vm1']);
    assert.equal((await ok(['server', 'show', 'vm1', '-f', 'json'])).json.status, 'ACTIVE');

    await ok(['server', 'delete', '--wait', 'vm1']);
    const gone = await fails(['server', 'show', created.id]);
    assert.match(gone.stderr, /No server with a name or ID/);
    const after = (await ok(['server', 'list', '-f', 'json'])).json as any[];
    assert.ok(!after.some((s) => s.ID === created.id), 'deleted server still listed');
  });

  test('an ACTIVE server shows the availability zone and host it landed in', async () => {
    const made = (await ok(['server', 'create', ...BOOT, '--wait', 'az-check', '-f', 'json'])).json;
    const zones = (await ok(['availability', 'zone', 'list', '--compute', '-f', 'json'])).json as any[];
    const hostZone = zones.find((z) => z['Zone Name'] !== 'internal')?.['Zone Name'];
    assert.equal(hostZone, 'nova', JSON.stringify(zones));
    const row = (await ok(['server', 'list', '--long', '--name', '^az-check$', '-f', 'json'])).json[0];
    assert.equal(row?.Host, made['OS-EXT-SRV-ATTR:host'], JSON.stringify(row));
    // Nova records the zone of the chosen host on the instance when it is scheduled.
    assert.equal(made['OS-EXT-AZ:availability_zone'], 'nova', `server show: ${JSON.stringify(made)}`);
    assert.equal(row['Availability Zone'], 'nova', JSON.stringify(row));
  });

  test('pause, suspend, lock, rename, properties, resize + confirm, rebuild, snapshot', async () => {
    const made = (await ok(['server', 'create', ...BOOT, '--wait', 'acts', '-f', 'json'])).json;
    await ok(['server', 'pause', 'acts']);
    await waitStatus('acts', 'PAUSED');
    await ok(['server', 'unpause', 'acts']);
    await waitStatus('acts', 'ACTIVE');
    await ok(['server', 'suspend', 'acts']);
    await waitStatus('acts', 'SUSPENDED');
    await ok(['server', 'resume', 'acts']);
    await waitStatus('acts', 'ACTIVE');

    await ok(['server', 'lock', 'acts']);
    // A locked server refuses actions from its non-admin owner; here the owner is admin, so check the flag.
    assert.equal((await ok(['server', 'show', 'acts', '-f', 'json'])).json.locked, true);
    await ok(['server', 'unlock', 'acts']);

    await ok(['server', 'set', '--name', 'acts2', '--property', 'role=e2e', 'acts']);
    const renamed = (await ok(['server', 'show', made.id, '-f', 'json'])).json;
    assert.equal(renamed.name, 'acts2');
    assert.match(JSON.stringify(renamed.properties), /role.*e2e/);
    await ok(['server', 'unset', '--property', 'role', made.id]);
    assert.doesNotMatch(JSON.stringify((await ok(['server', 'show', made.id, '-f', 'json'])).json.properties ?? ''), /role/);

    await ok(['server', 'resize', '--flavor', 'm1.small', '--wait', made.id]);
    assert.equal((await ok(['server', 'show', made.id, '-f', 'json'])).json.status, 'VERIFY_RESIZE');
    await ok(['server', 'resize', 'confirm', made.id]);
    const resized = await waitStatus(made.id, 'ACTIVE');
    assert.match(JSON.stringify(resized.flavor), /m1\.small/);

    await ok(['server', 'rebuild', '--wait', made.id]);
    assert.equal((await ok(['server', 'show', made.id, '-f', 'json'])).json.status, 'ACTIVE');

    const snap = (await ok(['server', 'image', 'create', '--name', 'acts-snap', '--wait', made.id, '-f', 'json'])).json;
    assert.equal(snap.name, 'acts-snap');
    assert.equal((await ok(['image', 'show', snap.id, '-f', 'json'])).json.status, 'active');
    const actions = (await ok(['server', 'event', 'list', made.id, '-f', 'json'])).json as any[];
    for (const a of ['create', 'pause', 'unpause', 'suspend', 'resume', 'lock', 'unlock', 'resize', 'confirmResize', 'rebuild', 'createImage'])
      assert.ok(actions.some((x) => x.Action === a), `no ${a} in server event list: ${JSON.stringify(actions)}`);
  });

  test('server create --min 5 --max 5 gives 5 servers that all become ACTIVE', async () => {
    await ok(['server', 'create', ...BOOT, '--min', '5', '--max', '5', 'multi', '-f', 'json']);
    const end = Date.now() + 30_000;
    let mine: any[] = [];
    while (Date.now() < end) {
      const list = (await ok(['server', 'list', '--name', '^multi', '-f', 'json'])).json as any[];
      mine = list.filter((s) => /^multi-\d$/.test(s.Name));
      if (mine.length === 5 && mine.every((s) => s.Status === 'ACTIVE')) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.deepEqual(mine.map((s) => s.Name).sort(), ['multi-1', 'multi-2', 'multi-3', 'multi-4', 'multi-5'], JSON.stringify(mine));
    assert.ok(mine.every((s) => s.Status === 'ACTIVE'), JSON.stringify(mine));
  });

  test('flavor list, show, create, delete', async () => {
    const list = (await ok(['flavor', 'list', '-f', 'json'])).json as any[];
    const tiny = list.find((f) => f.Name === 'm1.tiny');
    assert.ok(tiny, `m1.tiny not in ${JSON.stringify(list)}`);
    const shown = (await ok(['flavor', 'show', 'm1.tiny', '-f', 'json'])).json;
    assert.equal(shown.id, tiny.ID);
    assert.equal(shown.vcpus, tiny.VCPUs);
    const made = (await ok(['flavor', 'create', '--vcpus', '2', '--ram', '256', '--disk', '3', 'e2e.flavor', '-f', 'json'])).json;
    assert.equal(made.name, 'e2e.flavor');
    assert.equal(made.vcpus, 2);
    assert.equal(made.ram, 256);
    assert.equal(made.disk, 3);
    const again = (await ok(['flavor', 'show', made.id, '-f', 'json'])).json;
    assert.equal(again.name, 'e2e.flavor');
    assert.ok(((await ok(['flavor', 'list', '-f', 'json'])).json as any[]).some((f) => f.ID === made.id));
    const dup = await fails(['flavor', 'create', '--vcpus', '1', '--ram', '64', '--disk', '1', 'e2e.flavor']);
    assert.match(dup.stderr, /409/, describeCli(dup));
    assert.match(dup.stderr, /already exists/, describeCli(dup));
    await ok(['flavor', 'delete', 'e2e.flavor']);
    const gone = await fails(['flavor', 'show', made.id]);
    assert.match(gone.stderr, /No flavor (with a name or ID|found)|could not be found/i, describeCli(gone));
  });

  test('keypair create (imported key and without --public-key), list, show, delete', async () => {
    const pub = makePublicKey(work);
    const pubFile = join(work, 'imported.pub');
    writeFileSync(pubFile, pub + '\n');
    const made = (await ok(['keypair', 'create', '--public-key', pubFile, 'e2e-key', '-f', 'json'])).json;
    assert.equal(made.name, 'e2e-key');
    assert.equal(made.fingerprint, md5Fingerprint(pub));
    const list = (await ok(['keypair', 'list', '-f', 'json'])).json as any[];
    assert.ok(list.some((k) => k.Name === 'e2e-key' && k.Fingerprint === made.fingerprint), JSON.stringify(list));
    const shown = (await ok(['keypair', 'show', 'e2e-key', '-f', 'json'])).json;
    assert.equal(shown.fingerprint, made.fingerprint);
    const bare = await ok(['keypair', 'show', '--public-key', 'e2e-key']);
    assert.equal(bare.stdout.trim(), pub);
    const dup = await fails(['keypair', 'create', '--public-key', pubFile, 'e2e-key']);
    assert.match(dup.stderr, /409/, describeCli(dup));
    assert.match(dup.stderr, /already exists/, describeCli(dup));

    // The CLI (6.0) sends no public_key when none is given; at microversion 2.92 (clouds.yaml)
    // Nova requires one, so the user sees a 400 that names the field.
    const noKey = await fails(['keypair', 'create', 'e2e-nokey']);
    assert.match(noKey.stderr, /public_key/, describeCli(noKey));
    assert.match(noKey.stderr, /\b400\b/, describeCli(noKey));
    // Below 2.92 the server generates the pair and the CLI prints the private key.
    const gen = await ok(['--os-compute-api-version', '2.91', 'keypair', 'create', 'e2e-generated']);
    assert.match(gen.stdout, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, describeCli(gen));
    const genShown = (await ok(['keypair', 'show', 'e2e-generated', '-f', 'json'])).json;
    assert.match(genShown.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);

    await ok(['keypair', 'delete', 'e2e-key', 'e2e-generated']);
    const after = (await ok(['keypair', 'list', '-f', 'json'])).json as any[];
    assert.ok(!after.some((k) => k.Name === 'e2e-key' || k.Name === 'e2e-generated'), JSON.stringify(after));
    const gone = await fails(['keypair', 'show', 'e2e-key']);
    assert.match(gone.stderr, /not found|No keypair|could not be found/i, describeCli(gone));
  });

  test('image list, show, create --file, save, delete', async () => {
    const list = (await ok(['image', 'list', '-f', 'json'])).json as any[];
    const tiny = list.find((i) => i.Name === 'tiny-linux');
    assert.ok(tiny, `tiny-linux not in ${JSON.stringify(list)}`);
    const shown = (await ok(['image', 'show', 'tiny-linux', '-f', 'json'])).json;
    assert.equal(shown.id, tiny.ID);
    assert.equal(shown.status, 'active');

    const data = randomBytes(200 * 1024);
    const src = join(work, 'upload.img');
    writeFileSync(src, data);
    const made = (
      await ok(['image', 'create', '--file', src, '--disk-format', 'raw', '--container-format', 'bare', 'e2e-image', '-f', 'json'])
    ).json;
    assert.equal(made.name, 'e2e-image');
    // The SDK prints the image as created, before its upload: Glance's own output says queued.
    const up = (await ok(['image', 'show', made.id, '-f', 'json'])).json;
    assert.equal(up.status, 'active', JSON.stringify(up));
    assert.equal(Number(up.size), data.length);
    assert.equal(up.checksum, createHash('md5').update(data).digest('hex'));
    const dst = join(work, 'download.img');
    await ok(['image', 'save', '--file', dst, 'e2e-image']);
    assert.ok(readFileSync(dst).equals(data), 'image save returned other bytes than were uploaded');
    await ok(['image', 'delete', 'e2e-image']);
    const gone = await fails(['image', 'show', made.id]);
    assert.match(gone.stderr, /No Image found|could not be found|Not Found/i, describeCli(gone));
  });

  test('over quota: the demo user gets a clear 403 and nothing is created', async () => {
    await ok(['quota', 'set', '--instances', '2', 'demo']);
    const over = await fails(['server', 'create', ...BOOT, '--min', '3', '--max', '3', 'q'], DEMO);
    assert.match(over.stderr, /HTTP 403/, describeCli(over));
    assert.match(over.stderr, /Quota exceeded for instances/i, describeCli(over));
    const none = (await ok(['server', 'list', '-f', 'json'], DEMO)).json as any[];
    assert.ok(!none.some((s) => /^q(-\d)?$/.test(s.Name)), `a rejected create left servers: ${JSON.stringify(none)}`);
    // Up to the limit works; one more is refused.
    await ok(['server', 'create', ...BOOT, '--min', '2', '--max', '2', 'q2', '-f', 'json'], DEMO);
    const third = await fails(['server', 'create', ...BOOT, 'q3'], DEMO);
    assert.match(third.stderr, /HTTP 403/, describeCli(third));
    assert.match(third.stderr, /Quota exceeded for instances/i, describeCli(third));
  });

  test("the demo user cannot see admin's servers", async () => {
    const mine = (await ok(['server', 'create', ...BOOT, 'admin-private', '-f', 'json'])).json;
    const demoList = (await ok(['server', 'list', '-f', 'json'], DEMO)).json as any[];
    assert.ok(!demoList.some((s) => s.ID === mine.id || s.Name === 'admin-private'), JSON.stringify(demoList));
    for (const ref of [mine.id, 'admin-private']) {
      const r = await fails(['server', 'show', ref], DEMO);
      assert.match(r.stderr, /No server with a name or ID/, describeCli(r));
    }
    const del = await fails(['server', 'delete', mine.id], DEMO);
    assert.match(del.stderr, /No server with a name or ID/, describeCli(del));
    // Still there for admin.
    assert.equal((await ok(['server', 'show', mine.id, '-f', 'json'])).json.id, mine.id);
  });
});

describe('restart', { timeout: 300_000 }, () => {
  test('SIGTERM stops the cloud (exit 0); npm start on the same data dir keeps the servers', async () => {
    const made = (await ok(['server', 'create', ...BOOT, '--wait', 'persist1', '-f', 'json'])).json;
    assert.equal(made.status, 'ACTIVE');
    const dataDir = c().dataDir;
    keptDir = dataDir;
    const first = await c().stop({ keepDataDir: true });
    assert.deepEqual(first, { code: 0, signal: null, killed: false }, `stop of the first cloud: output:\n${c().output()}`);
    // Everything above was ordinary use: the cloud's log must hold no error (an unexpected exception, a 500).
    assert.deepEqual(errorLines(c().output()), [], 'the cloud logged errors during the CLI flows');
    cloud = undefined;
    // Start again through `npm start` (builds dist/ first), the way the README tells users.
    cloud = await startCloudProcess({ dataDir, entry: 'npm' });
    const list = (await ok(['server', 'list', '-f', 'json'])).json as any[];
    const row = list.find((s) => s.ID === made.id);
    assert.ok(row, `after restart, server list lacks persist1: ${JSON.stringify(list)}`);
    assert.equal(row.Name, 'persist1');
    const shown = (await ok(['server', 'show', made.id, '-f', 'json'])).json;
    assert.equal(shown.id, made.id);
    assert.ok(((await ok(['flavor', 'list', '-f', 'json'])).json as any[]).some((f) => f.Name === 'm1.tiny'));
    // The guest outlived the restart (as a real one would): after a power-sync pass (every
    // 10 s) it is still ACTIVE, and it can be stopped.
    await new Promise((r) => setTimeout(r, 11_000));
    assert.equal((await ok(['server', 'show', made.id, '-f', 'json'])).json.status, 'ACTIVE');
    await ok(['server', 'stop', made.id]);
    await waitStatus(made.id, 'SHUTOFF');
    const out = c().output();
    const second = await c().stop();
    cloud = undefined;
    assert.deepEqual(second, { code: 0, signal: null, killed: false }, 'npm start did not stop cleanly on SIGTERM');
    assert.deepEqual(errorLines(out), [], 'the restarted cloud logged errors');
  });
});
