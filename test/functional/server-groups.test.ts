/** os-server-groups over HTTP: per-microversion create and view, visibility, quota, membership via the group hint. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, waitFor, type TestCloud } from '../helpers/cloud.js';

const G = '/compute/v2.1/os-server-groups';
const mv = (v: string) => ({ 'openstack-api-version': `compute ${v}` });

describe('server groups', () => {
  let t: TestCloud;
  let imageId: string;
  const create = (body: unknown, v?: string) => t.demo.post(G, body, v ? mv(v) : {});

  before(async () => {
    t = await startTestCloud();
    imageId = (await t.demo.get('/image/v2/images')).body.images.find((i: any) => i.status === 'active').id;
  });
  after(async () => {
    await t?.close();
  });

  it('creates with policies before 2.64 and shows the legacy view', async () => {
    const r = await create({ server_group: { name: 'legacy', policies: ['anti-affinity'] } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const g = r.body.server_group;
    assert.deepEqual(Object.keys(g).sort(), ['id', 'members', 'metadata', 'name', 'policies']);
    assert.deepEqual(g.policies, ['anti-affinity']);
    assert.deepEqual(g.members, []);
    const v213 = (await t.demo.get(`${G}/${g.id}`, mv('2.13'))).body.server_group;
    assert.equal(v213.project_id, t.demo.projectId);
    assert.equal(v213.user_id, t.demo.userId);
    const v264 = (await t.demo.get(`${G}/${g.id}`, mv('2.64'))).body.server_group;
    assert.equal(v264.policy, 'anti-affinity');
    assert.deepEqual(v264.rules, {});
    assert.equal('policies' in v264, false);
    assert.equal('metadata' in v264, false);
  });

  it('creates with policy and rules from 2.64', async () => {
    const r = await create({ server_group: { name: 'new', policy: 'anti-affinity', rules: { max_server_per_host: 3 } } }, '2.64');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.server_group.rules, { max_server_per_host: 3 });
    assert.equal(r.body.server_group.policy, 'anti-affinity');
    const soft = await create({ server_group: { name: 'soft', policy: 'soft-affinity' } }, '2.64');
    assert.equal(soft.status, 200);
    const rulesOnAffinity = await create({ server_group: { name: 'x', policy: 'affinity', rules: { max_server_per_host: 2 } } }, '2.64');
    assert.equal(rulesOnAffinity.status, 400);
    assert.equal(rulesOnAffinity.body.badRequest.message, 'Only anti-affinity policy supports rules.');
  });

  it('rejects bad input per microversion', async () => {
    const bad: [unknown, string | undefined][] = [
      [{}, undefined],
      [{ server_group: { name: 'x' } }, undefined],
      [{ server_group: { name: 'x', policies: ['soft-affinity'] } }, '2.14'],
      [{ server_group: { name: 'x', policies: ['affinity', 'anti-affinity'] } }, undefined],
      [{ server_group: { name: 'x', policies: [] } }, undefined],
      [{ server_group: { name: 'x', policies: ['bogus'] } }, undefined],
      [{ server_group: { name: '', policies: ['affinity'] } }, undefined],
      [{ server_group: { name: 'x', policy: 'affinity' } }, '2.63'],
      [{ server_group: { name: 'x', policies: ['affinity'] } }, '2.64'],
      [{ server_group: { name: 'x', policy: 'anti-affinity', rules: { max_server_per_host: 0 } } }, '2.64'],
      [{ server_group: { name: 'x', policy: 'anti-affinity', rules: { other: 1 } } }, '2.64'],
    ];
    for (const [body, v] of bad) assert.equal((await create(body, v)).status, 400, `${JSON.stringify(body)} at ${v}`);
    assert.equal((await create({ server_group: { name: 'ok', policies: ['soft-affinity'] } }, '2.15')).status, 200);
  });

  it('hides other projects\' groups; all_projects is for admins', async () => {
    const mine = (await create({ server_group: { name: 'mine', policies: ['affinity'] } })).body.server_group;
    const theirs = (await t.admin.post(G, { server_group: { name: 'admins', policies: ['affinity'] } })).body.server_group;
    const hidden = await t.demo.get(`${G}/${theirs.id}`);
    assert.equal(hidden.status, 404);
    assert.equal(hidden.body.itemNotFound.message, `Instance group ${theirs.id} could not be found.`);
    assert.equal((await t.demo.delete(`${G}/${theirs.id}`)).status, 404);
    const demoList = (await t.demo.get(G)).body.server_groups.map((g: any) => g.id);
    assert.ok(demoList.includes(mine.id));
    assert.ok(!demoList.includes(theirs.id));
    assert.equal((await t.demo.get(`${G}?all_projects=True`)).status, 403);
    const all = (await t.admin.get(`${G}?all_projects=True`)).body.server_groups.map((g: any) => g.id);
    assert.ok(all.includes(mine.id) && all.includes(theirs.id));
    assert.ok(!(await t.admin.get(G)).body.server_groups.some((g: any) => g.id === mine.id));
    assert.equal((await t.admin.get(`${G}/${mine.id}`)).status, 200);
    // limit and offset page the list.
    const page = (await t.demo.get(`${G}?limit=1&offset=1`)).body.server_groups;
    assert.equal(page.length, 1);
    assert.equal(page[0].id, demoList[1]);
    assert.equal((await t.demo.get(`${G}?limit=-1`)).status, 400);
    assert.equal((await t.demo.get(`${G}?bogus=1`, mv('2.75'))).status, 400);
    assert.equal((await t.demo.delete(`${G}/${mine.id}`)).status, 204);
    assert.equal((await t.demo.get(`${G}/${mine.id}`)).status, 404);
  });

  it('enforces the server_groups quota and reports usage in limits', async () => {
    const before = (await t.demo.get('/compute/v2.1/limits')).body.limits.absolute.totalServerGroupsUsed;
    const list = (await t.demo.get(G)).body.server_groups;
    assert.equal(before, list.length);
    const quota = await t.admin.put(`/compute/v2.1/os-quota-sets/${t.demo.projectId}`, { quota_set: { server_groups: list.length } });
    assert.equal(quota.status, 200, JSON.stringify(quota.body));
    const over = await create({ server_group: { name: 'one-too-many', policies: ['affinity'] } });
    assert.equal(over.status, 403);
    assert.equal(over.body.forbidden.message, 'Quota exceeded, too many server groups.');
    await t.admin.put(`/compute/v2.1/os-quota-sets/${t.demo.projectId}`, { quota_set: { server_groups: 10 } });
  });

  it('records members from the group scheduler hint and drops deleted servers', async () => {
    const g = (await create({ server_group: { name: 'web', policies: ['anti-affinity'] } })).body.server_group;
    const boot = (hints: unknown, n = 1) =>
      t.demo.post('/compute/v2.1/servers', {
        server: { name: 'member', imageRef: imageId, flavorRef: '1', min_count: n, max_count: n },
        'os:scheduler_hints': hints,
      });
    const r = await boot({ group: g.id });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.server.id;
    assert.deepEqual((await t.demo.get(`${G}/${g.id}`)).body.server_group.members, [id]);
    const shown = (await t.demo.get(`/compute/v2.1/servers/${id}`, mv('2.71'))).body.server;
    assert.deepEqual(shown.server_groups, [g.id]);

    const unknown = await boot({ group: '00000000-0000-0000-0000-000000000000' });
    assert.equal(unknown.status, 400);
    const theirs = (await t.admin.post(G, { server_group: { name: 'admins2', policies: ['affinity'] } })).body.server_group;
    assert.equal((await boot({ group: theirs.id })).status, 400);

    await t.admin.put(`/compute/v2.1/os-quota-sets/${t.demo.projectId}`, { quota_set: { server_group_members: 2 } });
    const tooMany = await boot({ group: g.id }, 2);
    assert.equal(tooMany.status, 403);
    assert.equal(tooMany.body.forbidden.message, 'Quota exceeded, too many servers in group');
    assert.equal((await t.demo.get(`${G}/${g.id}`)).body.server_group.members.length, 1, 'nothing half-created');
    await t.admin.put(`/compute/v2.1/os-quota-sets/${t.demo.projectId}`, { quota_set: { server_group_members: 10 } });

    await waitFor(async () => (await t.demo.get(`/compute/v2.1/servers/${id}`)).body.server.status === 'ACTIVE', 'server ACTIVE');
    assert.equal((await t.demo.delete(`/compute/v2.1/servers/${id}`)).status, 204);
    await waitFor(async () => (await t.demo.get(`${G}/${g.id}`)).body.server_group.members.length === 0, 'member dropped after delete');
  });
});
