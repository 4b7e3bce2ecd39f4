/** The Compute API version documents and the extensions list. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';

describe('compute versions and extensions', () => {
  let t: TestCloud;
  before(async () => {
    t = await startTestCloud();
  });
  after(async () => {
    await t?.close();
  });

  it('lists the versions without a token', async () => {
    const r = await fetch(`${t.url}/compute/`);
    assert.equal(r.status, 200);
    const body = (await r.json()) as any;
    assert.deepEqual(body.versions.map((v: any) => [v.id, v.status]), [['v2.0', 'SUPPORTED'], ['v2.1', 'CURRENT']]);
    const v21 = body.versions[1];
    assert.equal(v21.version, '2.93');
    assert.equal(v21.min_version, '2.1');
    assert.equal(v21.links[0].href, `${t.url}/compute/v2.1/`);
  });

  it('describes v2.1 with and without a trailing slash, and the legacy v2', async () => {
    for (const path of ['/compute/v2.1', '/compute/v2.1/']) {
      const r = await fetch(t.url + path);
      assert.equal(r.status, 200, path);
      const { version } = (await r.json()) as any;
      assert.equal(version.id, 'v2.1');
      assert.equal(version.version, '2.93');
      assert.deepEqual(version['media-types'], [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }]);
      assert.ok(version.links.some((l: any) => l.rel === 'describedby'));
    }
    const v2 = (await (await fetch(`${t.url}/compute/v2`)).json()) as any;
    assert.equal(v2.version.id, 'v2.0');
  });

  it('lists extensions and shows one by alias', async () => {
    const r = await t.demo.get('/compute/v2.1/extensions');
    assert.equal(r.status, 200);
    assert.ok(r.body.extensions.length > 50);
    const az = r.body.extensions.find((e: any) => e.alias === 'OS-EXT-AZ');
    assert.deepEqual(Object.keys(az).sort(), ['alias', 'description', 'links', 'name', 'namespace', 'updated']);
    const one = await t.demo.get('/compute/v2.1/extensions/os-keypairs');
    assert.equal(one.status, 200);
    assert.equal(one.body.extension.name, 'Keypairs');
    assert.equal((await t.demo.get('/compute/v2.1/extensions/nope')).status, 404);
    assert.equal((await fetch(`${t.url}/compute/v2.1/extensions`)).status, 401);
  });
});
