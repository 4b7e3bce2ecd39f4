import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GiB, VolumeStore } from './store.js';
import { imageInfo as info, makeImage, qemuImg, sameData } from './test-images.js';


describe('VolumeStore', () => {
  let dir: string;
  let store: VolumeStore;
  let image: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'volume-store-'));
    store = new VolumeStore(dir, 'host1');
    image = makeImage(dir, 'img', 64);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates empty volumes as qcow2 or raw files of the requested size under volumes/<host>', async () => {
    const q = await store.createEmpty('a', 1, 'qcow2');
    assert.equal(q, join(dir, 'volumes', 'host1', 'volume-a.qcow2'));
    assert.deepEqual([info(q).format, info(q)['virtual-size']], ['qcow2', GiB]);
    const r = await store.createEmpty('b', 2, 'raw');
    assert.equal(r, join(dir, 'volumes', 'host1', 'volume-b.raw'));
    assert.deepEqual([info(r).format, info(r)['virtual-size']], ['raw', 2 * GiB]);
  });

  it('writes an image into a volume of the volume size, keeping its data', async () => {
    const p = await store.createFromImage('c', 1, 'qcow2', { id: 'img1', path: image, disk_format: 'qcow2' });
    assert.equal(info(p)['virtual-size'], GiB);
    assert.ok(sameData(image, 'qcow2', p, 'qcow2'));
    const r = await store.createFromImage('c2', 1, 'raw', { id: 'img1', path: image, disk_format: 'qcow2' });
    assert.equal(info(r).format, 'raw');
    assert.ok(sameData(image, 'qcow2', r, 'raw'));
  });

  it('refuses an image larger than the volume, leaving no file', async () => {
    const big = join(dir, 'big.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', big, '3G');
    await assert.rejects(store.createFromImage('d', 2, 'qcow2', { id: 'img2', path: big, disk_format: 'qcow2' }), {
      name: 'Invalid',
      message: 'Image img2 is 3 GiB, larger than the volume (2 GiB)',
    });
    assert.ok(!readdirSync(store.dir).some((f) => f.includes('volume-d')));
  });

  it('refuses an image with a backing file and reads images in their declared format', async () => {
    const child = join(dir, 'child.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-b', image, '-F', 'qcow2', child);
    await assert.rejects(store.createFromImage('e', 1, 'qcow2', { id: 'img3', path: child, disk_format: 'qcow2' }), /has a backing file/);
    // Declared raw: the qcow2 header is data, not interpreted (the copy is the file's bytes).
    const p = await store.createFromImage('f', 1, 'raw', { id: 'img4', path: image, disk_format: 'raw' });
    assert.ok(sameData(image, 'raw', p, 'raw'));
    assert.ok(!sameData(image, 'qcow2', p, 'raw'));
    await assert.rejects(store.createFromImage('g', 1, 'qcow2', { id: 'img5', path: image, disk_format: 'iso' }), /disk_format iso/);
  });

  it('extends, snapshots, clones and removes volume files', async () => {
    const p = await store.createFromImage('h', 1, 'qcow2', { id: 'img1', path: image, disk_format: 'qcow2' });
    await store.extend(p, 'qcow2', 3);
    assert.equal(info(p)['virtual-size'], 3 * GiB);
    await assert.rejects(store.extend(p, 'qcow2', 2), /already larger/);
    const s = await store.createSnapshot('s1', { path: p, format: 'qcow2' });
    assert.equal(s, join(store.dir, 'snapshot-s1.qcow2'));
    assert.ok(sameData(image, 'qcow2', s, 'qcow2'));
    await assert.rejects(store.createFromFile('i', 2, 'raw', { path: s, format: 'qcow2' }), /The source is 3 GiB, larger than the volume \(2 GiB\)/);
    const c = await store.createFromFile('i', 4, 'raw', { path: s, format: 'qcow2' });
    assert.deepEqual([info(c).format, info(c)['virtual-size']], ['raw', 4 * GiB]);
    assert.ok(sameData(image, 'qcow2', c, 'raw'));
    await store.remove(p);
    await store.remove(p); // idempotent
    assert.ok(!existsSync(p));
    assert.equal(await store.virtualSize(p, 'qcow2'), null);
  });
});
