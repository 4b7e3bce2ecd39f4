/** Nova's deprecated image proxy (/images before 2.36) over the Image service. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';

const I = '/compute/v2.1/images';

describe('compute image proxy', () => {
  let t: TestCloud;
  let seeded: any;
  before(async () => {
    t = await startTestCloud();
    seeded = (await t.demo.get('/image/v2/images')).body.images[0];
  });
  after(async () => {
    await t?.close();
  });

  it('lists images in the Compute shape', async () => {
    const r = await t.demo.get(I);
    assert.equal(r.status, 200);
    const e = r.body.images.find((i: any) => i.id === seeded.id);
    assert.deepEqual(Object.keys(e).sort(), ['id', 'links', 'name']);
    const d = await t.demo.get(`${I}/detail`);
    const img = d.body.images.find((i: any) => i.id === seeded.id);
    assert.equal(img.status, 'ACTIVE');
    assert.equal(img.progress, 100);
    assert.equal(img.minDisk, seeded.min_disk);
    assert.equal(img['OS-EXT-IMG-SIZE:size'], seeded.size);
    assert.equal(typeof img.metadata, 'object');
    assert.ok(img.links.some((l: any) => l.rel === 'alternate'));
  });

  it('shows an image, its metadata, and 404 for unknown ones', async () => {
    const r = await t.demo.get(`${I}/${seeded.id}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.image.name, seeded.name);
    assert.match(r.body.image.created, /Z$/);
    assert.equal((await t.demo.get(`${I}/${seeded.id}/metadata`)).status, 200);
    assert.equal((await t.demo.get(`${I}/00000000-0000-0000-0000-000000000000`)).status, 404);
    assert.equal((await t.demo.get(`${I}/${seeded.id}/metadata/nokey`)).status, 404);
  });

  it('sets, merges, replaces and deletes image metadata', async () => {
    const c = await t.demo.post('/image/v2/images', { name: 'meta', disk_format: 'qcow2', container_format: 'bare' });
    const M = `${I}/${c.body.id}/metadata`;
    const post = await t.demo.post(M, { metadata: { a: '1', b: '2' } });
    assert.equal(post.status, 200);
    assert.deepEqual(post.body.metadata, { a: '1', b: '2' });
    const key = await t.demo.put(`${M}/a`, { meta: { a: 'x' } });
    assert.deepEqual(key.body, { meta: { a: 'x' } });
    assert.equal((await t.demo.put(`${M}/a`, { meta: { b: 'x' } })).status, 400);
    assert.deepEqual((await t.demo.get(`${M}/a`)).body, { meta: { a: 'x' } });
    const put = await t.demo.put(M, { metadata: { c: '3' } });
    assert.deepEqual(put.body.metadata, { c: '3' });
    assert.equal((await t.demo.delete(`${M}/c`)).status, 204);
    assert.deepEqual((await t.demo.get(M)).body.metadata, {});
    assert.equal((await t.demo.delete(`${M}/c`)).status, 404);
    assert.equal((await t.demo.post(M, { metadata: 'no' })).status, 400);
    assert.equal((await t.admin.post(`${I}/${seeded.id}/metadata`, { metadata: { x: 'y' } })).status, 200);
    const demoWrite = await t.demo.post(`${I}/${seeded.id}/metadata`, { metadata: { x: 'z' } });
    assert.ok(demoWrite.status === 403 || demoWrite.status === 404, String(demoWrite.status));
  });

  it('is gone from 2.36', async () => {
    const r = await t.demo.get(I, { 'openstack-api-version': 'compute 2.36' });
    assert.equal(r.status, 404);
    assert.equal((await t.demo.get(`${I}/${seeded.id}`, { 'openstack-api-version': 'compute 2.36' })).status, 404);
  });

  it('deletes an image the caller owns', async () => {
    const c = await t.demo.post('/image/v2/images', { name: 'to-delete', disk_format: 'qcow2', container_format: 'bare' });
    assert.equal(c.status, 201);
    const q = await t.demo.get(`${I}/${c.body.id}`);
    assert.equal(q.body.image.status, 'SAVING');
    assert.equal(q.body.image.progress, 25);
    assert.equal((await t.demo.delete(`${I}/${c.body.id}`)).status, 204);
    assert.equal((await t.demo.get(`${I}/${c.body.id}`)).status, 404);
    assert.equal((await t.demo.delete(`${I}/${seeded.id}`)).status, 403);
  });
});
