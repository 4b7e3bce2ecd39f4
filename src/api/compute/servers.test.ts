import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IMAGE_ID, placeOnHost, startKit, type Kit } from './server-test-kit.js';

const boot = (over: Record<string, unknown> = {}, top: Record<string, unknown> = {}) => ({
  server: { name: 'vm', imageRef: IMAGE_ID, flavorRef: '1', ...over },
  ...top,
});

describe('servers API (router level)', () => {
  let k: Kit;
  before(async () => {
    k = await startKit();
  });
  after(async () => k.close());

  it('creates a server in BUILD and asks the conductor to build it', async () => {
    const r = await k.call(k.demo, 'POST', '/v2.1/servers', boot({ metadata: { a: 'b' }, key_name: 'mykey' }));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.server['OS-DCF:diskConfig'], 'AUTO');
    assert.deepEqual(r.body.server.security_groups, [{ name: 'default' }]);
    assert.equal(typeof r.body.server.adminPass, 'string');
    await k.settle();
    const build = k.sent.find((s) => s.method === 'build_instances');
    assert.deepEqual(build?.args.instance_uuids, [r.body.server.id]);
    const show = await k.call(k.demo, 'GET', `/v2.1/servers/${r.body.server.id}`);
    assert.equal(show.status, 200);
    const s = show.body.server;
    assert.equal(s.status, 'BUILD');
    assert.equal(s.progress, 0);
    assert.deepEqual(s.metadata, { a: 'b' });
    assert.equal(s.key_name, 'mykey');
    assert.deepEqual(s.flavor, { id: '1', links: [{ rel: 'bookmark', href: 'http://cloud/compute/flavors/1' }] });
    assert.equal(s.hostId, '');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], undefined, 'no admin attributes for the owner');
    const row = await k.sql.get<any>('SELECT * FROM instances WHERE uuid = ?', [s.id]);
    assert.equal(row.key_data, 'ssh-rsa AAAA demo');
    assert.equal(row.hostname, 'vm');
    assert.match(row.reservation_id, /^r-[a-z0-9]{8}$/);
  });

  it('shows the 2.47 flavor and the admin attributes', async () => {
    const r = await k.call(k.demo, 'POST', '/v2.1/servers', boot({ name: 'Web Server_01.x', networks: 'none' }), '2.47');
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await placeOnHost(k.sql, r.body.server.id);
    const s = (await k.call(k.admin, 'GET', `/v2.1/servers/${r.body.server.id}`, undefined, '2.47')).body.server;
    assert.deepEqual(s.flavor, { vcpus: 1, ram: 512, disk: 1, ephemeral: 0, swap: 0, original_name: 'm1.tiny', extra_specs: { 'hw:cpu_policy': 'shared' } });
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'host1');
    assert.equal(s['OS-EXT-SRV-ATTR:hostname'], 'web-server-01-x');
    assert.match(s['OS-EXT-SRV-ATTR:instance_name'], /^instance-[0-9a-f]{8}$/);
    assert.equal(s.hostId.length, 56);
    assert.equal(s.host_status, 'UNKNOWN');
    assert.equal(s.locked, false);
    assert.deepEqual(s.tags, []);
  });

  it('hides other projects servers behind 404', async () => {
    const r = await k.call(k.demo, 'POST', '/v2.1/servers', boot());
    const o = await k.call(k.other, 'GET', `/v2.1/servers/${r.body.server.id}`);
    assert.equal(o.status, 404);
    assert.equal(o.body.itemNotFound.message, `Instance ${r.body.server.id} could not be found.`);
  });

  it('rejects bad requests with 400 and Nova messages', async () => {
    const cases: [unknown, RegExp, string?][] = [
      [boot({ bogus: 1 }), /Additional properties are not allowed \('bogus' was unexpected\)/],
      [boot({ flavorRef: '99' }), /Flavor 99 could not be found\./],
      [boot({ imageRef: '99999999-2222-3333-4444-555555555555' }), /Image 99999999-2222-3333-4444-555555555555 could not be found\./],
      [boot({ imageRef: 'not-a-uuid' }), /imageRef/],
      [boot({ name: 'x'.repeat(256) }), /is too long/],
      [boot({ key_name: 'nokey' }), /Invalid key_name provided\./],
      [boot({ user_data: '!!!notbase64' }), /is not a 'base64'/],
      [boot({ availability_zone: 'nowhere' }), /The requested availability zone is not available/],
      [{ server: { name: 'x', imageRef: IMAGE_ID } }, /'flavorRef' is a required property/],
      [{ server: { name: 'x', flavorRef: '1' } }, /Block Device Mapping is Invalid/],
      [boot(), /'networks' is a required property/, '2.37'],
      [boot({ networks: [{ uuid: 'abc' }] }), /Bad networks format/, '2.37'],
      [boot({ networks: 'none', hostname: 'bad host!' }), /hostname/, '2.90'],
      [boot({ networks: 'none', tags: ['a/b'] }), /a\/b/, '2.52'],
    ];
    for (const [body, re, mv] of cases) {
      const r = await k.call(k.demo, 'POST', '/v2.1/servers', body, mv);
      assert.equal(r.status, 400, `${JSON.stringify(body)} -> ${JSON.stringify(r.body)}`);
      assert.match(r.body.badRequest.message, re);
    }
  });

  it("checks the image's min_ram against the flavor", async () => {
    const id = '22222222-2222-3333-4444-555555555555';
    k.images.set(id, { id, name: 'big', status: 'active', min_ram: 4096, min_disk: 0 });
    const r = await k.call(k.demo, 'POST', '/v2.1/servers', boot({ imageRef: id }));
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, "Flavor's memory is too small for requested image.");
  });

  it('enforces the instance quota with min_count/max_count and creates nothing on failure', async () => {
    await k.sql.run("INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('p-other', 'instances', 3)");
    const r = await k.call(k.other, 'POST', '/v2.1/servers', boot({ name: 'multi', min_count: 2, max_count: 5, return_reservation_id: true }));
    assert.equal(r.status, 202);
    assert.match(r.body.reservation_id, /^r-/);
    const names = (await k.call(k.other, 'GET', '/v2.1/servers?sort_key=display_name&sort_dir=asc')).body.servers.map((s: any) => s.name);
    assert.deepEqual(names, ['multi-1', 'multi-2', 'multi-3']);
    const over = await k.call(k.other, 'POST', '/v2.1/servers', boot({ min_count: 2 }));
    assert.equal(over.status, 403);
    assert.equal(over.body.forbidden.message, 'Quota exceeded for instances: Requested 2, but already used 3 of 3 instances');
    const n = await k.sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM instances WHERE project_id = 'p-other'");
    assert.equal(n?.n, 3);
  });

  it('lists with filters, sorting and paging', async () => {
    const ids: string[] = [];
    for (const name of ['alpha', 'beta', 'gamma']) {
      const r = await k.call(k.admin, 'POST', '/v2.1/servers', boot({ name, tags: [name, 'common'], networks: 'none' }), '2.52');
      ids.push(r.body.server.id);
    }
    const names = async (q: string, mv = '2.26') => (await k.call(k.admin, 'GET', `/v2.1/servers${q}`, undefined, mv)).body.servers.map((s: any) => s.name);
    assert.deepEqual(await names('?name=^al'), ['alpha']);
    assert.deepEqual(await names('?name=a&sort_key=display_name&sort_dir=asc'), ['alpha', 'beta', 'gamma']);
    assert.deepEqual(await names('?tags=common,beta'), ['beta']);
    assert.deepEqual(await names('?tags-any=alpha,gamma&sort_key=display_name&sort_dir=asc'), ['alpha', 'gamma']);
    assert.deepEqual(await names('?not-tags-any=alpha,gamma'), ['beta']);
    assert.deepEqual(await names('?status=ACTIVE'), []);
    const page1 = await k.call(k.admin, 'GET', '/v2.1/servers/detail?limit=2&sort_key=display_name&sort_dir=asc');
    assert.deepEqual(page1.body.servers.map((s: any) => s.name), ['alpha', 'beta']);
    const next = new URL(page1.body.servers_links[0].href);
    assert.equal(next.searchParams.get('marker'), ids[1]);
    const page2 = await k.call(k.admin, 'GET', `/v2.1/servers/detail${next.search}`);
    assert.deepEqual(page2.body.servers.map((s: any) => s.name), ['gamma']);
    const bad = await k.call(k.admin, 'GET', '/v2.1/servers?marker=nope');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.badRequest.message, 'marker [nope] not found');
    assert.equal((await k.call(k.admin, 'GET', '/v2.1/servers?changes-since=garbage')).status, 400);
    assert.equal((await k.call(k.admin, 'GET', '/v2.1/servers?foo=1', undefined, '2.75')).status, 400);
    assert.equal((await k.call(k.admin, 'GET', '/v2.1/servers?foo=1', undefined, '2.74')).status, 200);
    // demo never sees admin's servers, even with all_tenants
    const demoAll = (await k.call(k.demo, 'GET', '/v2.1/servers?all_tenants=1')).body.servers.map((s: any) => s.name);
    assert.ok(!demoAll.includes('alpha'));
    const adminAll = (await k.call(k.admin, 'GET', '/v2.1/servers?all_tenants=1')).body.servers.length;
    assert.ok(adminAll > 3);
  });

  it('updates and deletes; changes-since shows the deletion', async () => {
    const r = await k.call(k.demo, 'POST', '/v2.1/servers', boot({ name: 'todelete' }));
    const id = r.body.server.id;
    const u = await k.call(k.demo, 'PUT', `/v2.1/servers/${id}`, { server: { name: 'renamed', description: 'd' } }, '2.19');
    assert.equal(u.status, 200, JSON.stringify(u.body));
    assert.equal(u.body.server.name, 'renamed');
    assert.equal(u.body.server.description, 'd');
    assert.equal(u.body.server['OS-EXT-STS:vm_state'], undefined, 'brief view before 2.75');
    const u75 = await k.call(k.demo, 'PUT', `/v2.1/servers/${id}`, { server: { name: 'renamed2' } }, '2.75');
    assert.equal(u75.body.server['OS-EXT-STS:vm_state'], 'building');
    const since = new Date(Date.now() - 60_000).toISOString();
    assert.equal((await k.call(k.demo, 'DELETE', `/v2.1/servers/${id}`)).status, 204);
    assert.equal((await k.call(k.demo, 'GET', `/v2.1/servers/${id}`)).status, 404);
    const listed = (await k.call(k.demo, 'GET', `/v2.1/servers/detail?changes-since=${since}`)).body.servers.find((s: any) => s.id === id);
    assert.equal(listed?.status, 'DELETED');
  });
});
