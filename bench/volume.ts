/**
 * Volume store benchmark (issue 6), in the repo:
 *   npm run bench:volume
 *   npm run bench:volume -- --runs 10 --data-mib 512
 *
 * In this process: a temporary data dir on disk with a migrated SQLite file DB, an in-process
 * bus and a real volume manager (src/volume/manager.ts, qemu-img underneath) whose image
 * client serves the benchmark's image files. Each operation is driven as the volume API drives
 * it: the row is written in its transitional status (creating, extending, deleting; snapshot
 * creating), the cast is sent, and the time runs until a poll (every 2 ms) sees the row leave
 * that status. Cases, --runs times each:
 *  - create from image, 1 GiB volume, from: a qcow2 of 1 GiB virtual size holding --data-mib
 *    of random data (in 1 MiB pieces spread evenly); the same image as raw; and tiny-linux from the
 *    guest image cache when it is there or can be built (qcow2, 64 MiB virtual);
 *    each into qcow2 and into raw volumes;
 *  - create empty 1 GiB; extend 1 -> 2 GiB; snapshot of the 1 GiB volume holding the data;
 *    delete of that volume.
 * The page cache is warm (the image files were just written; no root to drop caches), which
 * is the usual state of a Glance store's hot images. Prints a table, then one JSON line; exit
 * status 1 when an operation ended in an error status.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { loadavg, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { InProcessBus } from '../src/bus/in-process.js';
import { openDatabase } from '../src/db/open.js';
import type { Sql } from '../src/db/sql.js';
import { notFound } from '../src/errors.js';
import type { ImageClient } from '../src/image/client.js';
import type { ImageMeta } from '../src/virt/driver.js';
import { ensureGuestImage } from '../src/virt/qemu/guest-image/index.js';
import { startVolumeManager } from '../src/volume/manager.js';
import { VolumeRpcApi } from '../src/volume/rpcapi.js';
import { pct, round } from './lib/stats.js';

const USAGE = `Usage: npm run bench:volume -- [options]
  --runs N          runs per case (default 5)
  --data-mib N      random data in the 1 GiB test image, 1..1024 (default 256)
  --guest-cache DIR tiny-linux cache (default $NOVA_TS_GUEST_IMAGE_DIR or <tmp>/nova-ts-guest-image-cache)
  --no-tiny         skip the tiny-linux case
  --keep            keep the temporary data dir`;

const { values: a } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'data-mib': { type: 'string', default: '256' },
    'guest-cache': { type: 'string' },
    'no-tiny': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (a.help) {
  console.log(USAGE);
  process.exit(0);
}
const RUNS = Number(a.runs);
const DATA_MIB = Number(a['data-mib']);
if (!(RUNS >= 1) || !(DATA_MIB >= 1 && DATA_MIB <= 1024)) {
  console.error(USAGE);
  process.exit(2);
}
const HOST = 'bench-storage';
const MiB = 1024 * 1024;

const qemuImg = (...args: string[]) => execFileSync('qemu-img', args, { encoding: 'utf8' });

/** A 1 GiB raw file with dataMiB (<= 1024) of random data, spread evenly in 1 MiB pieces. */
function makeRaw(path: string, dataMiB: number): void {
  qemuImg('create', '-q', '-f', 'raw', path, '1G');
  const fd = openSync(path, 'r+');
  const stride = Math.floor(1024 / dataMiB);
  for (let i = 0; i < dataMiB; i++) writeSync(fd, randomBytes(MiB), 0, MiB, i * stride * MiB);
  closeSync(fd);
}

interface Case {
  name: string;
  seconds: number[];
  failed: string[];
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-volume-'));
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const images: Record<string, { meta: ImageMeta; path: string }> = {};
  const addImage = (id: string, name: string, path: string, disk_format: string, properties: Record<string, unknown> = {}) => {
    images[id] = { path, meta: { id, name, disk_format, container_format: 'bare', size: statSync(path).size, min_disk: 0, min_ram: 0, properties } };
  };

  log(`preparing a 1 GiB image with ${DATA_MIB} MiB of random data in ${dir}`);
  const raw = join(dir, 'data.raw');
  makeRaw(raw, DATA_MIB);
  const qcow = join(dir, 'data.qcow2');
  qemuImg('convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, qcow);
  addImage('data-qcow2', 'data-1g', qcow, 'qcow2');
  addImage('data-raw', 'data-1g-raw', raw, 'raw');
  if (!a['no-tiny']) {
    try {
      const cacheDir = a['guest-cache'] ?? process.env.NOVA_TS_GUEST_IMAGE_DIR ?? join(tmpdir(), 'nova-ts-guest-image-cache');
      const g = await ensureGuestImage({ cacheDir, log });
      addImage('tiny', 'tiny-linux', g.disk, 'qcow2', { kernel_id: 'k', ramdisk_id: 'r' });
    } catch (e) {
      log(`tiny-linux skipped: ${(e as Error).message}`);
    }
  }
  const client: ImageClient = {
    async get(id) {
      if (!images[id]) throw notFound(`Image ${id} could not be found.`);
      return images[id].meta;
    },
    async visibleTo(id) {
      return !!images[id];
    },
    async dataPath(id) {
      return images[id].path;
    },
    uploadFile: async () => {},
    abandon: async () => {},
  };

  const sql = await openDatabase(`sqlite:${join(dir, 'nova.db')}`);
  const bus = new InProcessBus();
  const rpc = new VolumeRpcApi(bus);
  const cases: Case[] = [];
  const run = async (name: string, once: () => Promise<{ s: number; error?: string | null }>) => {
    const c: Case = { name, seconds: [], failed: [] };
    for (let i = 0; i < RUNS; i++) {
      const r = await once();
      if (r.error !== undefined && r.error !== null) c.failed.push(r.error);
      else c.seconds.push(r.s);
    }
    cases.push(c);
    log(`${name}: p50 ${pct(c.seconds, 50)} s${c.failed.length ? `, ${c.failed.length} failed: ${c.failed[0]}` : ''}`);
  };

  for (const format of ['qcow2', 'raw'] as const) {
    const mgr = await startVolumeManager({ sql, bus, host: HOST, dataDir: join(dir, 'data'), images: client, format, reportIntervalSec: 60 });
    const create = (over: Record<string, unknown>) => timed(sql, 'volumes', 'creating', async () => {
      const id = await insertVolume(sql, over);
      await rpc.createVolume(HOST, { volume_id: id });
      return id;
    });
    for (const img of Object.keys(images)) await run(`create 1 GiB ${format} volume from ${images[img].meta.name} (${images[img].meta.disk_format})`, () => create({ image_id: img }));
    await run(`create empty 1 GiB ${format} volume`, () => create({}));
    // One volume holding the data for extend, snapshot, delete.
    const withData = async () => {
      const r = await create({ image_id: 'data-qcow2' });
      return r.id;
    };
    await run(`extend ${format} volume 1 -> 2 GiB`, async () => {
      const id = await withData();
      return timed(sql, 'volumes', 'extending', async () => {
        await sql.run(`UPDATE volumes SET status = 'extending' WHERE id = ?`, [id]);
        await rpc.extendVolume(HOST, { volume_id: id, new_size: 2 });
        return id;
      });
    });
    await run(`snapshot of a ${format} volume (full copy, ${DATA_MIB} MiB of data)`, async () => {
      const id = await withData();
      return timed(sql, 'volume_snapshots', 'creating', async () => {
        const sid = randomUUID();
        await sql.run(`INSERT INTO volume_snapshots (id, volume_id, project_id, user_id, size, status, created_at) VALUES (?, ?, 'p', 'u', 1, 'creating', ?)`, [sid, id, new Date().toISOString()]);
        await rpc.createSnapshot(HOST, { snapshot_id: sid });
        return sid;
      });
    });
    await run(`delete ${format} volume (${DATA_MIB} MiB of data)`, async () => {
      const id = await withData();
      return timed(sql, 'volumes', 'deleting', async () => {
        await sql.run(`UPDATE volumes SET status = 'deleting' WHERE id = ?`, [id]);
        await rpc.deleteVolume(HOST, { volume_id: id });
        return id;
      });
    });
    await mgr.stop();
    rmSync(join(dir, 'data'), { recursive: true, force: true });
  }
  await bus.close();
  await sql.close();
  if (!a.keep) rmSync(dir, { recursive: true, force: true });

  console.log(`\nVolume store benchmark: ${RUNS} runs per case, ${cpus().length} cores, load ${loadavg()[0].toFixed(1)}, qemu-img ${qemuImg('--version').split('\n')[0].split(' ')[2]}`);
  console.log('| case | p50 s | min s | max s | failed |\n| --- | --- | --- | --- | --- |');
  for (const c of cases)
    console.log(`| ${c.name} | ${pct(c.seconds, 50)} | ${round(Math.min(...c.seconds), 3)} | ${round(Math.max(...c.seconds), 3)} | ${c.failed.length} |`);
  console.log(JSON.stringify({ runs: RUNS, data_mib: DATA_MIB, cases: cases.map((c) => ({ name: c.name, p50: pct(c.seconds, 50), min: Math.min(...c.seconds), max: Math.max(...c.seconds), failed: c.failed })) }));
  return cases.some((c) => c.failed.length) ? 1 : 0;
}

async function insertVolume(sql: Sql, over: Record<string, unknown>): Promise<string> {
  const row: Record<string, unknown> = {
    id: randomUUID(), project_id: 'p', user_id: 'u', size: 1, status: 'creating', availability_zone: 'nova', host: HOST,
    created_at: new Date().toISOString(), ...over,
  };
  const cols = Object.keys(row);
  await sql.run(`INSERT INTO volumes (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, Object.values(row) as never);
  return row.id as string;
}

/** Runs start() (which sends the cast) and polls the row until it leaves `from`. */
async function timed(sql: Sql, table: 'volumes' | 'volume_snapshots', from: string, start: () => Promise<string>): Promise<{ s: number; id: string; error: string | null }> {
  const t0 = performance.now();
  const id = await start();
  for (;;) {
    const r = await sql.get<{ status: string; error: string | null }>(`SELECT status, error FROM ${table} WHERE id = ?`, [id]);
    if (r && r.status !== from) {
      const s = round((performance.now() - t0) / 1000, 3);
      const ok = r.status === 'available' || r.status === 'deleted';
      return { s, id, error: ok ? null : `${r.status}: ${r.error}` };
    }
    await new Promise((res) => setTimeout(res, 2));
  }
}

main().then((code) => process.exit(code), (e) => {
  console.error(e);
  process.exit(1);
});
