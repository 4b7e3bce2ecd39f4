/** Isolation and role rules that a review found gaps in; each case is one a user could try. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, waitFor, type Client, type TestCloud } from '../helpers/cloud.js';

const S = '/compute/v2.1/servers';

describe('policy', () => {
  let t: TestCloud;
  let reader: Client;
  let image: string;
  before(async () => {
    t = await startTestCloud();
    const roles = (await t.admin.get('/identity/v3/roles?name=reader')).body.roles;
    const user = await t.admin.post('/identity/v3/users', { user: { name: 'rdr', password: 'rdr-pass-1', domain_id: 'default' } });
    assert.equal(user.status, 201);
    const grant = await t.admin.put(`/identity/v3/projects/${t.demo.projectId}/users/${user.body.user.id}/roles/${roles[0].id}`);
    assert.equal(grant.status, 204);
    reader = await t.login('rdr', 'rdr-pass-1', 'demo');
    image = (await t.demo.get('/image/v2/images?name=tiny-linux')).body.images[0].id;
  });
  after(async () => t?.close());

  it("a user's scheduler hints cannot force or request a host", async () => {
    for (const hints of [{ force_hosts: ['nosuchhost'] }, { requested_destination: { host: 'nosuchhost' } }]) {
      const r = await t.demo.post(S, { server: { name: 'hinted', flavorRef: '1', imageRef: image, networks: 'none' }, 'os:scheduler_hints': hints }, {
        'openstack-api-version': 'compute 2.74',
      });
      assert.equal(r.status, 202);
      const id = r.body.server.id;
      const status = await waitFor(async () => {
        const s = (await t.demo.get(`${S}/${id}`)).body.server.status;
        return s === 'BUILD' ? '' : s;
      }, 'build to end');
      assert.equal(status, 'ACTIVE', `hints ${JSON.stringify(hints)} steered the build`);
    }
  });

  it('image sort keys that are Object.prototype names are a 400, not a 500', async () => {
    for (const q of ['sort_key=constructor', 'sort=toString:asc', 'sort_key=__proto__']) {
      const r = await t.demo.get(`/image/v2/images?${q}`);
      assert.equal(r.status, 400, q);
    }
  });

  it('a reader cannot accept an image shared with its project, nor read a console', async () => {
    const img = await t.admin.post('/image/v2/images', { name: 'shared-one', visibility: 'shared', disk_format: 'raw', container_format: 'bare' });
    assert.equal(img.status, 201);
    assert.equal((await t.admin.post(`/image/v2/images/${img.body.id}/members`, { member: t.demo.projectId })).status, 200);
    const r = await reader.put(`/image/v2/images/${img.body.id}/members/${t.demo.projectId}`, { status: 'accepted' });
    assert.equal(r.status, 403);
    assert.equal((await t.demo.put(`/image/v2/images/${img.body.id}/members/${t.demo.projectId}`, { status: 'accepted' })).status, 200);

    const made = await t.demo.post(S, { server: { name: 'readme', flavorRef: '1', imageRef: image } });
    await waitFor(async () => (await t.demo.get(`${S}/${made.body.server.id}`)).body.server.status === 'ACTIVE', 'ACTIVE');
    const action = `${S}/${made.body.server.id}/action`;
    assert.equal((await reader.post(action, { 'os-getConsoleOutput': {} })).status, 403);
    assert.equal((await t.demo.post(action, { 'os-getConsoleOutput': {} })).status, 200);
  });
});
