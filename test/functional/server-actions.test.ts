/**
 * Server actions against a whole cloud: power state changes reach the fake hypervisor and
 * come back as states, locks, resize round trip, metadata and tags over HTTP.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, waitFor, type Client, type TestCloud } from '../helpers/cloud.js';

describe('server actions', () => {
  let tc: TestCloud;
  let imageId: string;
  const act = (c: Client, id: string, body: unknown, mv = '2.1') =>
    c.post(`/compute/v2.1/servers/${id}/action`, body, { 'openstack-api-version': `compute ${mv}` });
  const server = async (c: Client, id: string, mv = '2.1') =>
    (await c.get(`/compute/v2.1/servers/${id}`, { 'openstack-api-version': `compute ${mv}` })).body.server;
  const until = (c: Client, id: string, want: string) =>
    waitFor(async () => (await server(c, id))?.status === want, `status ${want}`);
  const boot = async (name: string) => {
    const r = await tc.demo.post('/compute/v2.1/servers', { server: { name, imageRef: imageId, flavorRef: '1' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await until(tc.demo, r.body.server.id, 'ACTIVE');
    return r.body.server.id as string;
  };

  before(async () => {
    tc = await startTestCloud();
    imageId = (await tc.demo.get('/image/v2/images')).body.images.find((i: any) => i.status === 'active').id;
  });
  after(async () => tc?.close());

  it('pause, unpause, suspend, resume, reboot, stop and start', async () => {
    const id = await boot('power');
    for (const [action, want] of [['pause', 'PAUSED'], ['unpause', 'ACTIVE'], ['suspend', 'SUSPENDED'], ['resume', 'ACTIVE'], ['os-stop', 'SHUTOFF'], ['os-start', 'ACTIVE']]) {
      const r = await act(tc.demo, id, { [action]: null });
      assert.equal(r.status, 202, `${action}: ${JSON.stringify(r.body)}`);
      await until(tc.demo, id, want);
    }
    assert.equal((await act(tc.demo, id, { unpause: null })).status, 409);
    assert.equal((await act(tc.demo, id, { reboot: { type: 'HARD' } })).status, 202);
    await until(tc.demo, id, 'ACTIVE');
    const actions = (await tc.demo.get(`/compute/v2.1/servers/${id}/os-instance-actions`)).body.instanceActions.map((a: any) => a.action);
    assert.deepEqual(actions.slice(0, 3), ['reboot', 'start', 'stop']);
  });

  it('a locked server refuses the owner (409) until unlocked', async () => {
    const id = await boot('locked');
    assert.equal((await act(tc.demo, id, { lock: { locked_reason: 'hands off' } }, '2.73')).status, 202);
    assert.equal((await server(tc.demo, id, '2.73')).locked_reason, 'hands off');
    const r = await act(tc.demo, id, { 'os-stop': null });
    assert.equal(r.status, 409);
    assert.equal(r.body.conflictingRequest.message, `Instance ${id} is locked`);
    assert.equal((await act(tc.demo, id, { unlock: null })).status, 202);
    assert.equal((await act(tc.demo, id, { 'os-stop': null })).status, 202);
  });

  it('restore and forceDelete of a server that is not soft-deleted (none ever is) are 409 naming its state', async () => {
    const id = await boot('not-soft-deleted');
    for (const action of ['restore', 'forceDelete']) {
      const r = await act(tc.demo, id, { [action]: null });
      assert.equal(r.status, 409, `${action}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.conflictingRequest.message, new RegExp(`Cannot '${action}' instance ${id} while it is in vm_state active`));
    }
    assert.equal((await server(tc.demo, id)).status, 'ACTIVE');
  });

  it('resize to VERIFY_RESIZE, then confirm', async () => {
    const id = await boot('resize');
    assert.equal((await act(tc.demo, id, { resize: { flavorRef: '42' } })).status, 202);
    await until(tc.demo, id, 'VERIFY_RESIZE');
    assert.equal((await server(tc.demo, id)).flavor.id, '42');
    assert.equal((await act(tc.demo, id, { confirmResize: null })).status, 204);
    await until(tc.demo, id, 'ACTIVE');
  });

  it('console output: length counts newline-separated pieces as Nova does', async () => {
    const id = await boot('console');
    const get = async (length?: number) =>
      (await act(tc.demo, id, { 'os-getConsoleOutput': length === undefined ? {} : { length } })).body.output as string;
    const all = await get();
    assert.ok(all.endsWith('\n') && all.split('\n').length > 2, all);
    const two = await get(2);
    assert.equal(two.split('\n').length, 2, JSON.stringify(two));
    assert.equal(two, all.split('\n').slice(-2).join('\n'), 'the last line and the empty piece after it');
    assert.equal(await get(-1), all);
    assert.equal((await act(tc.demo, id, { 'os-getConsoleOutput': { length: -2 } })).status, 400);
  });

  it('rebuild and update bodies carry key_name (2.54), user_data (2.57) and server_groups (2.71)', async () => {
    const id = await boot('rebuild-body');
    const ud = Buffer.from('echo hi').toString('base64');
    const rb = await act(tc.demo, id, { rebuild: { imageRef: imageId, user_data: ud } }, '2.57');
    assert.equal(rb.status, 202, JSON.stringify(rb.body));
    assert.equal(rb.body.server.user_data, ud);
    assert.equal(rb.body.server.key_name, null);
    assert.equal(rb.body.server.server_groups, undefined, 'not before 2.71');
    await until(tc.demo, id, 'ACTIVE');
    const rb75 = await act(tc.demo, id, { rebuild: { imageRef: imageId } }, '2.75');
    assert.equal(rb75.body.server.user_data, ud, 'kept when not given');
    assert.deepEqual(rb75.body.server.server_groups, []);
    await until(tc.demo, id, 'ACTIVE');
    const h = (mv: string) => ({ 'openstack-api-version': `compute ${mv}` });
    const byAdmin = await act(tc.admin, id, { rebuild: { imageRef: imageId } }, '2.75');
    assert.equal(byAdmin.status, 202, JSON.stringify(byAdmin.body));
    assert.ok(byAdmin.body.server['OS-EXT-SRV-ATTR:host'], 'admins get the full view');
    assert.equal('OS-EXT-SRV-ATTR:user_data' in byAdmin.body.server, false, 'rebuild shows user_data plainly instead');
    await until(tc.demo, id, 'ACTIVE');
    const u71 = await tc.demo.put(`/compute/v2.1/servers/${id}`, { server: { name: 'n71' } }, h('2.71'));
    assert.deepEqual(u71.body.server.server_groups, []);
    assert.equal(u71.body.server.user_data, undefined, 'only rebuild shows user_data');
    const list = await tc.demo.get('/compute/v2.1/servers/detail', h('2.71'));
    assert.equal(list.body.servers[0].server_groups, undefined, 'list items have no server_groups');
  });

  it('createImage: snapshot properties from the server, request metadata wins, no internal keys', async () => {
    const id = await boot('snap-src');
    const r = await act(tc.demo, id, { createImage: { name: 'snap', metadata: { image_type: 'test', k: 'v' } } }, '2.45');
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const img = (await tc.demo.get(`/image/v2/images/${r.body.image_id}`)).body;
    assert.equal(img.name, 'snap');
    assert.equal(img.image_type, 'test');
    assert.equal(img.k, 'v');
    assert.equal(img.instance_uuid, id);
    assert.equal(img.meta, undefined, 'the compute-side image record is not a property');
    const byServer = await tc.demo.get(`/compute/v2.1/images?server=${encodeURIComponent(`${tc.url}/compute/v2.1/servers/${id}`)}`);
    assert.deepEqual(byServer.body.images.map((i: any) => i.id), [r.body.image_id], 'the image proxy filters by server link');
    const byType = await tc.demo.get('/compute/v2.1/images/detail?type=test');
    assert.deepEqual(byType.body.images.map((i: any) => i.id), [r.body.image_id]);
    await waitFor(async () => (await server(tc.demo, id))['OS-EXT-STS:task_state'] === null, 'snapshot done');
    const plain = await act(tc.demo, id, { createImage: { name: 'snap2' } }, '2.45');
    assert.equal(plain.status, 202, JSON.stringify(plain.body));
    assert.equal((await tc.demo.get(`/image/v2/images/${plain.body.image_id}`)).body.image_type, 'snapshot');
  });

  it('metadata and tags over HTTP', async () => {
    const id = await boot('meta');
    const md = await tc.demo.post(`/compute/v2.1/servers/${id}/metadata`, { metadata: { a: '1' } });
    assert.deepEqual(md.body, { metadata: { a: '1' } });
    const h = { 'openstack-api-version': 'compute 2.26' };
    assert.equal((await tc.demo.put(`/compute/v2.1/servers/${id}/tags/blue`, undefined, h)).status, 201);
    const tagged = await tc.demo.get('/compute/v2.1/servers?tags=blue', h);
    assert.deepEqual(tagged.body.servers.map((s: any) => s.id), [id]);
  });
});

describe('Nova actions not offered yet', () => {
  let t: TestCloud;
  before(async () => {
    t = await startTestCloud();
  });
  after(async () => t?.close());

  it('answer 404 for a server that does not exist and a clear 400 otherwise', async () => {
    const missing = await t.demo.post('/compute/v2.1/servers/8b1f7e5e-1c51-4f0b-9a53-2d6d3e3f0c11/action', { rescue: null });
    assert.equal(missing.status, 404);
    const image = (await t.demo.get('/image/v2/images?name=tiny-linux')).body.images[0].id;
    const made = await t.demo.post('/compute/v2.1/servers', { server: { name: 'later', flavorRef: '1', imageRef: image } });
    const r = await t.demo.post(`/compute/v2.1/servers/${made.body.server.id}/action`, { rescue: null });
    assert.equal(r.status, 400);
    assert.match(r.body.badRequest.message, /rescue is not available in nova-ts yet/);
    const unknown = await t.demo.post(`/compute/v2.1/servers/${made.body.server.id}/action`, { frobnicate: null });
    assert.equal(unknown.body.badRequest.message, 'There is no such action: frobnicate');
  });
});
