/** os-aggregates over HTTP: admin-only CRUD, host membership, zones and how the rest of the API sees them. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, waitFor, type TestCloud } from '../helpers/cloud.js';

const A = '/compute/v2.1/os-aggregates';
const mv = (v: string) => ({ 'openstack-api-version': `compute ${v}` });

describe('host aggregates', () => {
  let t: TestCloud;
  const create = (name: string, zone?: string | null) =>
    t.admin.post(A, { aggregate: { name, ...(zone !== undefined ? { availability_zone: zone } : {}) } });
  const act = (id: number, body: unknown, headers?: Record<string, string>) => t.admin.post(`${A}/${id}/action`, body, headers);
  const zones = async () =>
    (await t.demo.get('/compute/v2.1/os-availability-zone')).body.availabilityZoneInfo.map((z: any) => z.zoneName).sort();

  before(async () => {
    t = await startTestCloud({ fakeHosts: 2 });
    await waitFor(async () => (await t.admin.get('/compute/v2.1/os-hypervisors')).body.hypervisors?.length === 2, 'two hypervisors');
  });
  after(async () => {
    await t?.close();
  });

  it('is admin only', async () => {
    for (const r of [await t.demo.get(A), await t.demo.post(A, { aggregate: { name: 'x' } }), await t.demo.get(`${A}/1`)]) {
      assert.equal(r.status, 403);
      assert.match(r.body.forbidden.message, /os-aggregates/);
    }
  });

  it('creates, shows, lists, renames and deletes, with Nova shapes per microversion', async () => {
    const c = await create('agg-crud', 'london');
    assert.equal(c.status, 200, JSON.stringify(c.body));
    const a = c.body.aggregate;
    assert.equal(a.name, 'agg-crud');
    assert.equal(a.availability_zone, 'london');
    assert.equal(a.deleted, false);
    assert.equal(a.deleted_at, null);
    assert.equal(a.updated_at, null);
    assert.match(a.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.equal(typeof a.id, 'number');
    assert.equal('hosts' in a, false, 'create omits hosts, as Nova');
    assert.equal('uuid' in a, false, 'no uuid before 2.41');

    const shown = (await t.admin.get(`${A}/${a.id}`)).body.aggregate;
    assert.deepEqual(shown.hosts, []);
    assert.deepEqual(shown.metadata, { availability_zone: 'london' });
    const v241 = (await t.admin.get(`${A}/${a.id}`, mv('2.41'))).body.aggregate;
    assert.match(v241.uuid, /^[0-9a-f-]{36}$/);
    const listed = (await t.admin.get(A)).body.aggregates;
    assert.ok(listed.some((x: any) => x.id === a.id && x.name === 'agg-crud'));

    const up = await t.admin.put(`${A}/${a.id}`, { aggregate: { name: 'agg-renamed', availability_zone: 'paris' } });
    assert.equal(up.status, 200);
    assert.equal(up.body.aggregate.name, 'agg-renamed');
    assert.equal(up.body.aggregate.availability_zone, 'paris');
    assert.deepEqual(up.body.aggregate.metadata, { availability_zone: 'paris' });
    assert.ok(up.body.aggregate.updated_at);

    const del = await t.admin.delete(`${A}/${a.id}`);
    assert.equal(del.status, 200);
    assert.equal((await t.admin.get(`${A}/${a.id}`)).status, 404);
    assert.equal((await t.admin.delete(`${A}/${a.id}`)).status, 404);
    // The name is free again once deleted.
    const again = await create('agg-renamed');
    assert.equal(again.status, 200);
    assert.equal(again.body.aggregate.availability_zone, null);
    await t.admin.delete(`${A}/${again.body.aggregate.id}`);
  });

  it('rejects bad input and duplicate names', async () => {
    assert.equal((await create('dup')).status, 200);
    const dup = await create('dup');
    assert.equal(dup.status, 409);
    assert.equal(dup.body.conflictingRequest.message, 'Aggregate dup already exists.');
    for (const body of [
      {},
      { aggregate: {} },
      { aggregate: { name: '' } },
      { aggregate: { name: 'x'.repeat(256) } },
      { aggregate: { name: ' padded ' } },
      { aggregate: { name: 'ok', availability_zone: 'a:b' } },
      { aggregate: { name: 'ok', availability_zone: '' } },
      { aggregate: { name: 'ok', bogus: 1 } },
    ]) {
      const r = await t.admin.post(A, body);
      assert.equal(r.status, 400, JSON.stringify(body));
    }
    assert.equal((await t.admin.get(`${A}/abc`)).status, 400);
    assert.equal((await t.admin.get(`${A}/99999`)).body.itemNotFound.message, 'Aggregate 99999 could not be found.');
    const id = (await t.admin.get(A)).body.aggregates.find((x: any) => x.name === 'dup').id;
    assert.equal((await t.admin.put(`${A}/${id}`, { aggregate: {} })).status, 400);
    assert.equal((await act(id, { bogus: {} })).status, 400);
    assert.equal((await act(id, { add_host: {} })).status, 400);
    assert.equal((await act(id, { set_metadata: { metadata: { 'bad/key!': 'v' } } })).status, 400);
    await t.admin.delete(`${A}/${id}`);
  });

  it('adds and removes hosts, which moves them between availability zones', async () => {
    const a = (await create('agg-az1', 'az1')).body.aggregate;
    assert.deepEqual(await zones(), ['nova']);

    const unknown = await act(a.id, { add_host: { host: 'nohost' } });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.itemNotFound.message, 'Compute host nohost could not be found.');
    const added = await act(a.id, { add_host: { host: 'host1' } });
    assert.equal(added.status, 200);
    assert.deepEqual(added.body.aggregate.hosts, ['host1']);
    const twice = await act(a.id, { add_host: { host: 'host1' } });
    assert.equal(twice.status, 409);

    assert.deepEqual(await zones(), ['az1', 'nova']);
    const svc = (await t.admin.get('/compute/v2.1/os-services?binary=nova-compute')).body.services;
    assert.equal(svc.find((s: any) => s.host === 'host1').zone, 'az1');
    assert.equal(svc.find((s: any) => s.host === 'host2').zone, 'nova');

    // A host sits in one zone: another aggregate of another zone cannot take it (409, as Nova).
    const b = (await create('agg-az2', 'az2')).body.aggregate;
    const clash = await act(b.id, { add_host: { host: 'host1' } });
    assert.equal(clash.status, 409);
    assert.match(clash.body.conflictingRequest.message, /already in availability zone\(s\) \['az1'\]/);
    // An aggregate without a zone can share the host; then giving it another zone is refused.
    const plain = (await create('agg-plain')).body.aggregate;
    assert.equal((await act(plain.id, { add_host: { host: 'host1' } })).status, 200);
    const rezone = await act(plain.id, { set_metadata: { metadata: { availability_zone: 'az2' } } });
    assert.equal(rezone.status, 400);
    assert.equal((await t.admin.put(`${A}/${plain.id}`, { aggregate: { availability_zone: 'az3' } })).status, 400);

    // Non-empty aggregates cannot be deleted.
    const busy = await t.admin.delete(`${A}/${a.id}`);
    assert.equal(busy.status, 400);
    assert.match(busy.body.badRequest.message, /Host aggregate is not empty/);

    const notMember = await act(b.id, { remove_host: { host: 'host1' } });
    assert.equal(notMember.status, 404);
    assert.equal(notMember.body.itemNotFound.message, `Cannot remove host host1 in aggregate ${b.id}`);
    assert.equal((await act(plain.id, { remove_host: { host: 'host1' } })).status, 200);
    const removed = await act(a.id, { remove_host: { host: 'host1' } });
    assert.deepEqual(removed.body.aggregate.hosts, []);
    assert.deepEqual(await zones(), ['nova']);
    for (const x of [a, b, plain]) assert.equal((await t.admin.delete(`${A}/${x.id}`)).status, 200);
  });

  it('sets and deletes metadata; the zone key cannot be emptied', async () => {
    const a = (await create('agg-meta', 'zm')).body.aggregate;
    const set = await act(a.id, { set_metadata: { metadata: { ssd: 'true', gpu: '1' } } });
    assert.equal(set.status, 200);
    assert.deepEqual(set.body.aggregate.metadata, { availability_zone: 'zm', gpu: '1', ssd: 'true' });
    assert.ok(set.body.aggregate.updated_at);
    const unset = await act(a.id, { set_metadata: { metadata: { gpu: null, missing: null } } });
    assert.deepEqual(unset.body.aggregate.metadata, { availability_zone: 'zm', ssd: 'true' });
    const empty = await act(a.id, { set_metadata: { metadata: { availability_zone: null } } });
    assert.equal(empty.status, 400);
    assert.match(empty.body.badRequest.message, /does not support empty named availability zone/);
    const moved = await act(a.id, { set_metadata: { metadata: { availability_zone: 'zm2' } } });
    assert.equal(moved.body.aggregate.availability_zone, 'zm2');
    await t.admin.delete(`${A}/${a.id}`);
  });

  it('accepts image cache requests from 2.81 only', async () => {
    const a = (await create('agg-cache')).body.aggregate;
    const image = (await t.admin.get('/image/v2/images')).body.images[0].id;
    assert.equal((await t.admin.post(`${A}/${a.id}/images`, { cache: [{ id: image }] })).status, 404);
    assert.equal((await t.admin.post(`${A}/${a.id}/images`, { cache: [{ id: image }] }, mv('2.81'))).status, 202);
    assert.equal((await t.admin.post(`${A}/${a.id}/images`, { cache: [{ id: image }, { id: image }] }, mv('2.81'))).status, 400);
    assert.equal((await t.admin.post(`${A}/${a.id}/images`, { cache: [] }, mv('2.81'))).status, 400);
    const missing = await t.admin.post(`${A}/${a.id}/images`, { cache: [{ id: '00000000-0000-0000-0000-000000000000' }] }, mv('2.81'));
    assert.equal(missing.status, 400);
    assert.equal((await t.demo.post(`${A}/${a.id}/images`, { cache: [{ id: image }] }, mv('2.81'))).status, 403);
    await t.admin.delete(`${A}/${a.id}`);
  });

  it('refuses to rename a zone while instances run on its hosts', async () => {
    const a = (await create('agg-busy', 'busy-az')).body.aggregate;
    assert.equal((await act(a.id, { add_host: { host: 'host2' } })).status, 200);
    const image = (await t.demo.get('/image/v2/images')).body.images.find((i: any) => i.status === 'active').id;
    const boot = await t.demo.post('/compute/v2.1/servers', { server: { name: 'in-az', imageRef: image, flavorRef: '1', availability_zone: 'busy-az' } });
    assert.equal(boot.status, 202, JSON.stringify(boot.body));
    const id = boot.body.server.id;
    await waitFor(async () => (await t.admin.get(`/compute/v2.1/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host'] === 'host2', 'server on host2');
    const rename = await t.admin.put(`${A}/${a.id}`, { aggregate: { availability_zone: 'other-az' } });
    assert.equal(rename.status, 400);
    assert.match(rename.body.badRequest.message, /One or more hosts contain instances in this zone/);
    assert.equal((await t.admin.put(`${A}/${a.id}`, { aggregate: { availability_zone: 'busy-az' } })).status, 200, 'same name is fine');
    assert.equal((await t.demo.delete(`/compute/v2.1/servers/${id}`)).status, 204);
    await waitFor(async () => (await t.admin.get(`/compute/v2.1/servers/${id}`)).status === 404, 'server gone');
    assert.equal((await t.admin.put(`${A}/${a.id}`, { aggregate: { availability_zone: 'other-az' } })).status, 200);
    assert.equal((await act(a.id, { remove_host: { host: 'host2' } })).status, 200);
    assert.equal((await t.admin.delete(`${A}/${a.id}`)).status, 200);
  });
});
