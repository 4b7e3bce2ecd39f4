import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { InProcessBus } from '../bus/in-process.js';
import { openDatabase } from '../db/open.js';
import type { Sql } from '../db/sql.js';
import { notFound } from '../errors.js';
import type { ImageClient } from '../image/client.js';
import type { ImageMeta } from '../virt/driver.js';
import { startVolumeManager, type VolumeManager } from './manager.js';
import { VolumeRpcApi } from './rpcapi.js';
import { GiB, VolumeStore } from './store.js';
import { imageInfo, makeImage, qemuImg, sameData } from './test-images.js';
import type { VolumeRow } from './types.js';

const HOST = 'storage1';
let dir: string;
let imagePath: string;
let bigImagePath: string;

const IMAGES: Record<string, ImageMeta> = {
  tiny: {
    id: 'tiny', name: 'tiny-linux', disk_format: 'qcow2', container_format: 'bare', size: 393216, min_disk: 0, min_ram: 0,
    checksum: 'abc123', properties: { kernel_id: 'k-1', ramdisk_id: 'r-1', os_distro: 'linux' },
  },
  big: { id: 'big', name: 'big', disk_format: 'qcow2', container_format: 'bare', size: 200000, min_disk: 0, min_ram: 0, properties: {} },
};
const images: ImageClient = {
  async get(id) {
    if (!IMAGES[id]) throw notFound(`Image ${id} could not be found.`);
    return IMAGES[id];
  },
  async visibleTo(id) {
    return !!IMAGES[id];
  },
  async dataPath(id) {
    if (!IMAGES[id]) throw notFound(`Image ${id} could not be found.`);
    return id === 'big' ? bigImagePath : imagePath;
  },
  uploadFile: async () => {},
  abandon: async () => {},
};

/** Inserts a volume row as the API does (status creating unless said otherwise). */
async function insertVolume(sql: Sql, over: Partial<VolumeRow> = {}): Promise<string> {
  const row: Partial<VolumeRow> = {
    id: `vol-${Math.random().toString(36).slice(2, 10)}`, project_id: 'p1', user_id: 'u1', size: 1, status: 'creating',
    availability_zone: 'nova', host: HOST, created_at: new Date().toISOString(), ...over,
  };
  const cols = Object.keys(row);
  await sql.run(`INSERT INTO volumes (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, Object.values(row) as never);
  return row.id!;
}

async function insertSnapshot(sql: Sql, volumeId: string, status = 'creating', id = `snap-${Math.random().toString(36).slice(2, 10)}`): Promise<string> {
  await sql.run(`INSERT INTO volume_snapshots (id, volume_id, project_id, user_id, size, status, created_at) VALUES (?, ?, 'p1', 'u1', 1, ?, ?)`,
    [id, volumeId, status, new Date().toISOString()]);
  return id;
}

const volume = (sql: Sql, id: string) => sql.get<VolumeRow>('SELECT * FROM volumes WHERE id = ?', [id]) as Promise<VolumeRow>;
const snapshot = (sql: Sql, id: string) => sql.get<{ status: string; path: string | null; error: string | null; deleted: number }>('SELECT * FROM volume_snapshots WHERE id = ?', [id]);

/** Polls until the row leaves the given transitional status (5 s at most). */
async function settle<T extends { status: string }>(read: () => Promise<T | undefined>, from: string): Promise<T> {
  const end = Date.now() + 5000;
  for (;;) {
    const r = await read();
    if (r && r.status !== from) return r;
    if (Date.now() > end) throw new Error(`still ${from}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'volume-manager-'));
  imagePath = makeImage(dir, 'tiny', 64);
  bigImagePath = join(dir, 'big.qcow2');
  qemuImg('create', '-q', '-f', 'qcow2', bigImagePath, '2G');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('volume manager', () => {
  let sql: Sql;
  let bus: InProcessBus;
  let mgr: VolumeManager;
  let rpc: VolumeRpcApi;
  let dataDir: string;
  beforeEach(async () => {
    sql = await openDatabase('sqlite::memory:');
    bus = new InProcessBus();
    dataDir = mkdtempSync(join(dir, 'data-'));
    mgr = await startVolumeManager({ sql, bus, host: HOST, dataDir, images });
    rpc = new VolumeRpcApi(bus);
  });
  afterEach(async () => {
    await mgr.stop();
    await bus.close();
    await sql.close();
  });

  it('registers its cinder-volume service row', async () => {
    const s = await sql.get<{ host: string; report_count: number }>(`SELECT host, report_count FROM services WHERE "binary" = 'cinder-volume'`);
    assert.equal(s?.host, HOST);
  });

  it('creates an empty qcow2 volume file and makes the volume available', async () => {
    const id = await insertVolume(sql, { size: 2 });
    await rpc.createVolume(HOST, { volume_id: id });
    const v = await settle(() => volume(sql, id), 'creating');
    assert.equal(v.status, 'available');
    assert.equal(v.path, join(dataDir, 'volumes', HOST, `volume-${id}.qcow2`));
    assert.equal(v.format, 'qcow2');
    assert.equal(v.bootable, 0);
    assert.equal(imageInfo(v.path!)['virtual-size'], 2 * GiB);
  });

  it('creates a bootable volume from an image, carrying its metadata as Cinder does', async () => {
    const id = await insertVolume(sql, { image_id: 'tiny' });
    await rpc.createVolume(HOST, { volume_id: id });
    const v = await settle(() => volume(sql, id), 'creating');
    assert.equal(v.status, 'available', v.error ?? '');
    assert.equal(v.bootable, 1);
    assert.deepEqual(JSON.parse(v.volume_image_metadata), {
      kernel_id: 'k-1', ramdisk_id: 'r-1', os_distro: 'linux', image_id: 'tiny', image_name: 'tiny-linux', disk_format: 'qcow2',
      container_format: 'bare', min_ram: '0', min_disk: '0', size: '393216', checksum: 'abc123',
    });
    assert.ok(sameData(imagePath, 'qcow2', v.path!, 'qcow2'));
    assert.equal(imageInfo(v.path!)['virtual-size'], GiB);
  });

  it('puts the volume in error with the reason when the image does not fit or is missing', async () => {
    const big = await insertVolume(sql, { image_id: 'big' });
    const gone = await insertVolume(sql, { image_id: 'nope' });
    await rpc.createVolume(HOST, { volume_id: big });
    await rpc.createVolume(HOST, { volume_id: gone });
    const b = await settle(() => volume(sql, big), 'creating');
    assert.equal(b.status, 'error');
    assert.equal(b.error, 'Image big is 2 GiB, larger than the volume (1 GiB)');
    assert.equal(b.path, null);
    assert.ok(!existsSync(join(dataDir, 'volumes', HOST, `volume-${big}.qcow2`)));
    const g = await settle(() => volume(sql, gone), 'creating');
    assert.deepEqual([g.status, g.error], ['error', 'Image nope could not be found.']);
  });

  it('clones volumes and snapshots, extends, and deletes files and rows', async () => {
    const src = await insertVolume(sql, { image_id: 'tiny' });
    await rpc.createVolume(HOST, { volume_id: src });
    const s = await settle(() => volume(sql, src), 'creating');
    assert.equal(s.status, 'available');

    const snap = await insertSnapshot(sql, src);
    await rpc.createSnapshot(HOST, { snapshot_id: snap });
    const sn = await settle(() => snapshot(sql, snap), 'creating');
    assert.equal(sn.status, 'available');
    assert.ok(sameData(imagePath, 'qcow2', sn.path!, 'qcow2'));

    const fromSnap = await insertVolume(sql, { snapshot_id: snap, size: 2 });
    const fromVol = await insertVolume(sql, { source_volid: src });
    await rpc.createVolume(HOST, { volume_id: fromSnap });
    await rpc.createVolume(HOST, { volume_id: fromVol });
    for (const id of [fromSnap, fromVol]) {
      const v = await settle(() => volume(sql, id), 'creating');
      assert.equal(v.status, 'available', v.error ?? '');
      assert.equal(v.bootable, 1, 'the copy of a bootable volume is bootable');
      assert.equal(JSON.parse(v.volume_image_metadata).kernel_id, 'k-1');
      assert.ok(sameData(imagePath, 'qcow2', v.path!, 'qcow2'));
    }
    assert.equal(imageInfo((await volume(sql, fromSnap)).path!)['virtual-size'], 2 * GiB);

    await sql.run(`UPDATE volumes SET status = 'extending' WHERE id = ?`, [fromVol]);
    await rpc.extendVolume(HOST, { volume_id: fromVol, new_size: 3 });
    const e = await settle(() => volume(sql, fromVol), 'extending');
    assert.deepEqual([e.status, e.size], ['available', 3]);
    assert.equal(imageInfo(e.path!)['virtual-size'], 3 * GiB);

    await sql.run(`UPDATE volume_snapshots SET status = 'deleting' WHERE id = ?`, [snap]);
    await rpc.deleteSnapshot(HOST, { snapshot_id: snap });
    const ds = await settle(() => snapshot(sql, snap), 'deleting');
    assert.deepEqual([ds.status, ds.deleted], ['deleted', 1]);
    assert.ok(!existsSync(sn.path!));

    await sql.run(`UPDATE volumes SET status = 'deleting' WHERE id = ?`, [src]);
    await rpc.deleteVolume(HOST, { volume_id: src });
    const d = await settle(() => volume(sql, src), 'deleting');
    assert.deepEqual([d.status, d.deleted], ['deleted', 1]);
    assert.ok(!existsSync(s.path!));
  });

  it('ends a failed extend in error_extending with the old size, and ignores casts for rows in other statuses', async () => {
    const id = await insertVolume(sql);
    await rpc.createVolume(HOST, { volume_id: id });
    const v = await settle(() => volume(sql, id), 'creating');
    await rpc.extendVolume(HOST, { volume_id: id, new_size: 5 }); // still available: not extending
    await rpc.deleteVolume(HOST, { volume_id: id }); // not deleting
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual([(await volume(sql, id)).status, (await volume(sql, id)).size], ['available', 1]);
    assert.ok(existsSync(v.path!));
    await sql.run(`UPDATE volumes SET status = 'extending' WHERE id = ?`, [id]);
    await rpc.extendVolume(HOST, { volume_id: id, new_size: 1 });
    const e = await settle(() => volume(sql, id), 'extending');
    assert.deepEqual([e.status, e.size, e.error], ['error_extending', 1, 'New size 1 GiB must be larger than the current size (1 GiB).']);
  });

  it('writes raw files when configured so', async () => {
    await mgr.stop();
    mgr = await startVolumeManager({ sql, bus, host: HOST, dataDir, images, format: 'raw' });
    const id = await insertVolume(sql, { image_id: 'tiny' });
    await rpc.createVolume(HOST, { volume_id: id });
    const v = await settle(() => volume(sql, id), 'creating');
    assert.deepEqual([v.status, v.format, v.path], ['available', 'raw', join(dataDir, 'volumes', HOST, `volume-${id}.raw`)]);
    assert.equal(imageInfo(v.path!).format, 'raw');
    assert.ok(sameData(imagePath, 'qcow2', v.path!, 'raw'));
  });

  it('recovers what a restart interrupted: creating -> error, deleting finished, extending -> available', async () => {
    await mgr.stop();
    const grown = await insertVolume(sql, { status: 'available' });
    const kept = await insertVolume(sql, { status: 'available' });
    const store = join(dataDir, 'volumes', HOST);
    const st = new VolumeStore(dataDir, HOST);
    const gp = await st.createEmpty(grown, 1, 'qcow2');
    const kp = await st.createEmpty(kept, 1, 'qcow2');
    await st.extend(gp, 'qcow2', 4); // the resize happened, the row update did not
    await sql.run(`UPDATE volumes SET status = 'extending', path = ? WHERE id = ?`, [gp, grown]);
    await sql.run(`UPDATE volumes SET status = 'extending', path = ? WHERE id = ?`, [kp, kept]);
    const creating = await insertVolume(sql);
    qemuImg('create', '-q', '-f', 'qcow2', join(store, `volume-${creating}.qcow2.part`), '1G');
    const deleting = await insertVolume(sql, { status: 'deleting', path: await st.createEmpty('dx', 1, 'qcow2') });
    const other = await insertVolume(sql, { host: 'elsewhere' });
    const snapC = await insertSnapshot(sql, kept, 'creating');
    const snapD = await insertSnapshot(sql, kept, 'deleting');

    mgr = await startVolumeManager({ sql, bus, host: HOST, dataDir, images });
    const c = await volume(sql, creating);
    assert.deepEqual([c.status, c.error], ['error', 'interrupted by a restart of the volume service']);
    assert.ok(!existsSync(join(store, `volume-${creating}.qcow2.part`)));
    const d = await volume(sql, deleting);
    assert.deepEqual([d.status, d.deleted], ['deleted', 1]);
    assert.ok(!existsSync(d.path!));
    assert.deepEqual([(await volume(sql, grown)).status, (await volume(sql, grown)).size], ['available', 4]);
    assert.deepEqual([(await volume(sql, kept)).status, (await volume(sql, kept)).size], ['available', 1]);
    assert.equal((await volume(sql, other)).status, 'creating', 'rows of other hosts are not touched');
    assert.deepEqual([(await snapshot(sql, snapC))?.status, (await snapshot(sql, snapC))?.error], ['error', 'interrupted by a restart of the volume service']);
    assert.deepEqual([(await snapshot(sql, snapD))?.status, (await snapshot(sql, snapD))?.deleted], ['deleted', 1]);
  });
});
