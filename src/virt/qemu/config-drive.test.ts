import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contractInstance } from '../driver.contract.js';
import { buildConfigDrive } from './config-drive.js';

const isoinfo = (...args: string[]) => execFileSync('isoinfo', args, { maxBuffer: 16 << 20 });

/** Runs fn with TMPDIR pointing at a fresh directory, so leftovers of the staging dir show. */
async function withScratch(fn: (dir: string, staging: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nova-ts-cd-test-'));
  const staging = join(dir, 'tmp');
  execFileSync('mkdir', [staging]);
  const saved = { TMPDIR: process.env.TMPDIR, PATH: process.env.PATH };
  process.env.TMPDIR = staging;
  try {
    await fn(dir, staging);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(dir, { recursive: true, force: true });
  }
}

test('the config drive is an ISO labelled config-2 with Nova\'s files, readable by name', async () => {
  await withScratch(async (dir, staging) => {
    const userData = Buffer.concat([Buffer.from('#!/bin/sh\necho hello from user data\n'), Buffer.from([0, 0xff])]);
    const vm = contractInstance({ display_name: 'cd-vm', user_data: userData.toString('base64'), key_name: 'k1', key_data: 'ssh-rsa AAAA test' });
    const iso = join(dir, 'disk.config');
    await buildConfigDrive(vm, iso);

    const info = isoinfo('-d', '-i', iso).toString();
    assert.match(info, /^Volume id: config-2$/m);

    const md = JSON.parse(isoinfo('-R', '-x', '/openstack/latest/meta_data.json', '-i', iso).toString());
    assert.equal(md.uuid, vm.uuid);
    assert.equal(md.name, 'cd-vm');
    assert.deepEqual(md.public_keys, { k1: 'ssh-rsa AAAA test' });
    assert.deepEqual(isoinfo('-R', '-x', '/openstack/latest/user_data', '-i', iso), userData);
    for (const f of ['network_data.json', 'vendor_data.json', 'vendor_data2.json']) {
      JSON.parse(isoinfo('-R', '-x', `/openstack/latest/${f}`, '-i', iso).toString());
    }
    const listing = isoinfo('-R', '-f', '-i', iso).toString();
    assert.match(listing, /^\/openstack\/2012-08-10\/meta_data\.json$/m);
    assert.deepEqual(await readdir(staging), [], 'staging directory removed');
    assert.deepEqual((await readdir(dir)).sort(), ['disk.config', 'tmp'], 'no partial file left');
  });
});

test('a missing genisoimage gives a clear error and leaves nothing behind', async () => {
  await withScratch(async (dir, staging) => {
    const iso = join(dir, 'disk.config');
    await writeFile(iso, 'stale');
    process.env.PATH = join(dir, 'empty-bin');
    await assert.rejects(buildConfigDrive(contractInstance(), iso), /install genisoimage/);
    assert.equal(existsSync(iso), false);
    assert.deepEqual(await readdir(staging), []);
  });
});

test('a failing genisoimage reports its message and leaves no ISO or partial file', async () => {
  await withScratch(async (dir, staging) => {
    const bin = join(dir, 'bin');
    execFileSync('mkdir', [bin]);
    const fake = join(bin, 'genisoimage');
    // Writes half an image, then fails, as a crash mid-way would.
    await writeFile(fake, '#!/bin/sh\nwhile [ "$1" != "-o" ]; do shift; done\necho junk > "$2"\necho "genisoimage: No space left on device" >&2\nexit 1\n');
    await chmod(fake, 0o755);
    process.env.PATH = `${bin}:${process.env.PATH}`;
    const iso = join(dir, 'disk.config');
    await assert.rejects(buildConfigDrive(contractInstance(), iso), /genisoimage failed: genisoimage: No space left on device/);
    assert.deepEqual((await readdir(dir)).sort(), ['bin', 'tmp']);
    assert.deepEqual(await readdir(staging), []);
  });
});
