/** The read-only Placement API: providers, inventories, usages and allocations match what the scheduler claimed. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, waitFor, type TestCloud } from '../helpers/cloud.js';

const P = '/placement';

describe('placement (read-only)', () => {
  let t: TestCloud;
  let imageId: string;
  before(async () => {
    t = await startTestCloud({ fakeHosts: 2 });
    imageId = (await t.demo.get('/image/v2/images')).body.images.find((i: any) => i.status === 'active').id;
  });
  after(async () => {
    await t?.close();
  });

  it('is in the catalog and answers version discovery without a token', async () => {
    const r = await fetch(`${t.url}${P}/`);
    assert.equal(r.status, 200);
    const body = (await r.json()) as any;
    assert.equal(body.versions[0].id, 'v1.0');
    const tok = await t.admin.get('/identity/v3/auth/catalog');
    assert.ok(tok.body.catalog.some((s: any) => s.type === 'placement'), 'placement in the catalog');
  });

  it('shows each compute node as a provider whose usage is the sum of its servers', async () => {
    const providers = (await t.admin.get(`${P}/resource_providers`)).body.resource_providers;
    assert.deepEqual(providers.map((p: any) => p.name).sort(), ['host1', 'host2']);
    const inv = (await t.admin.get(`${P}/resource_providers/${providers[0].uuid}/inventories`)).body.inventories;
    assert.deepEqual(Object.keys(inv).sort(), ['DISK_GB', 'MEMORY_MB', 'VCPU']);
    assert.equal(inv.MEMORY_MB.reserved, 512);
    assert.equal(inv.VCPU.allocation_ratio, 4);

    const r = await t.demo.post('/compute/v2.1/servers', { server: { name: 'p', imageRef: imageId, flavorRef: '1', min_count: 3, max_count: 3 } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const list = await waitFor(async () => {
      const s = (await t.demo.get('/compute/v2.1/servers/detail')).body.servers.filter((x: any) => x.name.startsWith('p'));
      if (s.some((x: any) => x.status === 'ERROR')) throw new Error(JSON.stringify(s.map((x: any) => x.fault)));
      return s.length === 3 && s.every((x: any) => x.status === 'ACTIVE') ? s : null;
    }, 'three ACTIVE servers');
    let memory = 0;
    for (const p of providers) memory += (await t.admin.get(`${P}/resource_providers/${p.uuid}/usages`)).body.usages.MEMORY_MB;
    assert.equal(memory, 3 * 512, 'three m1.tiny servers');

    const one = await t.admin.get(`${P}/allocations/${list[0].id}`);
    assert.deepEqual(Object.values(one.body.allocations).map((a: any) => a.resources), [{ VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 }]);
    assert.equal(one.body.project_id, t.demo.projectId);
    const usage = await t.admin.get(`${P}/usages?project_id=${t.demo.projectId}`);
    assert.deepEqual(usage.body.usages, { VCPU: 3, MEMORY_MB: 1536, DISK_GB: 3 });
  });

  it('answers Placement-style errors: 403 for non-admins, 404 for unknown providers, 400 for bad filters', async () => {
    const denied = await t.demo.get(`${P}/resource_providers`);
    assert.equal(denied.status, 403);
    assert.equal(denied.body.errors[0].status, 403);
    const missing = await t.admin.get(`${P}/resource_providers/00000000-0000-0000-0000-000000000000/usages`);
    assert.equal(missing.status, 404);
    assert.match(missing.body.errors[0].detail, /No resource provider with uuid 00000000-0000-0000-0000-000000000000 found/);
    const bad = await t.admin.get(`${P}/resource_providers?uuid=nope`);
    assert.equal(bad.status, 400);
    assert.equal((await t.admin.get(`${P}/usages`)).status, 400);
  });
});
