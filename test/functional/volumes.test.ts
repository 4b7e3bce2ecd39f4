/**
 * The Block Storage API of a whole cloud (fake driver, the real volume manager and its files):
 * discovery through the catalog, volumes with their files on disk, snapshots and clones, the
 * v3 attachments flow over HTTP, quotas, projects kept apart, and no 500 for odd input.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startTestCloud, waitFor, type Client, type TestCloud } from '../helpers/cloud.js';

describe('volumes (Block Storage v3 API of a whole cloud)', () => {
  let tc: TestCloud;
  const base = (c: Client) => `/volume/v3/${c.projectId}`;
  const mv = (v: string) => ({ 'openstack-api-version': `volume ${v}` });
  const show = async (c: Client, id: string) => (await c.get(`${base(c)}/volumes/${id}`)).body?.volume;
  const until = (c: Client, id: string, want: string) => waitFor(async () => (await show(c, id))?.status === want, `volume ${id} ${want}`);
  const create = async (c: Client, body: Record<string, unknown>) => {
    const r = await c.post(`${base(c)}/volumes`, { volume: body });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await until(c, r.body.volume.id, 'available');
    return show(c, r.body.volume.id);
  };

  before(async () => {
    tc = await startTestCloud();
  });
  after(() => tc?.close());

  it('is in the catalog as volumev3 and block-storage, and answers its version document', async () => {
    const cat = await tc.demo.get('/identity/v3/auth/catalog');
    const types = cat.body.catalog.map((s: any) => s.type);
    assert.ok(types.includes('volumev3') && types.includes('block-storage'));
    const ep = cat.body.catalog.find((s: any) => s.type === 'volumev3').endpoints[0].url as string;
    assert.ok(ep.endsWith(`/volume/v3/${tc.demo.projectId}`));
    const doc = (await fetch(`${tc.url}/volume/`).then((r) => r.json())) as any;
    assert.equal(doc.versions[0].version, '3.70');
  });

  it('creates a volume with a file on the storage host, clones and snapshots it, and deletes them all', async () => {
    const v = await create(tc.demo, { size: 1, name: 'data' });
    const row = await tc.cloud.sql.get<{ path: string }>('SELECT path FROM volumes WHERE id = ?', [v.id]);
    assert.ok(row?.path && existsSync(row.path), 'the volume file exists');
    const clone = await create(tc.demo, { source_volid: v.id, name: 'clone' });
    assert.equal(clone.size, 1);
    const s = await tc.demo.post(`${base(tc.demo)}/snapshots`, { snapshot: { volume_id: v.id, name: 'snap' } });
    assert.equal(s.status, 202);
    await waitFor(async () => (await tc.demo.get(`${base(tc.demo)}/snapshots/${s.body.snapshot.id}`)).body.snapshot.status === 'available', 'snapshot');
    const fromSnap = await create(tc.demo, { snapshot_id: s.body.snapshot.id, size: 2 });
    assert.equal(fromSnap.size, 2);
    const ext = await tc.demo.post(`${base(tc.demo)}/volumes/${fromSnap.id}/action`, { 'os-extend': { new_size: 3 } });
    assert.equal(ext.status, 202);
    await waitFor(async () => (await show(tc.demo, fromSnap.id)).size === 3, 'extended');
    for (const id of [clone.id, fromSnap.id]) assert.equal((await tc.demo.delete(`${base(tc.demo)}/volumes/${id}`)).status, 202);
    assert.equal((await tc.demo.delete(`${base(tc.demo)}/volumes/${v.id}`)).status, 400, 'has a snapshot');
    assert.equal((await tc.demo.delete(`${base(tc.demo)}/volumes/${v.id}?cascade=true`)).status, 202);
    await waitFor(async () => (await tc.demo.get(`${base(tc.demo)}/volumes/${v.id}`)).status === 404, 'deleted');
    await waitFor(async () => !existsSync(row.path), 'file removed');
  });

  it('makes a bootable volume from a visible image, and refuses another project\'s private image', async () => {
    const tiny = (await tc.demo.get('/image/v2/images?name=tiny-linux')).body.images[0];
    const v = await create(tc.demo, { size: 1, imageRef: tiny.id, name: 'boot' });
    assert.equal(v.bootable, 'true');
    assert.equal(v.volume_image_metadata.image_id, tiny.id);
    const priv = await tc.admin.post('/image/v2/images', { name: 'admins-only', disk_format: 'raw', container_format: 'bare', visibility: 'private' });
    assert.equal(priv.status, 201);
    const r = await tc.demo.post(`${base(tc.demo)}/volumes`, { volume: { size: 1, imageRef: priv.body.id } });
    assert.equal(r.status, 400);
    assert.match(r.body.badRequest.message, /unable to access requested image/);
    assert.equal((await tc.demo.get(`${base(tc.demo)}/volumes?name=admins-only`)).body.volumes.length, 0, 'nothing created');
  });

  it('attaches through the v3 attachments API: reserved, connection_info with the file, in-use, then available', async () => {
    const v = await create(tc.demo, { size: 1 });
    const server = '5e5e5e5e-0000-4000-8000-000000000001';
    const a = await tc.demo.post(`${base(tc.demo)}/attachments`, { attachment: { volume_uuid: v.id, instance_uuid: server } }, mv('3.44'));
    assert.equal(a.status, 200, JSON.stringify(a.body));
    const u = await tc.demo.put(`${base(tc.demo)}/attachments/${a.body.attachment.id}`, { attachment: { connector: { host: 'host1' } } }, mv('3.44'));
    assert.equal(u.body.attachment.connection_info.driver_volume_type, 'file');
    assert.ok(existsSync(u.body.attachment.connection_info.data.path));
    assert.equal((await tc.demo.post(`${base(tc.demo)}/attachments/${a.body.attachment.id}/action`, { 'os-complete': null }, mv('3.44'))).status, 204);
    assert.equal((await show(tc.demo, v.id)).status, 'in-use');
    const del = await tc.demo.delete(`${base(tc.demo)}/volumes/${v.id}`);
    assert.equal(del.status, 400);
    assert.match(del.body.badRequest.message, /in-use/);
    assert.equal((await tc.demo.delete(`${base(tc.demo)}/attachments/${a.body.attachment.id}`, mv('3.44'))).status, 200);
    assert.equal((await show(tc.demo, v.id)).status, 'available');
    assert.equal((await tc.demo.delete(`${base(tc.demo)}/volumes/${v.id}`)).status, 202);
  });

  it("keeps projects apart; admins see all with all_tenants; quotas answer 413", async () => {
    const v = await create(tc.demo, { size: 1, name: 'mine' });
    assert.equal((await tc.admin.get(`${base(tc.admin)}/volumes/${v.id}`)).body.volume['os-vol-tenant-attr:tenant_id'], tc.demo.projectId);
    assert.ok((await tc.admin.get(`${base(tc.admin)}/volumes?all_tenants=1`)).body.volumes.some((x: any) => x.id === v.id));
    assert.equal((await tc.demo.get(`/volume/v3/${tc.admin.projectId}/volumes`)).status, 400);
    const q = await tc.admin.put(`${base(tc.admin)}/os-quota-sets/${tc.demo.projectId}`, { quota_set: { gigabytes: 2 } });
    assert.equal(q.status, 200);
    const over = await tc.demo.post(`${base(tc.demo)}/volumes`, { volume: { size: 2 } });
    assert.equal(over.status, 413);
    assert.match(over.body.overLimit.message, /gigabytes quota/);
    await tc.admin.delete(`${base(tc.admin)}/os-quota-sets/${tc.demo.projectId}`);
    assert.equal((await tc.demo.delete(`${base(tc.demo)}/volumes/${v.id}`)).status, 202);
  });

  it('answers odd input with 4xx, never 500', async () => {
    const bodies: unknown[] = [null, [], 'x', { volume: null }, { volume: [] }, { volume: { size: -1 } }, { volume: { size: 1.5 } }, { volume: { size: 1, name: 7 } }];
    for (const b of bodies) {
      const r = await tc.demo.post(`${base(tc.demo)}/volumes`, b);
      assert.ok(r.status >= 400 && r.status < 500, `${JSON.stringify(b)} -> ${r.status}`);
    }
    for (const p of ['/volumes/not-a-uuid', '/volumes/detail?limit=x', '/volumes?marker=nope', '/snapshots/x', '/types/x', `/os-quota-sets/${tc.demo.projectId}?usage=maybe`])
      assert.ok([400, 404].includes((await tc.demo.get(`${base(tc.demo)}${p}`)).status), p);
    assert.equal((await tc.demo.get(`${base(tc.demo)}/os-quota-sets/${tc.admin.projectId}`)).status, 403);
    for (const action of [{}, { 'os-extend': null }, { 'os-extend': { new_size: 'x' } }, { 'os-reset_status': {} }, { a: 1, b: 2 }]) {
      const v = (await tc.demo.get(`${base(tc.demo)}/volumes`)).body.volumes[0];
      const id = v?.id ?? '00000000-0000-4000-8000-000000000000';
      const r = await tc.demo.post(`${base(tc.demo)}/volumes/${id}/action`, action);
      assert.ok(r.status >= 400 && r.status < 500, `${JSON.stringify(action)} -> ${r.status}`);
    }
  });
});
