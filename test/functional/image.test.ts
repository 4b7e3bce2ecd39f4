/**
 * The Image API (Glance v2 subset) of a whole cloud, driven over HTTP as admin and demo.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startTestCloud, type Client, type TestCloud } from '../helpers/cloud.js';

const PATCH = { 'content-type': 'application/openstack-images-v2.1-json-patch' };

let tc: TestCloud;
before(async () => {
  tc = await startTestCloud();
});
after(() => tc.close());

async function create(c: Client, body: Record<string, unknown>): Promise<any> {
  const r = await c.post('/image/v2/images', body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

async function upload(c: Client, id: string, data: Buffer): Promise<Response> {
  return fetch(`${tc.url}/image/v2/images/${id}/file`, {
    method: 'PUT',
    headers: { 'x-auth-token': c.token, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(data),
  });
}

describe('image service in a cloud', () => {
  test('the seeded public tiny-linux image is active with honest checksums', async () => {
    const r = await tc.demo.get('/image/v2/images?name=tiny-linux');
    assert.equal(r.status, 200);
    assert.equal(r.body.images.length, 1);
    const img = r.body.images[0];
    assert.equal(img.status, 'active');
    assert.equal(img.visibility, 'public');
    assert.equal(img.disk_format, 'qcow2');
    assert.equal(img.owner, tc.admin.projectId);
    const data = await fetch(`${tc.url}/image/v2/images/${img.id}/file`, { headers: { 'x-auth-token': tc.demo.token } });
    const bytes = Buffer.from(await data.arrayBuffer());
    assert.equal(bytes.length, img.size);
    assert.equal(createHash('md5').update(bytes).digest('hex'), img.checksum);
    assert.equal(createHash('sha512').update(bytes).digest('hex'), img.os_hash_value);
  });

  test('version documents at /image and the schema clients fetch', async () => {
    const v = await fetch(`${tc.url}/image`);
    assert.equal(v.status, 300);
    const doc: any = await v.json();
    assert.ok(doc.versions.some((x: any) => x.status === 'CURRENT' && x.links[0].href === `${tc.url}/image/v2/`));
    const s = await tc.demo.get('/image/v2/schemas/image');
    assert.equal(s.status, 200);
    assert.deepEqual(s.body.additionalProperties, { type: 'string' });
  });

  test('create, upload, download round trip as demo', async () => {
    const img = await create(tc.demo, { name: 'round-trip', disk_format: 'qcow2', container_format: 'bare', hw_disk_bus: 'scsi' });
    assert.equal(img.status, 'queued');
    assert.equal(img.owner, tc.demo.projectId);
    const data = Buffer.from('some image bytes '.repeat(5000));
    assert.equal((await upload(tc.demo, img.id, data)).status, 204);
    const shown = await tc.demo.get(`/image/v2/images/${img.id}`);
    assert.equal(shown.body.status, 'active');
    assert.equal(shown.body.size, data.length);
    assert.equal(shown.body.checksum, createHash('md5').update(data).digest('hex'));
    assert.equal(shown.body.hw_disk_bus, 'scsi');
    const down = await fetch(`${tc.url}/image/v2/images/${img.id}/file`, { headers: { 'x-auth-token': tc.demo.token } });
    assert.equal(down.status, 200);
    assert.equal(down.headers.get('content-md5'), shown.body.checksum);
    assert.ok(Buffer.from(await down.arrayBuffer()).equals(data));
    assert.equal((await upload(tc.demo, img.id, data)).status, 409);
  });

  test('demo cannot see admin\'s private image, nor create public ones', async () => {
    const priv = await create(tc.admin, { name: 'admin-only', visibility: 'private' });
    assert.equal((await tc.demo.get(`/image/v2/images/${priv.id}`)).status, 404);
    assert.ok(!(await tc.demo.get('/image/v2/images?limit=1000')).body.images.some((i: any) => i.id === priv.id));
    assert.ok((await tc.admin.get('/image/v2/images?visibility=all&limit=1000')).body.images.some((i: any) => i.id === priv.id));
    const pub = await tc.demo.post('/image/v2/images', { name: 'wants-public', visibility: 'public' });
    assert.equal(pub.status, 403);
    const ro = await tc.demo.post('/image/v2/images', { name: 'x', size: 5 });
    assert.equal(ro.status, 403);
    assert.equal((await tc.demo.post('/image/v2/images', { disk_format: 'floppy' })).status, 400);
  });

  test('list filters, sort and paging', async () => {
    for (const n of ['pg-1', 'pg-2', 'pg-3', 'pg-4', 'pg-5']) await create(tc.demo, { name: n, tags: ['paging'], flavor_hint: n === 'pg-3' ? 'x' : 'y' });
    const seen: string[] = [];
    let next: string | undefined = '/v2/images?tag=paging&sort=name:asc&limit=2';
    while (next) {
      const r: { status: number; body: any } = await tc.demo.get(`/image${next}`);
      assert.equal(r.status, 200);
      seen.push(...r.body.images.map((i: any) => i.name));
      next = r.body.next;
    }
    assert.deepEqual(seen, ['pg-1', 'pg-2', 'pg-3', 'pg-4', 'pg-5']);
    const byProp = await tc.demo.get('/image/v2/images?flavor_hint=x');
    assert.deepEqual(
      byProp.body.images.map((i: any) => i.name),
      ['pg-3'],
    );
    assert.equal((await tc.demo.get('/image/v2/images?sort_key=nope')).status, 400);
  });

  test('patch and protected delete', async () => {
    const img = await create(tc.demo, { name: 'to-patch', protected: true });
    const p = await tc.demo.patch(
      `/image/v2/images/${img.id}`,
      [
        { op: 'replace', path: '/name', value: 'patched' },
        { op: 'add', path: '/foo', value: 'bar' },
      ],
      PATCH,
    );
    assert.equal(p.status, 200);
    assert.equal(p.body.name, 'patched');
    assert.equal(p.body.foo, 'bar');
    assert.equal((await tc.demo.patch(`/image/v2/images/${img.id}`, [{ op: 'replace', path: '/status', value: 'active' }], PATCH)).status, 403);
    assert.equal((await tc.demo.patch(`/image/v2/images/${img.id}`, { op: 'replace' }, PATCH)).status, 400);
    assert.equal((await tc.demo.delete(`/image/v2/images/${img.id}`)).status, 403);
    await tc.demo.patch(`/image/v2/images/${img.id}`, [{ op: 'replace', path: '/protected', value: false }], PATCH);
    assert.equal((await tc.demo.delete(`/image/v2/images/${img.id}`)).status, 204);
    assert.equal((await tc.demo.get(`/image/v2/images/${img.id}`)).status, 404);
  });
});
