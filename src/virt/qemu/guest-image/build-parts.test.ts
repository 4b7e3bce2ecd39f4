/** The pieces of the tiny-linux build that can be checked without booting it. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAptDepends, parseAptShow, resolvePackages } from './apt.js';
import { elfDeps, moduleDepends, moduleLoadOrder } from './elf.js';
import { GUEST_FILES } from './guest-files.js';
import { ensureGuestImage } from './index.js';

const hasBusybox = spawnSync('busybox', ['true']).status === 0;
const file = (path: string) => GUEST_FILES.find((f) => f.path === path)!.text;

describe('guest files', () => {
  test('the shell scripts parse', () => {
    for (const f of GUEST_FILES.filter((g) => g.text.startsWith('#!/bin/sh'))) {
      const r = spawnSync('sh', ['-n'], { input: f.text, encoding: 'utf8' });
      assert.equal(r.status, 0, `${f.path}: ${r.stderr}`);
    }
  });

  test('meta_data.json flattening finds the top-level name and the public keys, not nested look-alikes', { skip: !hasBusybox && 'busybox is not installed' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'nova-ts-flatten-'));
    try {
      writeFileSync(join(dir, 'f.awk'), file('usr/lib/tiny-linux/json-flatten.awk'));
      const md = {
        uuid: 'u-1',
        meta: { name: 'meta name', hostname: 'nope' },
        public_keys: { 'k=1': 'ssh-ed25519 AAAA a@b\n', k2: 'ssh-rsa BBBB "quoted", comma' },
        keys: [{ name: 'k=1', type: 'ssh', data: 'x' }],
        hostname: 'web.novalocal',
        name: 'my "server"',
        launch_index: 0,
        devices: [],
        random_seed: 'x'.repeat(684),
      };
      writeFileSync(join(dir, 'md.json'), JSON.stringify(md));
      const r = spawnSync('busybox', ['awk', '-f', join(dir, 'f.awk'), join(dir, 'md.json')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const lines = new Map(r.stdout.trim().split('\n').map((l) => l.split('\t') as [string, string]));
      assert.equal(lines.get('name'), 'my "server"');
      assert.equal(lines.get('hostname'), 'web.novalocal');
      assert.equal(lines.get('meta.name'), 'meta name');
      assert.equal(lines.get('public_keys.k=1'), 'ssh-ed25519 AAAA a@b ');
      assert.equal(lines.get('public_keys.k2'), 'ssh-rsa BBBB "quoted", comma');
      assert.equal(lines.get('keys.0.name'), 'k=1');
      assert.equal(lines.get('launch_index'), '0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ELF and kernel modules', () => {
  test('elfDeps reads the interpreter and needed libraries of a dynamic executable', () => {
    const { interp, needed } = elfDeps(readFileSync(process.execPath));
    assert.match(String(interp), /ld-linux-x86-64\.so\.2$/);
    assert.ok(needed.includes('libc.so.6'), needed.join(' '));
  });

  test('moduleDepends reads depends= from modinfo', () => {
    const ko = Buffer.concat([Buffer.from('junk\0license=GPL\0depends=virtio_ring,net-failover\0vermagic=6.1\0')]);
    assert.deepEqual(moduleDepends(ko), ['virtio_ring', 'net_failover']);
    assert.deepEqual(moduleDepends(Buffer.from('\0depends=\0')), []);
  });

  test('moduleLoadOrder puts dependencies first and leaves built-in modules out', () => {
    const deps: Record<string, string[]> = {
      virtio_net: ['virtio_ring', 'virtio', 'net_failover'],
      net_failover: ['failover'],
      failover: [],
      virtio: ['virtio_ring'],
      virtio_ring: [],
      isofs: ['cdrom'],
    };
    const order = moduleLoadOrder(['virtio_net', 'isofs'], (m) => deps[m]);
    assert.deepEqual(order, ['virtio_ring', 'virtio', 'failover', 'net_failover', 'virtio_net', 'isofs']);
    assert.throws(() => moduleLoadOrder(['a'], (m) => ({ a: ['b'], b: ['a'] })[m]), /cycle: a -> b -> a/);
  });
});

describe('apt', () => {
  test('parses apt-cache depends and show output', () => {
    const deps = parseAptDepends('dropbear-bin\n  Depends: libc6\n  Breaks: <dropbear>\n  PreDepends: zlib1g\n<virtual>\nlibc6\n  Depends: libgcc-s1\n');
    assert.deepEqual([...deps.entries()], [['dropbear-bin', ['libc6', 'zlib1g']], ['libc6', ['libgcc-s1']]]);
    const show = parseAptShow('Package: a\nVersion: 1:2.0-1\nArchitecture: amd64\nDescription: x\n\nPackage: b\nArchitecture: all\nVersion: 3\n');
    assert.deepEqual(show.get('a'), { version: '1:2.0-1', arch: 'amd64' });
    assert.deepEqual(show.get('b'), { version: '3', arch: 'all' });
  });

  test('without package lists the error says to run apt-get update as root', { skip: spawnSync('apt-cache', ['-v']).status !== 0 && 'apt is not installed' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nova-ts-nolists-'));
    try {
      mkdirSync(join(dir, 'lists/partial'), { recursive: true });
      writeFileSync(join(dir, 'status'), '');
      const opts = [`Dir::State::Lists=${join(dir, 'lists')}`, `Dir::State::status=${join(dir, 'status')}`, 'Dir::Cache::pkgcache=', 'Dir::Cache::srcpkgcache='];
      await assert.rejects(resolvePackages(opts), /run `apt-get update` as root/);
      // And ensureGuestImage passes it on when it has nothing cached to fall back to.
      await assert.rejects(
        ensureGuestImage({ cacheDir: join(dir, 'cache'), apt: { options: opts, listsDir: join(dir, 'lists') } }),
        /Cannot build the tiny-linux guest image: .*apt-get update/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('two concurrent builds into one empty cache agree and leave no partial build behind', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'nova-ts-guest-image-race-'));
  try {
    // Reuse the boot test's downloads when present (saves fetching ~30 MB).
    const shared = join(tmpdir(), 'nova-ts-guest-image-cache', 'debs');
    if (existsSync(shared)) {
      mkdirSync(join(cacheDir, 'debs'));
      for (const f of readdirSync(shared)) copyFileSync(shared + '/' + f, join(cacheDir, 'debs', f));
    }
    const t0 = Date.now();
    const [a, b] = await Promise.all([ensureGuestImage({ cacheDir }), ensureGuestImage({ cacheDir })]);
    console.log(`# two concurrent cold builds: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.deepEqual(a, b);
    for (const p of [a.kernel, a.ramdisk, a.disk]) assert.ok(existsSync(p), p);
    assert.deepEqual(readdirSync(cacheDir).filter((n) => n.startsWith('.')), []);
    const info = spawnSync('qemu-img', ['info', '--output=json', a.disk], { encoding: 'utf8' });
    if (info.status === 0) {
      const j = JSON.parse(info.stdout) as { format: string; 'virtual-size': number };
      assert.equal(j.format, 'qcow2');
      assert.equal(j['virtual-size'], 64 * 1024 * 1024);
    }
    const t1 = Date.now();
    assert.deepEqual(await ensureGuestImage({ cacheDir }), a);
    console.log(`# warm call: ${Date.now() - t1} ms`);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});
