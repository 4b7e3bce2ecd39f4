/**
 * The servers API of a whole cloud over HTTP: boot to ACTIVE, views per role and
 * microversion, list and filters, update, delete, quota and bad input.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, waitFor, type Client, type TestCloud } from '../helpers/cloud.js';

describe('servers API', () => {
  let tc: TestCloud;
  let imageId: string;

  const boot = (c: Client, over: Record<string, unknown> = {}, mv?: string) =>
    c.post('/compute/v2.1/servers', { server: { name: 'vm', imageRef: imageId, flavorRef: '1', ...over } }, mv ? { 'openstack-api-version': `compute ${mv}` } : {});
  const status = async (c: Client, id: string) => (await c.get(`/compute/v2.1/servers/${id}`)).body?.server?.status;
  const active = (c: Client, id: string) => waitFor(async () => (await status(c, id)) === 'ACTIVE', `server ${id} ACTIVE`);

  before(async () => {
    tc = await startTestCloud();
    const images = await tc.demo.get('/image/v2/images');
    imageId = images.body.images.find((i: any) => i.status === 'active').id;
  });
  after(async () => tc?.close());

  it('boots a server to ACTIVE and shows it to its owner and to admins only', async () => {
    const r = await boot(tc.demo, { metadata: { role: 'web' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.server.id;
    assert.ok(r.body.server.adminPass);
    assert.equal(r.headers.get('location')?.endsWith(`/servers/${id}`), true);
    await active(tc.demo, id);
    const own = (await tc.demo.get(`/compute/v2.1/servers/${id}`)).body.server;
    assert.equal(own.tenant_id, tc.demo.projectId);
    assert.deepEqual(own.metadata, { role: 'web' });
    assert.equal(own['OS-EXT-STS:vm_state'], 'active');
    assert.equal(own['OS-EXT-STS:power_state'], 1);
    assert.equal(own.hostId.length, 56);
    assert.equal(own['OS-EXT-SRV-ATTR:host'], undefined);
    assert.deepEqual(own.flavor.id, '1');
    const asAdmin = (await tc.admin.get(`/compute/v2.1/servers/${id}`, { 'openstack-api-version': 'compute 2.47' })).body.server;
    assert.ok(asAdmin['OS-EXT-SRV-ATTR:host']);
    assert.equal(asAdmin.flavor.original_name, 'm1.tiny');
    assert.equal(asAdmin.flavor.ram, 512);
    const other = await tc.admin.get(`/compute/v2.1/servers/${id}`);
    assert.equal(other.status, 200);
    const adminBoot = await boot(tc.admin, { name: 'admins' });
    const hidden = await tc.demo.get(`/compute/v2.1/servers/${adminBoot.body.server.id}`);
    assert.equal(hidden.status, 404);
    assert.equal(hidden.body.itemNotFound.message, `Instance ${adminBoot.body.server.id} could not be found.`);
    const actions = await tc.demo.get(`/compute/v2.1/servers/${id}/os-instance-actions`);
    const create = actions.body.instanceActions.find((a: any) => a.action === 'create');
    const detail = await tc.admin.get(`/compute/v2.1/servers/${id}/os-instance-actions/${create.request_id}`);
    assert.ok(detail.body.instanceAction.events.length > 0, 'the build recorded events');
  });

  it('lists, filters and pages', async () => {
    const names = ['list-a', 'list-b', 'list-c'];
    for (const name of names) assert.equal((await boot(tc.demo, { name })).status, 202);
    const list = async (q: string) => (await tc.demo.get(`/compute/v2.1/servers${q}`)).body.servers.map((s: any) => s.name);
    assert.deepEqual(await list('?name=^list-&sort_key=display_name&sort_dir=asc'), names);
    const page = await tc.demo.get('/compute/v2.1/servers/detail?name=^list-&limit=2&sort_key=display_name&sort_dir=desc');
    assert.deepEqual(page.body.servers.map((s: any) => s.name), ['list-c', 'list-b']);
    const next = page.body.servers_links[0].href as string;
    const rest = await tc.demo.get(next.slice(next.indexOf('/compute/')));
    assert.deepEqual(rest.body.servers.map((s: any) => s.name), ['list-a']);
    assert.equal((await tc.demo.get('/compute/v2.1/servers?marker=missing')).status, 400);
    assert.equal((await tc.demo.get('/compute/v2.1/servers?changes-since=yesterday-ish')).status, 400);
    assert.equal((await tc.demo.get('/compute/v2.1/servers?changes-since=2011/01/01')).status, 400, 'not ISO 8601');
    assert.equal((await tc.demo.get('/compute/v2.1/servers?changes-since=2011-01-01T00:00:00Z')).status, 200);
  });

  it('stores accessIPv6 in canonical form on create, update and rebuild', async () => {
    const r = await boot(tc.demo, { name: 'v6', accessIPv4: '1.1.1.1', accessIPv6: '0000:0000:0000:0000:0000:babe:220.12.22.2' });
    const id = r.body.server.id;
    const shown = (await tc.demo.get(`/compute/v2.1/servers/${id}`)).body.server;
    assert.equal(shown.accessIPv6, '::babe:dc0c:1602');
    assert.equal(shown.accessIPv4, '1.1.1.1');
    const u = await tc.demo.put(`/compute/v2.1/servers/${id}`, { server: { accessIPv6: '2001:DB8:0:0:0:0:0:1' } });
    assert.equal(u.body.server.accessIPv6, '2001:db8::1');
    await active(tc.demo, id);
    const rb = await tc.demo.post(`/compute/v2.1/servers/${id}/action`, { rebuild: { imageRef: imageId, accessIPv6: '1:0:0:1:0:0:0:1' } });
    assert.equal(rb.status, 202, JSON.stringify(rb.body));
    assert.equal(rb.body.server.accessIPv6, '1:0:0:1::1');
  });

  it('updates, stops (twice is 409) and deletes a server', async () => {
    const id = (await boot(tc.demo, { name: 'lifecycle' })).body.server.id;
    await active(tc.demo, id);
    const u = await tc.demo.put(`/compute/v2.1/servers/${id}`, { server: { name: 'renamed' } });
    assert.equal(u.status, 200);
    assert.equal(u.body.server.name, 'renamed');
    assert.equal((await tc.demo.post(`/compute/v2.1/servers/${id}/action`, { 'os-stop': null })).status, 202);
    await waitFor(async () => (await status(tc.demo, id)) === 'SHUTOFF', 'SHUTOFF');
    const again = await tc.demo.post(`/compute/v2.1/servers/${id}/action`, { 'os-stop': null });
    assert.equal(again.status, 409);
    assert.equal(again.body.conflictingRequest.message, `Cannot 'stop' instance ${id} while it is in vm_state stopped`);
    assert.equal((await tc.demo.delete(`/compute/v2.1/servers/${id}`)).status, 204);
    await waitFor(async () => (await tc.demo.get(`/compute/v2.1/servers/${id}`)).status === 404, 'server gone');
  });

  it('os-server-password: shows the password the guest posted, clears it, 404 for others', async () => {
    const id = (await boot(tc.demo, { name: 'pw' })).body.server.id;
    const url = `/compute/v2.1/servers/${id}/os-server-password`;
    assert.deepEqual((await tc.demo.get(url)).body, { password: '' });
    // What the metadata service stores when a guest posts its encrypted password (two chunks).
    const sys = JSON.parse((await tc.cloud.sql.get<{ system_metadata: string }>('SELECT system_metadata FROM instances WHERE uuid = ?', [id]))!.system_metadata);
    await tc.cloud.sql.run('UPDATE instances SET system_metadata = ? WHERE uuid = ?', [JSON.stringify({ ...sys, password_0: 'a'.repeat(255), password_1: 'b' }), id]);
    assert.deepEqual((await tc.demo.get(url)).body, { password: `${'a'.repeat(255)}b` });
    assert.equal((await tc.demo.delete(url)).status, 204);
    assert.deepEqual((await tc.demo.get(url)).body, { password: '' });
    assert.equal((await tc.demo.delete(url)).status, 204, 'clearing twice is fine');
    const adminServer = (await boot(tc.admin, { name: 'pw-admin' })).body.server.id;
    assert.equal((await tc.demo.get(`/compute/v2.1/servers/${adminServer}/os-server-password`)).status, 404);
  });

  it('answers bad input with 400 and over-quota with 403', async () => {
    const raw = await tc.demo.request('POST', '/compute/v2.1/servers', '{"server": ', { 'content-type': 'application/json' });
    assert.equal(raw.status, 400);
    assert.equal((await boot(tc.demo, { colour: 'blue' })).status, 400);
    assert.equal((await boot(tc.demo, { flavorRef: 'nope' })).body.badRequest.message, 'Flavor nope could not be found.');
    assert.equal((await boot(tc.demo, { imageRef: '00000000-0000-0000-0000-000000000000' })).body.badRequest.message,
      'Image 00000000-0000-0000-0000-000000000000 could not be found.');
    assert.equal((await boot(tc.demo, {}, '2.37')).status, 400, 'networks is required from 2.37');
    assert.equal((await boot(tc.demo, { networks: 'none' }, '2.37')).status, 202);
    const over = await boot(tc.demo, { name: 'many', min_count: 50 });
    assert.equal(over.status, 403);
    assert.match(over.body.forbidden.message, /^Quota exceeded for instances(, cores)?: Requested 50, but already used \d+ of 10 instances$/);
  });
});
