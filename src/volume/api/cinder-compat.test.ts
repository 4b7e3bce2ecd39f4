/**
 * Block Storage API details that clients (Tempest's response schemas, OSC) rely on: which
 * answers carry the extension attributes, paging links and offset, the volume summary,
 * snapshots of missing volumes, and the older attach actions.
 */
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
  return { created: r.body.volume, shown: await fx.waitStatus(r.body.volume.id, 'available', 'error') };
}

describe('extension attributes only on show and list-detail', () => {
  test('volume create and update answers carry no image metadata nor admin attributes; show and detail do', async () => {
    const { created, shown } = await make({ imageRef: IMAGE_ID, size: 2 }, 'admin', 'p-admin');
    for (const k of ['volume_image_metadata', 'os-vol-tenant-attr:tenant_id', 'os-vol-host-attr:host', 'os-vol-mig-status-attr:migstat'])
      assert.ok(!(k in created), `create answer has ${k}`);
    assert.equal(shown.volume_image_metadata.image_id, IMAGE_ID);
    assert.equal(shown['os-vol-tenant-attr:tenant_id'], 'p-admin');
    const up = await fx.call('admin', 'PUT', `/v3/p-admin/volumes/${created.id}`, { volume: { name: 'renamed' } });
    assert.equal(up.status, 200);
    assert.equal(up.body.volume.name, 'renamed');
    assert.ok(!('volume_image_metadata' in up.body.volume) && !('os-vol-tenant-attr:tenant_id' in up.body.volume));
    const detail = await fx.call('admin', 'GET', '/v3/p-admin/volumes/detail');
    const mine = detail.body.volumes.find((v: any) => v.id === created.id);
    assert.equal(mine.volume_image_metadata.image_id, IMAGE_ID);
    assert.equal(mine['os-vol-host-attr:host'], 'host1@file#file');
  });

  test('snapshot progress and project only on show and list-detail; the plain list has no links', async () => {
    const { shown: v } = await make({ size: 1 });
    const s = await fx.call('demo', 'POST', `${P}/snapshots`, { snapshot: { volume_id: v.id, name: 's' } });
    assert.equal(s.status, 202);
    assert.ok(!('os-extended-snapshot-attributes:progress' in s.body.snapshot));
    const id = s.body.snapshot.id;
    const shown = (await fx.call('demo', 'GET', `${P}/snapshots/${id}`)).body.snapshot;
    assert.equal(shown['os-extended-snapshot-attributes:project_id'], 'p-demo');
    assert.match(shown['os-extended-snapshot-attributes:progress'], /^\d+%$/);
    const detail = (await fx.call('demo', 'GET', `${P}/snapshots/detail`)).body.snapshots.find((x: any) => x.id === id);
    assert.equal(detail['os-extended-snapshot-attributes:project_id'], 'p-demo');
    const plain = (await fx.call('demo', 'GET', `${P}/snapshots`)).body.snapshots.find((x: any) => x.id === id);
    assert.deepEqual(Object.keys(plain).sort(), ['created_at', 'description', 'id', 'metadata', 'name', 'size', 'status', 'updated_at', 'volume_id']);
    const up = await fx.call('demo', 'PUT', `${P}/snapshots/${id}`, { snapshot: { name: 's2' } });
    assert.ok(!('os-extended-snapshot-attributes:progress' in up.body.snapshot));
  });

  test('a snapshot of a missing volume (or of volume_id null) is 404, of another project\'s volume too', async () => {
    const missing = await fx.call('demo', 'POST', `${P}/snapshots`, { snapshot: { volume_id: '99999999-9999-9999-9999-999999999999' } });
    assert.equal(missing.status, 404);
    assert.match(missing.body.itemNotFound.message, /Volume 99999999-9999-9999-9999-999999999999 could not be found/);
    assert.equal((await fx.call('demo', 'POST', `${P}/snapshots`, { snapshot: { volume_id: null } })).status, 404);
    const { shown: other } = await make({ size: 1 }, 'alt', 'p-alt');
    assert.equal((await fx.call('demo', 'POST', `${P}/snapshots`, { snapshot: { volume_id: other.id } })).status, 404);
    assert.equal((await fx.call('demo', 'POST', `${P}/snapshots`, { snapshot: { volume_id: 5 } })).status, 400);
  });
});

describe('paging and summary', () => {
  test('every full page links the next one (an empty page ends it); offset skips after the marker', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await make({ size: 1, name: `page-${i}` }, 'alt', 'p-alt')).shown.id);
    const seen: string[] = [];
    let url: string | null = `${fx.url}/volume/v3/p-alt/volumes/detail?limit=1&name=page-0`;
    const first = await fetch(url, { headers: { 'x-auth-token': 'alt' } }).then((r) => r.json() as any);
    assert.equal(first.volumes.length, 1);
    assert.ok(first.volumes_links, 'a full last page still links the next one');
    url = `${fx.url}/volume/v3/p-alt/volumes?limit=1&sort=name:asc`;
    let pages = 0;
    while (url && pages++ < 10) {
      const page: any = await fetch(url, { headers: { 'x-auth-token': 'alt' } }).then((r) => r.json());
      seen.push(...page.volumes.map((v: any) => v.id));
      url = page.volumes_links?.find((l: any) => l.rel === 'next')?.href ?? null;
    }
    for (const id of ids) assert.ok(seen.includes(id));
    assert.equal(new Set(seen).size, seen.length, 'no volume twice');
    const all = (await fx.call('alt', 'GET', '/v3/p-alt/volumes?sort=name:asc')).body.volumes;
    const off = await fx.call('alt', 'GET', '/v3/p-alt/volumes?sort=name:asc&offset=1&limit=1');
    assert.deepEqual(off.body.volumes.map((v: any) => v.id), [all[1].id]);
    assert.ok(!off.body.volumes_links[0].href.includes('offset'), 'the next link does not skip again');
    assert.equal((await fx.call('alt', 'GET', '/v3/p-alt/volumes?offset=-1')).status, 400);
    assert.equal((await fx.call('alt', 'GET', '/v3/p-alt/volumes?offset=x')).status, 400);
  });

  test('volumes/summary from 3.12 counts what the list shows (metadata from 3.36); 404 below 3.12', async () => {
    await make({ size: 2, metadata: { k: 'a' } }, 'admin', 'p-admin');
    await make({ size: 3, metadata: { k: 'b' } }, 'admin', 'p-admin');
    const rows = (await fx.call('admin', 'GET', '/v3/p-admin/volumes/detail')).body.volumes;
    const s = await fx.call('admin', 'GET', '/v3/p-admin/volumes/summary', undefined, { 'openstack-api-version': 'volume 3.12' });
    assert.equal(s.status, 200);
    assert.deepEqual(s.body['volume-summary'], { total_count: rows.length, total_size: rows.reduce((n: number, v: any) => n + v.size, 0) });
    const m = await fx.call('admin', 'GET', '/v3/p-admin/volumes/summary', undefined, { 'openstack-api-version': 'volume 3.36' });
    assert.deepEqual(m.body['volume-summary'].metadata.k.sort(), ['a', 'b']);
    assert.equal((await fx.call('admin', 'GET', '/v3/p-admin/volumes/summary')).status, 404);
  });
});

describe('the older attach actions', () => {
  const act = (id: string, body: unknown) => fx.call('demo', 'POST', `${P}/volumes/${id}/action`, body);

  test('reserve -> attaching, unreserve -> available; attach -> in-use with the attachment; detach -> available', async () => {
    const { shown: v } = await make({ size: 1 });
    assert.equal((await act(v.id, { 'os-reserve': null })).status, 202);
    assert.equal((await fx.waitStatus(v.id, 'attaching')).status, 'attaching');
    const again = await act(v.id, { 'os-reserve': {} });
    assert.equal(again.status, 400);
    assert.match(again.body.badRequest.message, /must be available to reserve, but the status is attaching/);
    assert.equal((await act(v.id, { 'os-unreserve': {} })).status, 202);
    await fx.waitStatus(v.id, 'available');
    const server = '0b0b0b0b-1111-2222-3333-444444444444';
    assert.equal((await act(v.id, { 'os-attach': { instance_uuid: server, mountpoint: '/dev/vdb' } })).status, 202);
    const inUse = await fx.waitStatus(v.id, 'in-use');
    assert.equal(inUse.attachments.length, 1);
    assert.equal(inUse.attachments[0].server_id, server);
    assert.equal(inUse.attachments[0].device, '/dev/vdb');
    assert.equal(inUse.attachments[0].id, v.id);
    const twice = await act(v.id, { 'os-attach': { instance_uuid: server, mountpoint: '/dev/vdc' } });
    assert.equal(twice.status, 400, 'not multiattach');
    assert.equal((await fx.call('demo', 'DELETE', `${P}/volumes/${v.id}`)).status, 400, 'attached volumes are not deleted');
    assert.equal((await act(v.id, { 'os-begin_detaching': {} })).status, 202);
    await fx.waitStatus(v.id, 'detaching');
    assert.equal((await act(v.id, { 'os-roll_detaching': {} })).status, 202);
    await fx.waitStatus(v.id, 'in-use');
    assert.equal((await act(v.id, { 'os-detach': {} })).status, 202);
    const free = await fx.waitStatus(v.id, 'available');
    assert.deepEqual(free.attachments, []);
    assert.equal((await act(v.id, { 'os-detach': {} })).status, 202, 'nothing left to detach: still fine');
    assert.equal((await fx.waitStatus(v.id, 'available')).status, 'available');
    assert.equal((await act(v.id, { 'os-begin_detaching': {} })).status, 400);
  });

  test('os-attach needs a mountpoint and exactly one of instance_uuid and host_name; readers may not', async () => {
    const { shown: v } = await make({ size: 1 });
    assert.equal((await act(v.id, { 'os-attach': { instance_uuid: '0b0b0b0b-1111-2222-3333-444444444444' } })).status, 400);
    assert.equal((await act(v.id, { 'os-attach': { mountpoint: '/dev/vdb' } })).status, 400);
    assert.equal((await act(v.id, { 'os-attach': { mountpoint: '/dev/vdb', instance_uuid: '0b0b0b0b-1111-2222-3333-444444444444', host_name: 'h' } })).status, 400);
    const r = await fx.call('reader', 'POST', `${P}/volumes/${v.id}/action`, { 'os-attach': { mountpoint: '/dev/vdb', host_name: 'h' } });
    assert.equal(r.status, 403);
    assert.equal((await fx.waitStatus(v.id, 'available')).status, 'available', 'nothing changed');
  });
});

describe('volume types', () => {
  test('the create answer has no qos_specs_id; show (admin) has it', async () => {
    const r = await fx.call('admin', 'POST', '/v3/p-admin/types', { volume_type: { name: 'compat-gold' } });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body.volume_type).sort(), ['description', 'extra_specs', 'id', 'is_public', 'name', 'os-volume-type-access:is_public']);
    const shown = await fx.call('admin', 'GET', `/v3/p-admin/types/${r.body.volume_type.id}`);
    assert.equal(shown.body.volume_type.qos_specs_id, null);
    assert.ok(!('qos_specs_id' in (await fx.call('demo', 'GET', `${P}/types/${r.body.volume_type.id}`)).body.volume_type));
  });

  test('update (admin): name, description, is_public; the default type keeps its name; names stay unique', async () => {
    const t = (await fx.call('admin', 'POST', '/v3/p-admin/types', { volume_type: { name: 'compat-silver' } })).body.volume_type;
    const T = `/v3/p-admin/types/${t.id}`;
    assert.equal((await fx.call('demo', 'PUT', `${P}/types/${t.id}`, { volume_type: { description: 'x' } })).status, 403);
    const up = await fx.call('admin', 'PUT', T, { volume_type: { name: 'compat-bronze', description: 'cheaper', is_public: false } });
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.deepEqual(up.body.volume_type, { id: t.id, name: 'compat-bronze', description: 'cheaper', is_public: false, extra_specs: {} });
    assert.equal((await fx.call('admin', 'GET', T)).body.volume_type['os-volume-type-access:is_public'], false);
    // A private type: admins only (no access lists): users neither see it nor make volumes of it.
    assert.equal((await fx.call('demo', 'GET', `${P}/types/${t.id}`)).status, 404);
    assert.equal((await fx.call('demo', 'POST', `${P}/volumes`, { volume: { size: 1, volume_type: t.id } })).status, 404);
    assert.equal((await fx.call('admin', 'POST', '/v3/p-admin/volumes', { volume: { size: 1, volume_type: t.id } })).status, 202);
    assert.equal((await fx.call('admin', 'PUT', T, { volume_type: {} })).status, 400);
    assert.equal((await fx.call('admin', 'PUT', T, { volume_type: { name: 'compat-gold' } })).status, 409);
    const def = (await fx.call('admin', 'GET', '/v3/p-admin/types')).body.volume_types.find((x: any) => x.name === '__DEFAULT__');
    assert.equal((await fx.call('admin', 'PUT', `/v3/p-admin/types/${def.id}`, { volume_type: { name: 'renamed' } })).status, 400);
    assert.equal((await fx.call('admin', 'PUT', `/v3/p-admin/types/${def.id}`, { volume_type: { description: 'the default' } })).status, 200);
  });
});
