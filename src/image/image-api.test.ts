import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { startImageFixture, testContext, type ImageFixture } from './testing.js';

const PATCH = { 'content-type': 'application/openstack-images-v2.1-json-patch' };
const OCTET = { 'content-type': 'application/octet-stream' };

let fx: ImageFixture;
before(async () => {
  fx = await startImageFixture();
});
after(() => fx.close());

async function create(user: string, body: Record<string, unknown>): Promise<any> {
  const r = await fx.call(user, 'POST', '/v2/images', { body });
  assert.equal(r.status, 201, await r.clone().text());
  return r.json();
}

describe('versions and schemas', () => {
  test('version documents need no token and point at /v2/', async () => {
    const root = await fetch(`${fx.url}/image`);
    assert.equal(root.status, 300);
    const doc: any = await root.json();
    const current = doc.versions.filter((v: any) => v.status === 'CURRENT');
    assert.equal(current.length, 1);
    assert.match(current[0].id, /^v2\.\d+$/);
    assert.equal(current[0].links[0].href, `${fx.url}/image/v2/`);
    assert.equal((await fetch(`${fx.url}/image/versions`)).status, 200);
  });

  test('the image schema describes base attributes and allows string extras', async () => {
    const r = await fx.call('demo', 'GET', '/v2/schemas/image');
    const s: any = await r.json();
    assert.equal(s.name, 'image');
    assert.deepEqual(s.additionalProperties, { type: 'string' });
    for (const k of ['id', 'name', 'status', 'visibility', 'checksum', 'os_hash_value', 'disk_format', 'tags']) assert.ok(s.properties[k], k);
    assert.equal((await fx.call('demo', 'GET', '/v2/schemas/members')).status, 200);
  });

  test('the API needs a token', async () => {
    assert.equal((await fetch(`${fx.url}/image/v2/images`)).status, 401);
  });
});

describe('create, upload, download', () => {
  test('round trip with checksums, status and the Glance view', async () => {
    const img = await create('demo', { name: 'rt', disk_format: 'raw', container_format: 'bare', kernel_id: 'k1', hw_disk_bus: 'virtio' });
    assert.equal(img.status, 'queued');
    assert.equal(img.visibility, 'shared');
    assert.equal(img.owner, 'p-demo');
    assert.equal(img.kernel_id, 'k1');
    assert.equal(img.hw_disk_bus, 'virtio');
    assert.equal(img.self, `/v2/images/${img.id}`);
    assert.equal(img.file, `/v2/images/${img.id}/file`);
    assert.match(img.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(img.size, null);
    assert.equal((await fx.call('demo', 'GET', `/v2/images/${img.id}/file`)).status, 204);

    const data = Buffer.alloc(300_000, 7);
    data.write('hello image');
    const up = await fx.call('demo', 'PUT', `/v2/images/${img.id}/file`, { body: data, headers: OCTET });
    assert.equal(up.status, 204, await up.text());

    const shown: any = await (await fx.call('demo', 'GET', `/v2/images/${img.id}`)).json();
    assert.equal(shown.status, 'active');
    assert.equal(shown.size, data.length);
    assert.equal(shown.virtual_size, data.length);
    assert.equal(shown.checksum, createHash('md5').update(data).digest('hex'));
    assert.equal(shown.os_hash_algo, 'sha512');
    assert.equal(shown.os_hash_value, createHash('sha512').update(data).digest('hex'));

    const down = await fx.call('demo', 'GET', `/v2/images/${img.id}/file`);
    assert.equal(down.status, 200);
    assert.equal(down.headers.get('content-type'), 'application/octet-stream');
    assert.equal(down.headers.get('content-md5'), shown.checksum);
    assert.equal(down.headers.get('content-length'), String(data.length));
    assert.ok(Buffer.from(await down.arrayBuffer()).equals(data));

    const again = await fx.call('demo', 'PUT', `/v2/images/${img.id}/file`, { body: 'x', headers: OCTET });
    assert.equal(again.status, 409);
  });

  test('upload needs formats and the octet-stream content type', async () => {
    const img = await create('demo', { name: 'noformat' });
    assert.equal((await fx.call('demo', 'PUT', `/v2/images/${img.id}/file`, { body: 'abc', headers: OCTET })).status, 400);
    const img2 = await create('demo', { name: 'ct', disk_format: 'raw', container_format: 'bare' });
    const r = await fx.call('demo', 'PUT', `/v2/images/${img2.id}/file`, { body: 'abc', headers: { 'content-type': 'text/plain' } });
    assert.equal(r.status, 415);
    const shown: any = await (await fx.call('demo', 'GET', `/v2/images/${img2.id}`)).json();
    assert.equal(shown.status, 'queued');
  });

  test('an upload cut off mid-stream puts the image back to queued and leaves no file', async () => {
    const img = await create('demo', { name: 'cut', disk_format: 'raw', container_format: 'bare' });
    await new Promise<void>((resolve) => {
      const u = new URL(`${fx.url}/image/v2/images/${img.id}/file`);
      const req = request(
        { host: u.hostname, port: u.port, path: u.pathname, method: 'PUT', headers: { ...OCTET, 'x-auth-token': 'demo', 'content-length': '100000' } },
        () => undefined,
      );
      req.on('error', () => resolve());
      req.write(Buffer.alloc(1000, 1), () => setTimeout(() => (req.destroy(), resolve()), 50));
    });
    let status = '';
    for (let i = 0; i < 100 && status !== 'queued'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      status = ((await (await fx.call('demo', 'GET', `/v2/images/${img.id}`)).json()) as any).status;
    }
    assert.equal(status, 'queued');
    const dir = join(fx.dataDir, 'images');
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes(img.id)),
      [],
    );
  });

  test('bad create input is a 400, read-only attributes a 403', async () => {
    const bad = [{ disk_format: 'floppy' }, { container_format: 'box' }, { min_ram: -1 }, { min_disk: 'x' }, { name: 5 }, { visibility: 'x' }, { foo: 1 }, { tags: 'a' }, { id: 'nope' }];
    for (const body of bad) {
      const r = await fx.call('demo', 'POST', '/v2/images', { body });
      assert.equal(r.status, 400, JSON.stringify(body));
    }
    const ro = await fx.call('demo', 'POST', '/v2/images', { body: { name: 'x', status: 'active' } });
    assert.equal(ro.status, 403);
    assert.match(((await ro.json()) as any).message, /Attribute 'status' is read-only/);
    assert.equal((await fx.call('demo', 'POST', '/v2/images', { body: { deleted: true } })).status, 403);
    assert.equal((await fx.call('demo', 'POST', '/v2/images', { body: '[1' })).status, 400);
  });

  test('only admins create public images; readers create nothing', async () => {
    assert.equal((await fx.call('demo', 'POST', '/v2/images', { body: { name: 'p', visibility: 'public' } })).status, 403);
    assert.equal((await fx.call('reader', 'POST', '/v2/images', { body: { name: 'r' } })).status, 403);
    const pub = await create('admin', { name: 'pub', visibility: 'public' });
    assert.equal(pub.visibility, 'public');
  });

  test('an id can be chosen once, never reused', async () => {
    const id = '0e7a8b3c-1111-4222-8333-444455556666';
    await create('demo', { id, name: 'chosen' });
    assert.equal((await fx.call('demo', 'DELETE', `/v2/images/${id}`)).status, 204);
    assert.equal((await fx.call('demo', 'POST', '/v2/images', { body: { id } })).status, 409);
  });
});

describe('visibility, patch, delete', () => {
  test('private images of other projects are 404; public ones are read-only to others', async () => {
    const priv = await create('admin', { name: 'admin-private', visibility: 'private' });
    assert.equal((await fx.call('demo', 'GET', `/v2/images/${priv.id}`)).status, 404);
    assert.equal((await fx.call('demo', 'DELETE', `/v2/images/${priv.id}`)).status, 404);
    const pub = await create('admin', { name: 'admin-public', visibility: 'public' });
    assert.equal((await fx.call('demo', 'GET', `/v2/images/${pub.id}`)).status, 200);
    const p = await fx.call('demo', 'PATCH', `/v2/images/${pub.id}`, { body: [{ op: 'replace', path: '/name', value: 'x' }], headers: PATCH });
    assert.equal(p.status, 403);
    assert.equal((await fx.call('demo', 'DELETE', `/v2/images/${pub.id}`)).status, 403);
  });

  test('patch changes attributes, properties and tags in one go', async () => {
    const img = await create('demo', { name: 'p1', disk_format: 'raw', container_format: 'bare', foo: 'a' });
    const ops = [
      { op: 'replace', path: '/name', value: 'p2' },
      { op: 'add', path: '/bar', value: 'b' },
      { op: 'replace', path: '/foo', value: 'c' },
      { op: 'add', path: '/min_ram', value: 512 },
      { op: 'replace', path: '/tags', value: ['t1', 't2', 't1'] },
      { op: 'replace', path: '/visibility', value: 'community' },
      { op: 'add', path: '/disk_format', value: 'qcow2' },
    ];
    const r = await fx.call('demo', 'PATCH', `/v2/images/${img.id}`, { body: ops, headers: PATCH });
    assert.equal(r.status, 200, await r.clone().text());
    const v: any = await r.json();
    assert.equal(v.name, 'p2');
    assert.equal(v.bar, 'b');
    assert.equal(v.foo, 'c');
    assert.equal(v.min_ram, 512);
    assert.deepEqual(v.tags, ['t1', 't2']);
    assert.equal(v.visibility, 'community');
    assert.equal(v.disk_format, 'qcow2');
    const rm = await fx.call('demo', 'PATCH', `/v2/images/${img.id}`, { body: [{ op: 'remove', path: '/bar' }], headers: PATCH });
    assert.equal(((await rm.json()) as any).bar, undefined);
  });

  test('bad patches change nothing', async () => {
    const img = await create('demo', { name: 'bp', foo: 'a' });
    const cases: [unknown, number, Record<string, string>?][] = [
      [{ op: 'replace', path: '/name', value: 'x' }, 400],
      [[{ op: 'move', path: '/name', value: 'x' }], 400],
      [[{ op: 'replace', path: 'name', value: 'x' }], 400],
      [[{ op: 'replace', path: '/name' }], 400],
      [[{ op: 'replace', path: '/min_disk', value: 'big' }], 400],
      [[{ op: 'add', path: '/foo', value: 3 }], 400],
      [[{ op: 'replace', path: '/status', value: 'active' }], 403],
      [[{ op: 'replace', path: '/id', value: 'x' }], 403],
      [[{ op: 'remove', path: '/name' }], 403],
      [[{ op: 'remove', path: '/nothere' }], 409],
      [[{ op: 'replace', path: '/visibility', value: 'public' }], 403],
      [[{ op: 'replace', path: '/name', value: 'x' }], 415, { 'content-type': 'application/json' }],
      [[{ op: 'replace', path: '/name', value: 'changed' }, { op: 'remove', path: '/nothere' }], 409],
    ];
    for (const [body, status, headers] of cases) {
      const r = await fx.call('demo', 'PATCH', `/v2/images/${img.id}`, { body, headers: headers ?? PATCH });
      assert.equal(r.status, status, `${JSON.stringify(body)}: ${await r.text()}`);
    }
    const v: any = await (await fx.call('demo', 'GET', `/v2/images/${img.id}`)).json();
    assert.equal(v.name, 'bp');
    assert.equal(v.foo, 'a');
  });

  test('formats can change only while queued', async () => {
    const img = await create('demo', { name: 'f', disk_format: 'raw', container_format: 'bare' });
    await fx.call('demo', 'PUT', `/v2/images/${img.id}/file`, { body: 'data', headers: OCTET });
    const r = await fx.call('demo', 'PATCH', `/v2/images/${img.id}`, { body: [{ op: 'replace', path: '/disk_format', value: 'qcow2' }], headers: PATCH });
    assert.equal(r.status, 403);
  });

  test('protected images cannot be deleted; deleting removes the data', async () => {
    const img = await create('demo', { name: 'prot', protected: true, disk_format: 'raw', container_format: 'bare' });
    await fx.call('demo', 'PUT', `/v2/images/${img.id}/file`, { body: 'data', headers: OCTET });
    assert.equal((await fx.call('demo', 'DELETE', `/v2/images/${img.id}`)).status, 403);
    await fx.call('demo', 'PATCH', `/v2/images/${img.id}`, { body: [{ op: 'replace', path: '/protected', value: false }], headers: PATCH });
    const file = join(fx.dataDir, 'images', img.id);
    assert.ok(existsSync(file));
    assert.equal((await fx.call('demo', 'DELETE', `/v2/images/${img.id}`)).status, 204);
    assert.equal((await fx.call('demo', 'GET', `/v2/images/${img.id}`)).status, 404);
    assert.ok(!existsSync(file));
  });

  test('tags are added and removed one by one', async () => {
    const img = await create('demo', { name: 'tags' });
    assert.equal((await fx.call('demo', 'PUT', `/v2/images/${img.id}/tags/blue`)).status, 204);
    assert.equal((await fx.call('demo', 'PUT', `/v2/images/${img.id}/tags/blue`)).status, 204);
    assert.deepEqual(((await (await fx.call('demo', 'GET', `/v2/images/${img.id}`)).json()) as any).tags, ['blue']);
    assert.equal((await fx.call('demo', 'DELETE', `/v2/images/${img.id}/tags/blue`)).status, 204);
    assert.equal((await fx.call('demo', 'DELETE', `/v2/images/${img.id}/tags/blue`)).status, 404);
  });
});

describe('members', () => {
  test('sharing: pending members see the image by id, accepted ones in their list', async () => {
    const img = await create('demo', { name: 'shared-one', visibility: 'shared' });
    const listAlt = async (q = '') => ((await (await fx.call('alt', 'GET', `/v2/images?visibility=shared${q}`)).json()) as any).images.map((i: any) => i.id);
    assert.equal((await fx.call('alt', 'GET', `/v2/images/${img.id}`)).status, 404);
    const add = await fx.call('demo', 'POST', `/v2/images/${img.id}/members`, { body: { member: 'p-alt' } });
    assert.equal(add.status, 200);
    assert.equal(((await add.json()) as any).status, 'pending');
    assert.equal((await fx.call('demo', 'POST', `/v2/images/${img.id}/members`, { body: { member: 'p-alt' } })).status, 409);
    assert.equal((await fx.call('alt', 'GET', `/v2/images/${img.id}`)).status, 200);
    assert.ok(!(await listAlt()).includes(img.id));
    assert.ok((await listAlt('&member_status=pending')).includes(img.id));
    // Only the member decides its status.
    assert.equal((await fx.call('demo', 'PUT', `/v2/images/${img.id}/members/p-alt`, { body: { status: 'accepted' } })).status, 403);
    assert.equal((await fx.call('alt', 'PUT', `/v2/images/${img.id}/members/p-alt`, { body: { status: 'yes' } })).status, 400);
    const acc = await fx.call('alt', 'PUT', `/v2/images/${img.id}/members/p-alt`, { body: { status: 'accepted' } });
    assert.equal(((await acc.json()) as any).status, 'accepted');
    assert.ok((await listAlt()).includes(img.id));
    const members: any = await (await fx.call('demo', 'GET', `/v2/images/${img.id}/members`)).json();
    assert.deepEqual(
      members.members.map((m: any) => [m.member_id, m.status]),
      [['p-alt', 'accepted']],
    );
    assert.equal((await fx.call('alt', 'DELETE', `/v2/images/${img.id}/members/p-alt`)).status, 403);
    assert.equal((await fx.call('demo', 'DELETE', `/v2/images/${img.id}/members/p-alt`)).status, 204);
    assert.equal((await fx.call('alt', 'GET', `/v2/images/${img.id}`)).status, 404);
  });

  test('only shared images have members', async () => {
    const img = await create('demo', { name: 'priv', visibility: 'private' });
    assert.equal((await fx.call('demo', 'POST', `/v2/images/${img.id}/members`, { body: { member: 'p-alt' } })).status, 403);
  });
});

describe('in-process API and client', () => {
  test('ImageApi follows the same visibility rules; ImageClient has service access', async () => {
    const api = fx.service.api;
    const img = await api.create(testContext('demo'), { name: 'snap', visibility: 'private', image_type: 'snapshot', min_disk: 1, x: 3 });
    assert.equal(img.x, '3');
    await assert.rejects(api.show(testContext('alt'), img.id), { kind: 'NotFound' });
    const meta = await fx.service.client.get(img.id);
    assert.equal(meta.properties.image_type, 'snapshot');
    await assert.rejects(fx.service.client.dataPath(img.id), { kind: 'Conflict' });
  });

  test('uploadFile makes a queued image active from a local file; abandon deletes', async () => {
    const { writeFileSync } = await import('node:fs');
    const api = fx.service.api;
    const ctx = testContext('demo');
    const img = await api.create(ctx, { name: 'snap2' });
    const src = join(fx.dataDir, 'snapshot.qcow2');
    writeFileSync(src, 'snapshot bytes');
    await fx.service.client.uploadFile(img.id, src, { disk_format: 'qcow2', container_format: 'bare' });
    const shown = await api.show(ctx, img.id);
    assert.equal(shown.status, 'active');
    assert.equal(shown.disk_format, 'qcow2');
    assert.equal(shown.checksum, createHash('md5').update('snapshot bytes').digest('hex'));
    const path = await fx.service.client.dataPath(img.id);
    assert.ok(existsSync(path));
    const other = await api.create(ctx, { name: 'snap3' });
    await fx.service.client.abandon(other.id);
    await fx.service.client.abandon(other.id);
    await assert.rejects(fx.service.client.get(other.id), { kind: 'NotFound' });
  });

  test('seed is idempotent and makes an active public tiny-linux', async () => {
    await fx.service.seed();
    await fx.service.seed();
    const list = await fx.service.api.list(testContext('alt'), { name: 'tiny-linux' });
    assert.equal(list.length, 1);
    assert.equal(list[0].status, 'active');
    assert.equal(list[0].visibility, 'public');
    const down = await fx.call('alt', 'GET', `/v2/images/${list[0].id}/file`);
    const bytes = Buffer.from(await down.arrayBuffer());
    assert.equal(bytes.length, list[0].size);
    assert.equal(createHash('md5').update(bytes).digest('hex'), list[0].checksum);
  });
});

describe('image metadata for the Compute API', () => {
  test('update sets and removes extra properties with the owner rule', async () => {
    const api = fx.service.api;
    const img = await api.create(testContext('demo'), { name: 'meta', a: '1', b: '2' });
    const v = await api.update!(testContext('demo'), img.id, { c: '3', a: '9' }, ['b']);
    assert.equal(v.a, '9');
    assert.equal(v.c, '3');
    assert.equal(v.b, undefined);
    await assert.rejects(api.update!(testContext('demo'), img.id, {}, ['nothere']), { kind: 'Conflict' });
    await assert.rejects(api.update!(testContext('demo'), img.id, { status: 'x' }, []), { kind: 'Forbidden' });
    await assert.rejects(api.update!(testContext('alt'), img.id, { c: '4' }, []), { kind: 'NotFound' });
  });

  test('range filters on min_ram and min_disk', async () => {
    const api = fx.service.api;
    const ctx = testContext('alt');
    await api.create(ctx, { name: 'r-small', min_ram: 64 });
    await api.create(ctx, { name: 'r-big', min_ram: 4096, min_disk: 10 });
    const names = async (f: Record<string, string>) => (await api.list(ctx, { owner: 'p-alt', ...f })).map((i) => i.name).sort();
    assert.deepEqual(await names({ min_ram_min: '100' }), ['r-big']);
    assert.deepEqual(await names({ min_ram_max: '100', name: 'in:r-small,r-big' }), ['r-small']);
    assert.deepEqual(await names({ min_disk: '10' }), ['r-big']);
  });
});

describe('Glance compatibility details', () => {
  test('the v2.0 (draft 4) patch dialect, whose add refuses present attributes', async () => {
    const V20 = { 'content-type': 'application/openstack-images-v2.0-json-patch' };
    const img = await create('demo', { name: 'd4', foo: 'a' });
    const r = await fx.call('demo', 'PATCH', `/v2/images/${img.id}`, { body: [{ replace: '/name', value: 'd4b' }, { add: '/bar', value: 'b' }], headers: V20 });
    assert.equal(r.status, 200);
    const v: any = await r.json();
    assert.equal(v.name, 'd4b');
    assert.equal(v.bar, 'b');
    assert.equal((await fx.call('demo', 'PATCH', `/v2/images/${img.id}`, { body: [{ add: '/foo', value: 'c' }], headers: V20 })).status, 409);
    assert.equal((await fx.call('demo', 'PATCH', `/v2/images/${img.id}`, { body: [{ add: '/x', remove: '/y', value: 'c' }], headers: V20 })).status, 400);
  });

  test('owners deactivate and reactivate; only admins download deactivated data', async () => {
    const img = await create('demo', { name: 'deact', disk_format: 'raw', container_format: 'bare' });
    assert.equal((await fx.call('demo', 'POST', `/v2/images/${img.id}/actions/deactivate`)).status, 403);
    await fx.call('demo', 'PUT', `/v2/images/${img.id}/file`, { body: 'data', headers: OCTET });
    assert.equal((await fx.call('demo', 'POST', `/v2/images/${img.id}/actions/deactivate`)).status, 204);
    assert.equal((await fx.call('demo', 'GET', `/v2/images/${img.id}/file`)).status, 403);
    assert.equal((await fx.call('admin', 'GET', `/v2/images/${img.id}/file`)).status, 200);
    assert.equal((await fx.call('demo', 'POST', `/v2/images/${img.id}/actions/reactivate`)).status, 204);
    assert.equal((await fx.call('demo', 'GET', `/v2/images/${img.id}/file`)).status, 200);
  });

  test('an empty image id is a 404; DELETE on the collection a 405', async () => {
    assert.equal((await fx.call('demo', 'GET', '/v2/images/')).status, 404);
    assert.equal((await fx.call('demo', 'DELETE', '/v2/images/')).status, 404);
    assert.equal((await fx.call('demo', 'DELETE', '/v2/images')).status, 405);
  });

  test('exact size filter', async () => {
    const img = await create('alt', { name: 'sized', disk_format: 'raw', container_format: 'bare' });
    await fx.call('alt', 'PUT', `/v2/images/${img.id}/file`, { body: 'x'.repeat(12345), headers: OCTET });
    const r: any = await (await fx.call('alt', 'GET', '/v2/images?size=12345')).json();
    assert.deepEqual(
      r.images.map((i: any) => i.id),
      [img.id],
    );
  });
});

test('metadata definitions: the dashboard finds an empty catalog', async () => {
  const r: any = await (await fx.call('demo', 'GET', '/v2/metadefs/namespaces?resource_types=OS%3A%3AGlance%3A%3AImage&limit=10')).json();
  assert.deepEqual(r.namespaces, []);
  const s: any = await (await fx.call('demo', 'GET', '/v2/schemas/metadefs/namespace')).json();
  assert.equal(s.name, 'namespace');
});
