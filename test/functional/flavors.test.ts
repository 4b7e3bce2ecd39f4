/** Flavors, flavor extra specs and flavor access through the Compute API. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';

const F = '/compute/v2.1/flavors';

describe('flavors', () => {
  let t: TestCloud;
  before(async () => {
    t = await startTestCloud();
  });
  after(async () => {
    await t?.close();
  });

  it('lists the seeded DevStack flavors to every user', async () => {
    const r = await t.demo.get(F);
    assert.equal(r.status, 200);
    const names = r.body.flavors.map((f: any) => f.name);
    for (const n of ['m1.tiny', 'm1.small', 'm1.medium', 'm1.large', 'm1.xlarge']) assert.ok(names.includes(n), n);
    const tiny = r.body.flavors.find((f: any) => f.name === 'm1.tiny');
    assert.deepEqual(Object.keys(tiny).sort(), ['id', 'links', 'name']);
    assert.equal(tiny.id, '1');
    assert.match(tiny.links[0].href, /\/compute\/v2\.1\/flavors\/1$/);
  });

  it('shows a flavor with the shape of each microversion', async () => {
    const v21 = await t.demo.get(`${F}/1`);
    assert.equal(v21.status, 200);
    assert.deepEqual(
      { ram: v21.body.flavor.ram, vcpus: v21.body.flavor.vcpus, disk: v21.body.flavor.disk, swap: v21.body.flavor.swap },
      { ram: 512, vcpus: 1, disk: 1, swap: '' },
    );
    assert.equal(v21.body.flavor['OS-FLV-EXT-DATA:ephemeral'], 0);
    assert.equal(v21.body.flavor['os-flavor-access:is_public'], true);
    assert.equal(v21.body.flavor['OS-FLV-DISABLED:disabled'], false);
    assert.equal(v21.body.flavor.rxtx_factor, 1);
    assert.equal('description' in v21.body.flavor, false);
    const v255 = await t.demo.get(`${F}/1`, { 'openstack-api-version': 'compute 2.55' });
    assert.equal(v255.body.flavor.description, null);
    assert.equal('extra_specs' in v255.body.flavor, false);
    const v261 = await t.demo.get(`${F}/1`, { 'openstack-api-version': 'compute 2.61' });
    assert.deepEqual(v261.body.flavor.extra_specs, {});
    assert.equal(v261.body.flavor.swap, '');
    const v275 = await t.demo.get(`${F}/1`, { 'openstack-api-version': 'compute 2.75' });
    assert.equal(v275.body.flavor.swap, 0);
  });

  it('answers 404 for an unknown flavor', async () => {
    const r = await t.demo.get(`${F}/nope`);
    assert.equal(r.status, 404);
    assert.equal(r.body.itemNotFound.message, 'Flavor nope could not be found.');
  });

  it('filters, sorts and pages', async () => {
    const big = await t.demo.get(`${F}/detail?minRam=8192`);
    assert.deepEqual(big.body.flavors.map((f: any) => f.name).sort(), ['m1.large', 'm1.xlarge']);
    const disk = await t.demo.get(`${F}?minDisk=80&sort_key=memory_mb&sort_dir=desc`);
    assert.deepEqual(disk.body.flavors.map((f: any) => f.name), ['m1.xlarge', 'm1.large']);
    const page = await t.demo.get(`${F}?sort_key=memory_mb&limit=2`);
    assert.equal(page.body.flavors.length, 2);
    assert.ok(page.body.flavors_links[0].href.includes(`marker=${page.body.flavors[1].id}`));
    const next = await t.demo.get(`${F}?sort_key=memory_mb&limit=2&marker=${page.body.flavors[1].id}`);
    assert.notEqual(next.body.flavors[0].id, page.body.flavors[1].id);
    assert.equal((await t.demo.get(`${F}?minRam=lots`)).status, 400);
    assert.equal((await t.demo.get(`${F}?sort_key=bogus`)).status, 400);
    assert.equal((await t.demo.get(`${F}?marker=nope`)).status, 400);
    assert.equal((await t.demo.get(`${F}?limit=-1`)).status, 400);
    const strict = await t.demo.get(`${F}?foo=1`, { 'openstack-api-version': 'compute 2.75' });
    assert.equal(strict.status, 400);
    assert.equal((await t.demo.get(`${F}?foo=1`)).status, 200);
  });

  it('lets an admin create, describe and delete a flavor; others get 403', async () => {
    const body = { flavor: { name: 'test.create', ram: 1024, vcpus: 2, disk: 10, id: 'tc1', swap: 512, 'OS-FLV-EXT-DATA:ephemeral': 5 } };
    assert.equal((await t.demo.post(F, body)).status, 403);
    const c = await t.admin.post(F, body);
    assert.equal(c.status, 200);
    assert.equal(c.body.flavor.id, 'tc1');
    assert.equal(c.body.flavor.swap, 512);
    assert.equal(c.body.flavor['OS-FLV-EXT-DATA:ephemeral'], 5);
    assert.equal((await t.admin.post(F, body)).status, 409);
    const sameId = await t.admin.post(F, { flavor: { ...body.flavor, name: 'other' } });
    assert.equal(sameId.status, 409);
    assert.equal(sameId.body.conflictingRequest.message, 'Flavor with ID tc1 already exists.');
    const auto = await t.admin.post(F, { flavor: { name: 'test.auto', ram: '256', vcpus: '1', disk: '0', id: 'auto' } });
    assert.equal(auto.status, 200);
    assert.match(auto.body.flavor.id, /^[0-9a-f-]{36}$/);
    assert.equal(auto.body.flavor.ram, 256);
    const desc = await t.admin.put(`${F}/tc1`, { flavor: { description: 'hello' } }, { 'openstack-api-version': 'compute 2.55' });
    assert.equal(desc.status, 200);
    assert.equal(desc.body.flavor.description, 'hello');
    assert.equal((await t.admin.put(`${F}/tc1`, { flavor: { description: 'x' } })).status, 404);
    assert.equal((await t.demo.delete(`${F}/tc1`)).status, 403);
    assert.equal((await t.admin.delete(`${F}/tc1`)).status, 202);
    assert.equal((await t.admin.get(`${F}/tc1`)).status, 404);
    assert.equal((await t.admin.delete(`${F}/tc1`)).status, 404);
  });

  it('rejects bad flavor bodies with 400 and creates nothing', async () => {
    const bad = [
      { flavor: { name: 'b1', ram: 0, vcpus: 1, disk: 1 } },
      { flavor: { name: 'b2', ram: 64, vcpus: -1, disk: 1 } },
      { flavor: { name: 'b3', ram: 64, vcpus: 1 } },
      { flavor: { name: ' b4', ram: 64, vcpus: 1, disk: 1 } },
      { flavor: { name: 'b5', ram: 'abc', vcpus: 1, disk: 1 } },
      { flavor: { name: 'b6', ram: 64, vcpus: 1, disk: 1, bogus: 1 } },
      { flavor: { name: 'b7', ram: 64, vcpus: 1, disk: 1, rxtx_factor: 0 } },
      { flavor: { name: 'b8', ram: 64, vcpus: 1, disk: 1, description: 'only from 2.55' } },
      { flavor: { name: 'b9', ram: 64, vcpus: 1, disk: 1, id: 'has/slash' } },
      { flavor: { name: 'b10', ram: 64, vcpus: 1, disk: 1, 'os-flavor-access:is_public': 'maybe' } },
      { nope: {} },
    ];
    for (const b of bad) {
      const r = await t.admin.post(F, b);
      assert.equal(r.status, 400, JSON.stringify(b));
      assert.ok(r.body.badRequest.message, JSON.stringify(r.body));
    }
    const all = await t.admin.get(`${F}?is_public=none`);
    assert.equal(all.body.flavors.filter((f: any) => /^b\d+$/.test(f.name)).length, 0);
  });

  it('manages extra specs (admin writes, everyone reads)', async () => {
    const ES = `${F}/2/os-extra_specs`;
    assert.equal((await t.demo.post(ES, { extra_specs: { 'hw:cpu_policy': 'shared' } })).status, 403);
    const c = await t.admin.post(ES, { extra_specs: { 'hw:cpu_policy': 'shared', 'custom:n': 3 } });
    assert.equal(c.status, 200);
    assert.deepEqual(c.body.extra_specs, { 'hw:cpu_policy': 'shared', 'custom:n': '3' });
    assert.deepEqual((await t.demo.get(ES)).body.extra_specs, { 'custom:n': '3', 'hw:cpu_policy': 'shared' });
    assert.deepEqual((await t.demo.get(`${ES}/custom:n`)).body, { 'custom:n': '3' });
    const put = await t.admin.put(`${ES}/custom:n`, { 'custom:n': '4' });
    assert.deepEqual(put.body, { 'custom:n': '4' });
    assert.equal((await t.admin.put(`${ES}/custom:n`, { other: '4' })).status, 400);
    assert.equal((await t.admin.put(`${ES}/custom:n`, { 'custom:n': '4', b: '1' })).status, 400);
    assert.equal((await t.admin.post(ES, { extra_specs: { 'bad/key': 'x' } })).status, 400);
    const v261 = await t.demo.get(`${F}/2`, { 'openstack-api-version': 'compute 2.61' });
    assert.deepEqual(v261.body.flavor.extra_specs, { 'custom:n': '4', 'hw:cpu_policy': 'shared' });
    const strict = await t.admin.post(ES, { extra_specs: { 'hw:cpu_policy': 'sometimes' } }, { 'openstack-api-version': 'compute 2.86' });
    assert.equal(strict.status, 400);
    assert.match(strict.body.badRequest.message, /hw:cpu_policy/);
    assert.equal((await t.admin.post(ES, { extra_specs: { 'hw:cpu_policy': 'sometimes' } })).status, 200);
    assert.equal((await t.admin.delete(`${ES}/custom:n`)).status, 200);
    assert.equal((await t.admin.delete(`${ES}/custom:n`)).status, 404);
    assert.equal((await t.demo.get(`${ES}/custom:n`)).status, 404);
  });

  it('hides private flavors except from admins and projects given access', async () => {
    const c = await t.admin.post(F, { flavor: { name: 'private.one', ram: 64, vcpus: 1, disk: 0, id: 'p1', 'os-flavor-access:is_public': false } });
    assert.equal(c.status, 200);
    assert.equal(c.body.flavor['os-flavor-access:is_public'], false);
    assert.equal((await t.demo.get(`${F}/p1`)).status, 404);
    assert.ok(!(await t.demo.get(F)).body.flavors.some((f: any) => f.id === 'p1'));
    assert.ok((await t.admin.get(`${F}?is_public=false`)).body.flavors.some((f: any) => f.id === 'p1'));
    assert.ok(!(await t.admin.get(`${F}?is_public=false`)).body.flavors.some((f: any) => f.id === '1'));
    const action = `${F}/p1/action`;
    assert.equal((await t.demo.post(action, { addTenantAccess: { tenant: t.demo.projectId } })).status, 403);
    const unknown = await t.admin.post(action, { addTenantAccess: { tenant: 'no-such-project' } });
    assert.equal(unknown.status, 400);
    const add = await t.admin.post(action, { addTenantAccess: { tenant: t.demo.projectId } });
    assert.equal(add.status, 200);
    assert.deepEqual(add.body.flavor_access, [{ flavor_id: 'p1', tenant_id: t.demo.projectId }]);
    assert.equal((await t.admin.post(action, { addTenantAccess: { tenant: t.demo.projectId } })).status, 409);
    assert.equal((await t.demo.get(`${F}/p1`)).status, 200);
    assert.ok((await t.demo.get(F)).body.flavors.some((f: any) => f.id === 'p1'));
    assert.deepEqual((await t.admin.get(`${F}/p1/os-flavor-access`)).body.flavor_access, [{ flavor_id: 'p1', tenant_id: t.demo.projectId }]);
    assert.equal((await t.admin.get(`${F}/1/os-flavor-access`)).status, 404);
    const pub = await t.admin.post(`${F}/1/action`, { addTenantAccess: { tenant: t.demo.projectId } }, { 'openstack-api-version': 'compute 2.7' });
    assert.equal(pub.status, 409);
    const rm = await t.admin.post(action, { removeTenantAccess: { tenant: t.demo.projectId } });
    assert.deepEqual(rm.body.flavor_access, []);
    assert.equal((await t.admin.post(action, { removeTenantAccess: { tenant: t.demo.projectId } })).status, 404);
    assert.equal((await t.demo.get(`${F}/p1`)).status, 404);
  });
});
