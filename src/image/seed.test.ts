import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sql } from '../db/sql.js';
import { seedGuestImage, seedImages, type GuestImageFiles } from './seed.js';
import { ImageStore } from './store.js';
import { startImageFixture, testContext, type ImageFixture } from './testing.js';

const MiB = 1024 * 1024;
let fx: ImageFixture;
let store: ImageStore;
let files: string;
let adminId: string;

/** Three small files standing in for a build: the disk has a real qcow2 header (64 MiB virtual). */
function fakeBuild(version: string): GuestImageFiles & { bytes: Record<'kernel' | 'ramdisk' | 'disk', Buffer> } {
  const dir = join(files, version);
  rmSync(dir, { recursive: true, force: true });
  const disk = Buffer.alloc(1024);
  disk.writeUInt32BE(0x514649fb, 0);
  disk.writeUInt32BE(3, 4);
  disk.writeBigUInt64BE(BigInt(64 * MiB), 24);
  disk.write(version, 512);
  const bytes = { kernel: Buffer.from(`kernel ${version} `.repeat(100)), ramdisk: Buffer.from(`ramdisk ${version} `.repeat(300)), disk };
  const out = { kernel: join(dir, 'vmlinuz'), ramdisk: join(dir, 'initrd.img'), disk: join(dir, 'disk.qcow2'), version, bytes };
  mkdirSync(dir, { recursive: true });
  writeFileSync(out.kernel, bytes.kernel);
  writeFileSync(out.ramdisk, bytes.ramdisk);
  writeFileSync(out.disk, bytes.disk);
  return out;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const admin = testContext('admin');

async function liveSeeded(sql: Sql): Promise<{ id: string; name: string }[]> {
  return sql.all("SELECT id, name FROM images WHERE name LIKE 'tiny-linux%' AND deleted = 0 ORDER BY name");
}

describe('seedGuestImage', () => {
  before(async () => {
    fx = await startImageFixture();
    store = new ImageStore(join(fx.dataDir, 'images'));
    files = mkdtempSync(join(tmpdir(), 'nova-ts-seed-files-'));
    const now = new Date().toISOString();
    if (!(await fx.sql.get("SELECT 1 AS x FROM domains WHERE id = 'default'")))
      await fx.sql.run("INSERT INTO domains (id, name, created_at) VALUES ('default', 'Default', ?)", [now]);
    adminId = 'p-admin-seed';
    await fx.sql.run("INSERT INTO projects (id, name, domain_id, created_at) VALUES (?, 'admin', 'default', ?)", [adminId, now]);
  });
  after(async () => {
    await fx.close();
    rmSync(files, { recursive: true, force: true });
  });

  test('replaces the placeholder with public kernel (aki, hidden), ramdisk (ari, hidden) and disk (qcow2); idempotent', async () => {
    await seedImages(fx.sql, store);
    const [placeholder] = await fx.service.api.list(testContext('alt'), { name: 'tiny-linux' });
    const placeholderFile = store.pathOf(placeholder.id);
    const b = fakeBuild('v1');
    await seedGuestImage(fx.sql, store, b);
    await seedGuestImage(fx.sql, store, b);

    const list = await fx.service.api.list(testContext('alt'), { name: 'tiny-linux' });
    assert.equal(list.length, 1);
    const disk = list[0];
    assert.notEqual(disk.id, placeholder.id);
    assert.equal(disk.status, 'active');
    assert.equal(disk.visibility, 'public');
    assert.equal(disk.owner, adminId);
    assert.equal(disk.disk_format, 'qcow2');
    assert.equal(disk.container_format, 'bare');
    assert.equal(disk.size, b.bytes.disk.length);
    assert.equal(disk.virtual_size, 64 * MiB);
    assert.equal(disk.checksum, md5(b.bytes.disk));
    assert.equal(disk.hw_qemu_guest_agent, 'no');
    assert.equal(disk.nova_ts_image_version, 'v1');
    assert.match(String(disk.description), /tiny-linux v1/);

    const kernel = await fx.service.api.show(testContext('alt'), String(disk.kernel_id));
    assert.equal(kernel.name, 'tiny-linux-kernel');
    assert.deepEqual([kernel.disk_format, kernel.container_format, kernel.os_hidden, kernel.visibility], ['aki', 'aki', true, 'public']);
    assert.equal(kernel.checksum, md5(b.bytes.kernel));
    assert.equal(kernel.size, b.bytes.kernel.length);
    const ramdisk = await fx.service.api.show(testContext('alt'), String(disk.ramdisk_id));
    assert.equal(ramdisk.name, 'tiny-linux-ramdisk');
    assert.deepEqual([ramdisk.disk_format, ramdisk.container_format, ramdisk.os_hidden], ['ari', 'ari', true]);
    assert.equal(ramdisk.checksum, md5(b.bytes.ramdisk));
    const down = await fx.call('alt', 'GET', `/v2/images/${ramdisk.id}/file`);
    assert.equal(md5(Buffer.from(await down.arrayBuffer())), md5(b.bytes.ramdisk));

    await assert.rejects(fx.service.api.show(admin, placeholder.id), { kind: 'NotFound' });
    assert.equal(await store.exists(placeholderFile), false, 'the placeholder data is removed');
    assert.equal((await liveSeeded(fx.sql)).length, 3);
    // The placeholder seed leaves a seeded guest image alone.
    await seedImages(fx.sql, store);
    assert.equal((await liveSeeded(fx.sql)).length, 3);
  });

  test('another version replaces the three seeded images; a user image named tiny-linux is left alone', async () => {
    const own = await fx.service.api.create(testContext('demo'), { name: 'tiny-linux', disk_format: 'raw', container_format: 'bare' });
    const oldIds = (await liveSeeded(fx.sql)).map((r) => r.id).filter((id) => id !== own.id);
    assert.equal(oldIds.length, 3);
    await seedGuestImage(fx.sql, store, fakeBuild('v2'));
    const live = await liveSeeded(fx.sql);
    assert.equal(live.length, 4);
    assert.ok(live.some((r) => r.id === own.id));
    for (const id of oldIds) {
      assert.ok(!live.some((r) => r.id === id));
      assert.equal(await store.exists(store.pathOf(id)), false);
    }
    const mine = (await fx.service.api.list(testContext('demo'), { name: 'tiny-linux' })).filter((i) => i.owner === adminId);
    assert.equal(mine.length, 1);
    assert.equal(mine[0].nova_ts_image_version, 'v2');
  });

  test('a failure leaves no half-registered image and no stray data; the previous version stays', async () => {
    const before = (await liveSeeded(fx.sql)).map((r) => r.id);
    const dataFiles = () => readdirSync(store.dir).sort();
    const filesBefore = dataFiles();

    const missing = { ...fakeBuild('v3'), ramdisk: join(files, 'no-such-file') };
    await assert.rejects(seedGuestImage(fx.sql, store, missing), /ENOENT/);
    assert.deepEqual((await liveSeeded(fx.sql)).map((r) => r.id), before);
    assert.deepEqual(dataFiles(), filesBefore);

    // The transaction fails after its inserts: everything is rolled back and the copies removed.
    const failing = Object.create(fx.sql) as Sql;
    failing.tx = (fn) =>
      fx.sql.tx(async (tx) => {
        await fn(tx);
        throw new Error('database went away');
      });
    await assert.rejects(seedGuestImage(failing, store, fakeBuild('v4')), /database went away/);
    assert.deepEqual((await liveSeeded(fx.sql)).map((r) => r.id), before);
    assert.deepEqual(dataFiles(), filesBefore);
  });
});
