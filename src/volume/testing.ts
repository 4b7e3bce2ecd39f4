/**
 * Test fixture: the Block Storage API on an ephemeral port over an in-memory database, with a
 * fake volume manager serving `volume.host1` (flips statuses and records what it was asked),
 * a fake image client (one image, IMAGE_ID, 1.5 GiB), and fixed tokens: `admin` (project
 * p-admin, admin role), `demo` (p-demo), `alt` (p-alt), `reader` (p-demo, reader only).
 */
import { serveForTest, testContext } from '../http/test-context.js';
import { InProcessBus } from '../bus/in-process.js';
import { serviceHeartbeat } from '../conductor/service-records.js';
import { openDatabase } from '../db/open.js';
import type { Sql } from '../db/sql.js';
import { notFound } from '../errors.js';
import type { ImageClient } from '../image/client.js';
import { volumeTopic } from './rpcapi.js';
import { createVolumeService, type VolumeService } from './service.js';

export const IMAGE_ID = '11111111-2222-3333-4444-555555555555';

export const volContext = testContext;

export const fakeImages: ImageClient = {
  async get(id) {
    if (id !== IMAGE_ID) throw notFound(`Image ${id} could not be found.`);
    return { id, name: 'tiny-linux', disk_format: 'qcow2', container_format: 'bare', size: 1.5 * 1024 ** 3, min_disk: 0, min_ram: 0, properties: { hw_disk_bus: 'virtio' } };
  },
  visibleTo: async (id) => id === IMAGE_ID,
  dataPath: async () => '/nonexistent',
  uploadFile: async () => {},
  abandon: async () => {},
};

export interface VolFixture {
  url: string;
  sql: Sql;
  bus: InProcessBus;
  service: VolumeService;
  /** Methods the fake manager received, in order. */
  casts: { method: string; args: any }[];
  /** When set, the fake manager fails create_volume with this message. */
  failCreate: string | null;
  call(user: string, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  /** Polls the volume until its status is one of want. */
  waitStatus(id: string, ...want: string[]): Promise<any>;
  close(): Promise<void>;
}

export async function startVolFixture(opts: { withManager?: boolean } = {}): Promise<VolFixture> {
  const sql = await openDatabase('sqlite::memory:');
  const bus = new InProcessBus();
  const service = createVolumeService({ sql, bus, images: fakeImages, defaultAvailabilityZone: 'nova' });
  await service.seed();
  const casts: { method: string; args: any }[] = [];
  const fx = { failCreate: null as string | null };
  if (opts.withManager !== false) {
    await serviceHeartbeat(sql, 'host1', 'cinder-volume');
    await bus.serve(volumeTopic('host1'), async (method, args: any) => {
      casts.push({ method, args });
      const now = new Date().toISOString();
      if (method === 'create_volume') {
        if (fx.failCreate) await sql.run("UPDATE volumes SET status = 'error', error = ? WHERE id = ?", [fx.failCreate, args.volume_id]);
        else await sql.run("UPDATE volumes SET status = 'available', path = ?, updated_at = ? WHERE id = ?", [`/data/volumes/host1/volume-${args.volume_id}.qcow2`, now, args.volume_id]);
      } else if (method === 'delete_volume') await sql.run("UPDATE volumes SET deleted = 1, status = 'deleted' WHERE id = ?", [args.volume_id]);
      else if (method === 'extend_volume') await sql.run("UPDATE volumes SET size = ?, status = 'available' WHERE id = ?", [args.new_size, args.volume_id]);
      else if (method === 'create_snapshot') await sql.run("UPDATE volume_snapshots SET status = 'available' WHERE id = ?", [args.snapshot_id]);
      else if (method === 'delete_snapshot') await sql.run("UPDATE volume_snapshots SET deleted = 1, status = 'deleted' WHERE id = ?", [args.snapshot_id]);
    });
  }
  const { url, close: closeServer } = await serveForTest({ prefix: '/volume', router: service.router });
  const call: VolFixture['call'] = async (user, method, path, body, headers = {}) => {
    const h: Record<string, string> = { 'x-auth-token': user, ...headers };
    if (body !== undefined) h['content-type'] = 'application/json';
    const r = await fetch(`${url}/volume${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined, headers: r.headers };
  };
  return Object.assign(fx, {
    url, sql, bus, service, casts, call,
    async waitStatus(id: string, ...want: string[]) {
      for (let i = 0; i < 200; i++) {
        const r = await call('admin', 'GET', `/v3/p-admin/volumes/${id}`);
        if (r.status === 404 && want.includes('deleted')) return null;
        if (want.includes(r.body?.volume?.status)) return r.body.volume;
        await new Promise((res) => setTimeout(res, 10));
      }
      throw new Error(`volume ${id} never reached ${want.join('/')}`);
    },
    async close() {
      await closeServer();
      await bus.close();
      await sql.close();
    },
  });
}
