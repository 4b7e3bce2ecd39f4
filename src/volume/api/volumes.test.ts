import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IMAGE_ID, startVolFixture, type VolFixture } from '../testing.js';

let fx: VolFixture;
before(async () => {
  fx = await startVolFixture();
});
after(() => fx.close());

const P = '/v3/p-demo';
async function make(body: Record<string, unknown>, user = 'demo', project = 'p-demo') {
  const r = await fx.call(user, 'POST', `/v3/${project}/volumes`, { volume: body });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return fx.waitStatus(r.body.volume.id, 'available', 'error');
}

describe('versions and microversions', () => {
  test('version documents at / and /v3/ say 3.0 to 3.70', async () => {
    const root = await fetch(`${fx.url}/volume/`);
    assert.equal(root.status, 300);
    const doc: any = await root.json();
    assert.equal(doc.versions[0].id, 'v3.0');
    assert.equal(doc.versions[0].min_version, '3.0');
    assert.equal(doc.versions[0].version, '3.70');
    const v3: any = await (await fetch(`${fx.url}/volume/v3/`)).json();
    assert.equal(v3.versions[0].links.find((l: any) => l.rel === 'self').href, `${fx.url}/volume/v3/`);
  });

  test('negotiates volume 3.x; too high is 406, malformed 400', async () => {
    const r = await fx.call('demo', 'GET', `${P}/volumes`, undefined, { 'openstack-api-version': 'volume 3.60' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('openstack-api-version'), 'volume 3.60');
    assert.match(r.headers.get('vary') ?? '', /OpenStack-API-Version/);
    assert.equal((await fx.call('demo', 'GET', `${P}/volumes`)).headers.get('openstack-api-version'), 'volume 3.0');
    assert.equal((await fx.call('demo', 'GET', `${P}/volumes`, undefined, { 'openstack-api-version': 'volume latest' })).headers.get('openstack-api-version'), 'volume 3.70');
    const high = await fx.call('demo', 'GET', `${P}/volumes`, undefined, { 'openstack-api-version': 'volume 3.99' });
    assert.equal(high.status, 406);
    assert.match(high.body.notAcceptable.message, /Minimum is 3.0 and maximum is 3.70/);
    assert.equal((await fx.call('demo', 'GET', `${P}/volumes`, undefined, { 'openstack-api-version': 'volume 3.x' })).status, 400);
    // attachments need 3.27
    assert.equal((await fx.call('demo', 'GET', `${P}/attachments`)).status, 404);
  });

  test("another project's URL is 400 for users; no token is 401", async () => {
    const r = await fx.call('demo', 'GET', '/v3/p-alt/volumes');
    assert.equal(r.status, 400);
    assert.match(r.body.badRequest.message, /doesn't match/);
    assert.equal((await fetch(`${fx.url}/volume${P}/volumes`)).status, 401);
  });
});

describe('volumes', () => {
  test('create, show in Cinder shape, list, update, delete', async () => {
    const v = await make({ size: 1, name: 'v1', description: 'first', metadata: { a: 'b' } });
    assert.equal(v.status, 'available');
    const shown = await fx.call('demo', 'GET', `${P}/volumes/${v.id}`);
    const vol = shown.body.volume;
    assert.equal(vol.name, 'v1');
    assert.equal(vol.size, 1);
    assert.equal(vol.bootable, 'false');
    assert.equal(vol.encrypted, false);
    assert.equal(vol.multiattach, false);
    assert.equal(vol.volume_type, '__DEFAULT__');
    assert.equal(vol.availability_zone, 'nova');
    assert.deepEqual(vol.metadata, { a: 'b' });
    assert.deepEqual(vol.attachments, []);
    assert.equal(vol.user_id, 'u-demo');
    assert.match(vol.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.equal(vol['os-vol-tenant-attr:tenant_id'], 'p-demo', 'the project attribute is for project readers too (Cinder policy)');
    assert.equal(vol['os-vol-host-attr:host'], undefined, 'admin-only attribute hidden from users');
    assert.equal(vol.links[0].href, `${fx.url}/volume/v3/p-demo/volumes/${v.id}`);
    const asAdmin = (await fx.call('admin', 'GET', `/v3/p-admin/volumes/${v.id}`)).body.volume;
    assert.equal(asAdmin['os-vol-tenant-attr:tenant_id'], 'p-demo');
    assert.equal(asAdmin['os-vol-host-attr:host'], 'host1@file#file');
    const list = await fx.call('demo', 'GET', `${P}/volumes`);
    assert.deepEqual(Object.keys(list.body.volumes.find((x: any) => x.id === v.id)).sort(), ['id', 'links', 'name']);
    const up = await fx.call('demo', 'PUT', `${P}/volumes/${v.id}`, { volume: { name: 'v1b', description: null } });
    assert.equal(up.status, 200);
    assert.equal(up.body.volume.name, 'v1b');
    assert.equal(up.body.volume.description, null);
    assert.equal((await fx.call('alt', 'GET', `/v3/p-alt/volumes/${v.id}`)).status, 404);
    assert.equal((await fx.call('reader', 'DELETE', `${P}/volumes/${v.id}`)).status, 403);
    assert.equal((await fx.call('demo', 'DELETE', `${P}/volumes/${v.id}`)).status, 202);
    await fx.waitStatus(v.id, 'deleted');
    assert.equal((await fx.call('demo', 'GET', `${P}/volumes/${v.id}`)).status, 404);
  });

  test('bad bodies are 400s that say what to fix, and nothing is created', async () => {
    const before = (await fx.call('demo', 'GET', `${P}/volumes`)).body.volumes.length;
    for (const [body, re] of [
      [{ size: 0 }, /size/],
      [{ size: 'big' }, /size/],
      [{ size: 1, metadata: { k: 5 } }, /metadata|k/],
      [{}, /size/],
      [{ size: 1, availability_zone: 'mars' }, /Availability zone 'mars' is invalid/],
      [{ size: 1, imageRef: '99999999-9999-9999-9999-999999999999' }, /image/],
    ] as const) {
      const r = await fx.call('demo', 'POST', `${P}/volumes`, { volume: body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.body.badRequest.message, re);
    }
    // A source volume or snapshot that does not exist (or is another project's) is 404, as Cinder.
    for (const src of [{ source_volid: '99999999-9999-9999-9999-999999999999' }, { snapshot_id: '99999999-9999-9999-9999-999999999999' }]) {
      const r = await fx.call('demo', 'POST', `${P}/volumes`, { volume: { size: 1, ...src } });
      assert.equal(r.status, 404, JSON.stringify(src));
      assert.match(r.body.itemNotFound.message, /99999999-9999-9999-9999-999999999999 could not be found/);
    }
    const alien = (await fx.call('alt', 'POST', '/v3/p-alt/volumes', { volume: { size: 1 } })).body.volume;
    assert.equal((await fx.call('demo', 'POST', `${P}/volumes`, { volume: { size: 1, source_volid: alien.id } })).status, 404);
    await fx.waitStatus(alien.id, 'available');
    assert.equal((await fx.call('alt', 'DELETE', `/v3/p-alt/volumes/${alien.id}`)).status, 202);
    await fx.waitStatus(alien.id, 'deleted');
    assert.equal((await fx.call('demo', 'GET', `${P}/volumes/`)).status, 404, 'an empty id is not the list');
    const vt = await fx.call('demo', 'POST', `${P}/volumes`, { volume: { size: 1, volume_type: 'gold' } });
    assert.equal(vt.status, 404);
    assert.equal((await fx.call('demo', 'POST', `${P}/volumes`, { vol: {} })).status, 400);
    assert.equal((await fx.call('demo', 'GET', `${P}/volumes`)).body.volumes.length, before);
  });

  test('from an image: bootable, image metadata, size from the image', async () => {
    const v = await make({ imageRef: IMAGE_ID, name: 'boot' });
    assert.equal(v.size, 2);
    assert.equal(v.bootable, 'true');
    assert.equal(v.volume_image_metadata.image_id, IMAGE_ID);
    assert.equal(v.volume_image_metadata.image_name, 'tiny-linux');
    assert.equal(v.volume_image_metadata.hw_disk_bus, 'virtio');
    const small = await fx.call('demo', 'POST', `${P}/volumes`, { volume: { size: 1, imageRef: IMAGE_ID } });
    assert.equal(small.status, 400);
    assert.match(small.body.badRequest.message, /image 2GB is larger than volume size 1GB/);
  });

  test('from a volume and from a snapshot: size defaults to the source, never smaller', async () => {
    const src = await make({ size: 2, name: 'src' });
    const clone = await make({ source_volid: src.id });
    assert.equal(clone.size, 2);
    assert.equal(clone.source_volid, src.id);
    const tooSmall = await fx.call('demo', 'POST', `${P}/volumes`, { volume: { size: 1, source_volid: src.id } });
    assert.equal(tooSmall.status, 400);
    assert.match(tooSmall.body.badRequest.message, /cannot be smaller than original volume size 2GB/);
    const snap = await fx.call('demo', 'POST', `${P}/snapshots`, { snapshot: { volume_id: src.id, name: 's1' } });
    assert.equal(snap.status, 202);
    const fromSnap = await make({ snapshot_id: snap.body.snapshot.id, size: 3 });
    assert.equal(fromSnap.size, 3);
    assert.equal(fromSnap.snapshot_id, snap.body.snapshot.id);
    assert.ok(fx.casts.some((c) => c.method === 'create_volume' && c.args.volume_id === fromSnap.id));
  });

  test('list detail filters by name, status, metadata and bootable; pages with limit/marker/sort', async () => {
    const a = await make({ size: 1, name: 'pg-a', metadata: { tier: 'x' } });
    const b = await make({ size: 1, name: 'pg-b' });
    const c = await make({ size: 1, name: 'pg-c', metadata: { tier: 'x' } });
    const byName = await fx.call('demo', 'GET', `${P}/volumes/detail?name=pg-b`);
    assert.deepEqual(byName.body.volumes.map((v: any) => v.id), [b.id]);
    const byMeta = await fx.call('demo', 'GET', `${P}/volumes/detail?metadata=${encodeURIComponent('{"tier":"x"}')}`);
    assert.deepEqual(byMeta.body.volumes.map((v: any) => v.id).sort(), [a.id, c.id].sort());
    const boot = await fx.call('demo', 'GET', `${P}/volumes/detail?bootable=true`);
    assert.ok(boot.body.volumes.every((v: any) => v.bootable === 'true'));
    assert.equal((await fx.call('demo', 'GET', `${P}/volumes/detail?status=error`)).body.volumes.length, 0);
    const p1 = await fx.call('demo', 'GET', `${P}/volumes?sort=name:asc&limit=2&name=pg-a`);
    assert.equal(p1.body.volumes.length, 1);
    const all = await fx.call('demo', 'GET', `${P}/volumes/detail?sort=name:asc&limit=2`);
    assert.equal(all.body.volumes.length, 2);
    const next = all.body.volumes_links[0].href as string;
    assert.match(next, /marker=/);
    const page2 = await fetch(next, { headers: { 'x-auth-token': 'demo' } }).then((r) => r.json() as any);
    assert.ok(!page2.volumes.some((v: any) => all.body.volumes.some((w: any) => w.id === v.id)));
    assert.equal((await fx.call('demo', 'GET', `${P}/volumes?sort=colour:asc`)).status, 400);
    assert.equal((await fx.call('demo', 'GET', `${P}/volumes?all_tenants=1`)).status, 403);
    const adminAll = await fx.call('admin', 'GET', '/v3/p-admin/volumes?all_tenants=1');
    assert.ok(adminAll.body.volumes.some((v: any) => v.id === a.id));
    assert.ok(!(await fx.call('admin', 'GET', '/v3/p-admin/volumes')).body.volumes.some((v: any) => v.id === a.id));
  });

  test('extend while available only; bigger only; reset_status is admin', async () => {
    const v = await make({ size: 1 });
    const same = await fx.call('demo', 'POST', `${P}/volumes/${v.id}/action`, { 'os-extend': { new_size: 1 } });
    assert.equal(same.status, 400);
    assert.match(same.body.badRequest.message, /greater than current size/);
    assert.equal((await fx.call('demo', 'POST', `${P}/volumes/${v.id}/action`, { 'os-extend': { new_size: 3 } })).status, 202);
    assert.equal((await fx.waitStatus(v.id, 'available')).size, 3);
    assert.equal((await fx.call('demo', 'POST', `${P}/volumes/${v.id}/action`, { 'os-reset_status': { status: 'in-use' } })).status, 403);
    assert.equal((await fx.call('admin', 'POST', `/v3/p-admin/volumes/${v.id}/action`, { 'os-reset_status': { status: 'in-use' } })).status, 202);
    const inuse = await fx.call('demo', 'POST', `${P}/volumes/${v.id}/action`, { 'os-extend': { new_size: 4 } });
    assert.equal(inuse.status, 400);
    assert.match(inuse.body.badRequest.message, /must be available to extend, but current status is: in-use/);
    const del = await fx.call('demo', 'DELETE', `${P}/volumes/${v.id}`);
    assert.equal(del.status, 400);
    assert.match(del.body.badRequest.message, /Invalid volume: Volume status must be available or error.*current status is: in-use/);
    assert.equal((await fx.call('demo', 'POST', `${P}/volumes/${v.id}/action`, { 'os-frobnicate': {} })).status, 400);
  });

  test('set_bootable, readonly flag and the metadata subresource', async () => {
    const v = await make({ size: 1 });
    const path = `${P}/volumes/${v.id}`;
    assert.equal((await fx.call('demo', 'POST', `${path}/action`, { 'os-set_bootable': { bootable: true } })).status, 200);
    assert.equal((await fx.call('demo', 'GET', path)).body.volume.bootable, 'true');
    assert.equal((await fx.call('demo', 'POST', `${path}/action`, { 'os-update_readonly_flag': { readonly: true } })).status, 202);
    assert.equal((await fx.call('demo', 'GET', `${path}/metadata`)).body.metadata.readonly, 'True');
    assert.deepEqual((await fx.call('demo', 'POST', `${path}/metadata`, { metadata: { k1: 'v1' } })).body.metadata, { readonly: 'True', k1: 'v1' });
    assert.deepEqual((await fx.call('demo', 'GET', `${path}/metadata/k1`)).body, { meta: { k1: 'v1' } });
    assert.equal((await fx.call('demo', 'PUT', `${path}/metadata/k1`, { meta: { k2: 'x' } })).status, 400);
    assert.equal((await fx.call('demo', 'DELETE', `${path}/metadata/k1`)).status, 200);
    assert.equal((await fx.call('demo', 'GET', `${path}/metadata/k1`)).status, 404);
    assert.deepEqual((await fx.call('demo', 'PUT', `${path}/metadata`, { metadata: { only: 'this' } })).body.metadata, { only: 'this' });
  });

  test('a failing volume manager leaves the volume in error with its reason', async () => {
    fx.failCreate = 'disk full on host1';
    try {
      const v = await make({ size: 1 });
      assert.equal(v.status, 'error');
      assert.equal((await fx.call('demo', 'DELETE', `${P}/volumes/${v.id}`)).status, 202);
    } finally {
      fx.failCreate = null;
    }
  });
});

describe('snapshots', () => {
  test('create (force for in-use), show, update, list, delete; volume with snapshots needs cascade', async () => {
    const v = await make({ size: 1 });
    const s = await fx.call('demo', 'POST', `${P}/snapshots`, { snapshot: { volume_id: v.id, name: 'snap' } });
    assert.equal(s.status, 202);
    assert.equal(s.body.snapshot.volume_id, v.id);
    assert.equal(s.body.snapshot.size, 1);
    const id = s.body.snapshot.id;
    assert.equal((await fx.call('demo', 'GET', `${P}/snapshots/${id}`)).body.snapshot.status, 'available');
    assert.equal((await fx.call('demo', 'PUT', `${P}/snapshots/${id}`, { snapshot: { name: 'snap2' } })).body.snapshot.name, 'snap2');
    assert.ok((await fx.call('demo', 'GET', `${P}/snapshots/detail`)).body.snapshots.some((x: any) => x.id === id));
    assert.equal((await fx.call('alt', 'GET', `/v3/p-alt/snapshots/${id}`)).status, 404);
    const del = await fx.call('demo', 'DELETE', `${P}/volumes/${v.id}`);
    assert.equal(del.status, 400);
    assert.match(del.body.badRequest.message, /snapshot/);
    await fx.call('admin', 'POST', `/v3/p-admin/volumes/${v.id}/action`, { 'os-reset_status': { status: 'in-use' } });
    const noForce = await fx.call('demo', 'POST', `${P}/snapshots`, { snapshot: { volume_id: v.id } });
    assert.equal(noForce.status, 400);
    assert.match(noForce.body.badRequest.message, /force/);
    assert.equal((await fx.call('demo', 'POST', `${P}/snapshots`, { snapshot: { volume_id: v.id, force: true } })).status, 202);
    await fx.call('admin', 'POST', `/v3/p-admin/volumes/${v.id}/action`, { 'os-reset_status': { status: 'available' } });
    assert.equal((await fx.call('demo', 'DELETE', `${P}/volumes/${v.id}?cascade=true`)).status, 202);
    await fx.waitStatus(v.id, 'deleted');
    assert.equal((await fx.call('demo', 'GET', `${P}/snapshots/${id}`)).status, 404);
  });
});

describe('types, quotas, limits, zones', () => {
  test('types: __DEFAULT__ listed and default at 3.62; admins create and delete', async () => {
    const list = await fx.call('demo', 'GET', `${P}/types`);
    assert.ok(list.body.volume_types.some((t: any) => t.name === '__DEFAULT__'));
    const def = await fx.call('demo', 'GET', `${P}/types/default`, undefined, { 'openstack-api-version': 'volume 3.62' });
    assert.equal(def.body.volume_type.name, '__DEFAULT__');
    assert.equal((await fx.call('demo', 'POST', `${P}/types`, { volume_type: { name: 'gold' } })).status, 403);
    const made = await fx.call('admin', 'POST', '/v3/p-admin/types', { volume_type: { name: 'multi', extra_specs: { multiattach: '<is> True' } } });
    assert.equal(made.status, 200);
    const v = await make({ size: 1, volume_type: 'multi' });
    assert.equal(v.multiattach, true);
    assert.equal(v.volume_type, 'multi');
    assert.equal((await fx.call('admin', 'DELETE', `/v3/p-admin/types/${made.body.volume_type.id}`)).status, 400);
    assert.equal((await fx.call('admin', 'POST', '/v3/p-admin/types', { volume_type: { name: 'multi' } })).status, 409);
  });

  test('quota: usage, admin update, 413 over quota with nothing created', async () => {
    const q = await fx.call('alt', 'GET', '/v3/p-alt/os-quota-sets/p-alt?usage=true');
    assert.deepEqual(q.body.quota_set.volumes, { limit: 10, in_use: 0, reserved: 0, allocated: 0 });
    assert.equal((await fx.call('alt', 'PUT', '/v3/p-alt/os-quota-sets/p-alt', { quota_set: { volumes: 1 } })).status, 403);
    const up = await fx.call('admin', 'PUT', '/v3/p-admin/os-quota-sets/p-alt', { quota_set: { volumes: 1, gigabytes: 5 } });
    assert.equal(up.status, 200);
    assert.equal(up.body.quota_set.volumes, 1);
    assert.equal((await fx.call('admin', 'PUT', '/v3/p-admin/os-quota-sets/p-alt', { quota_set: { colour: 1 } })).status, 400);
    const big = await fx.call('alt', 'POST', '/v3/p-alt/volumes', { volume: { size: 6 } });
    assert.equal(big.status, 413);
    assert.match(big.body.overLimit.message, /exceeds allowed gigabytes quota. Requested 6G, quota is 5G/);
    await make({ size: 1 }, 'alt', 'p-alt');
    const second = await fx.call('alt', 'POST', '/v3/p-alt/volumes', { volume: { size: 1 } });
    assert.equal(second.status, 413);
    assert.match(second.body.overLimit.message, /Maximum number of volumes allowed \(1\) exceeded/);
    const lim = await fx.call('alt', 'GET', '/v3/p-alt/limits');
    assert.equal(lim.body.limits.absolute.maxTotalVolumes, 1);
    assert.equal(lim.body.limits.absolute.totalVolumesUsed, 1);
    assert.equal((await fx.call('alt', 'GET', '/v3/p-alt/os-quota-sets/p-alt/defaults')).body.quota_set.volumes, 10);
  });

  test('availability zone nova is available while a volume service is up', async () => {
    const r = await fx.call('demo', 'GET', `${P}/os-availability-zone`);
    assert.deepEqual(r.body.availabilityZoneInfo, [{ zoneName: 'nova', zoneState: { available: true } }]);
  });
});

describe('no volume service', () => {
  test('a volume created while no cinder-volume service is up goes to error, saying so', async () => {
    const bare = await startVolFixture({ withManager: false });
    try {
      const r = await bare.call('demo', 'POST', `${P}/volumes`, { volume: { size: 1 } });
      assert.equal(r.status, 202);
      assert.equal(r.body.volume.status, 'error');
      const row = await bare.service.client.get(r.body.volume.id);
      assert.match(row.error ?? '', /No volume service is up/);
      await assert.rejects(bare.service.client.waitAvailable(r.body.volume.id, 1000), /No volume service is up/);
      assert.equal((await bare.call('demo', 'DELETE', `${P}/volumes/${r.body.volume.id}`)).status, 202);
      assert.equal((await bare.call('demo', 'GET', `${P}/volumes/${r.body.volume.id}`)).status, 404);
    } finally {
      await bare.close();
    }
  });
});
