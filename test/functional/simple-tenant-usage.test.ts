/**
 * os-simple-tenant-usage over HTTP: per-project totals and server usages over a period, clipped
 * to the period; deleted servers count until they ended; the flavor snapshot sizes them; admin
 * lists all, members see their own project only; bad dates and inverted periods are 400; paging
 * with links from 2.40.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, waitFor, type Client, type TestCloud } from '../helpers/cloud.js';

const U = '/compute/v2.1/os-simple-tenant-usage';
const mv = (v: string) => ({ 'openstack-api-version': `compute ${v}` });
const close = (a: number, b: number) => Math.abs(a - b) < 1e-6;

describe('simple tenant usage', () => {
  let t: TestCloud;
  let image: string;
  const ids: Record<string, string> = {};

  const boot = async (c: Client, name: string, flavorRef: string) => {
    const r = await c.post('/compute/v2.1/servers', { server: { name, imageRef: image, flavorRef, networks: 'none' } }, mv('2.37'));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return r.body.server.id as string;
  };
  const active = (c: Client, id: string) =>
    waitFor(async () => (await c.get(`/compute/v2.1/servers/${id}`)).body.server?.status === 'ACTIVE', `${id} ACTIVE`);

  before(async () => {
    t = await startTestCloud();
    image = (await t.demo.get('/image/v2/images')).body.images.find((i: any) => i.status === 'active').id;
    ids.running = await boot(t.demo, 'running', '1'); // m1.tiny: 512 MB, 1 VCPU, 1 GB
    ids.gone = await boot(t.demo, 'gone', '3'); // m1.medium: 4096 MB, 2 VCPU, 40 GB
    ids.adminVm = await boot(t.admin, 'admin-vm', '1');
    for (const [k, id] of Object.entries(ids)) await active(k === 'adminVm' ? t.admin : t.demo, id);
    assert.equal((await t.demo.delete(`/compute/v2.1/servers/${ids.gone}`)).status, 204);
    await waitFor(async () => (await t.demo.get(`/compute/v2.1/servers/${ids.gone}`)).status === 404, 'gone deleted');
    // History the test can reason about: move the launch (and end) times into 2020.
    const at = (s: string) => `2020-01-01T${s}.000Z`;
    await t.cloud.sql.run('UPDATE instances SET launched_at = ? WHERE uuid = ?', [at('00:00:00'), ids.running]);
    await t.cloud.sql.run('UPDATE instances SET launched_at = ?, terminated_at = ?, deleted_at = ? WHERE uuid = ?', [at('10:00:00'), at('12:00:00'), at('12:00:00'), ids.gone]);
    await t.cloud.sql.run('UPDATE instances SET launched_at = ? WHERE uuid = ?', [at('08:00:00'), ids.adminVm]);
  });
  after(async () => {
    await t?.close();
  });

  const window = 'start=2020-01-01T06:00:00&end=2020-01-01T11:00:00';

  it("shows a project's usage clipped to the period, deleted servers until they ended", async () => {
    const r = await t.demo.get(`${U}/${t.demo.projectId}?${window}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const u = r.body.tenant_usage;
    assert.equal(u.tenant_id, t.demo.projectId);
    assert.equal(u.start, '2020-01-01T06:00:00.000000');
    assert.equal(u.stop, '2020-01-01T11:00:00.000000');
    // running: 06:00-11:00 = 5 h of m1.tiny; gone: 10:00-11:00 = 1 h of m1.medium.
    assert.ok(close(u.total_hours, 6), String(u.total_hours));
    assert.ok(close(u.total_memory_mb_usage, 5 * 512 + 4096), String(u.total_memory_mb_usage));
    assert.ok(close(u.total_vcpus_usage, 5 * 1 + 2), String(u.total_vcpus_usage));
    assert.ok(close(u.total_local_gb_usage, 5 * 1 + 40), String(u.total_local_gb_usage));
    const byId = Object.fromEntries(u.server_usages.map((s: any) => [s.instance_id, s]));
    assert.deepEqual(Object.keys(byId).sort(), [ids.running, ids.gone].sort());
    const running = byId[ids.running];
    assert.equal(running.state, 'active');
    assert.equal(running.ended_at, null);
    assert.equal(running.flavor, 'm1.tiny');
    assert.equal(running.name, 'running');
    assert.equal(running.started_at, '2020-01-01T00:00:00.000000');
    assert.ok(running.uptime > 4 * 365 * 86400, 'uptime counts from the launch to now');
    const gone = byId[ids.gone];
    assert.deepEqual(
      { ...gone, hours: Math.round(gone.hours * 1e6) / 1e6 },
      {
        ended_at: '2020-01-01T12:00:00.000000', flavor: 'm1.medium', hours: 1, instance_id: ids.gone, local_gb: 40, memory_mb: 4096,
        name: 'gone', started_at: '2020-01-01T10:00:00.000000', state: 'terminated', tenant_id: t.demo.projectId, uptime: 7200, vcpus: 2,
      },
    );
  });

  it('lists every project to admins, with server usages only when detailed=1', async () => {
    const r = await t.admin.get(`${U}?${window}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const byProject = Object.fromEntries(r.body.tenant_usages.map((x: any) => [x.tenant_id, x]));
    assert.ok(close(byProject[t.demo.projectId].total_hours, 6));
    assert.ok(close(byProject[t.admin.projectId].total_hours, 3), 'admin-vm from 08:00 to 11:00');
    assert.equal('server_usages' in byProject[t.admin.projectId], false);
    const d = await t.admin.get(`${U}?${window}&detailed=1`);
    const adminUsage = d.body.tenant_usages.find((x: any) => x.tenant_id === t.admin.projectId);
    assert.deepEqual(adminUsage.server_usages.map((s: any) => s.instance_id), [ids.adminVm]);
  });

  it('counts nothing for servers outside the period and answers {} for a project without usage', async () => {
    const before2020 = await t.admin.get(`${U}?start=2019-01-01T00:00:00&end=2019-12-31T23:59:59.5`);
    assert.deepEqual(before2020.body.tenant_usages, []);
    const after = await t.demo.get(`${U}/${t.demo.projectId}?start=2020-01-01 12:00:01.000001&end=2020-01-01T13:00:00`);
    assert.equal(after.status, 200);
    assert.deepEqual(after.body.tenant_usage.server_usages.map((s: any) => s.instance_id), [ids.running], 'gone ended at 12:00');
    const none = await t.admin.get(`${U}/no-such-project?${window}`);
    assert.equal(none.status, 200);
    assert.deepEqual(none.body.tenant_usage, {});
  });

  it('ends the period now when end is in the future or absent', async () => {
    const r = await t.demo.get(`${U}/${t.demo.projectId}?start=2020-01-01T00:00:00&end=2999-01-01T00:00:00`);
    const stop = Date.parse(r.body.tenant_usage.stop + 'Z');
    assert.ok(Math.abs(stop - Date.now()) < 60_000, r.body.tenant_usage.stop);
    const noEnd = await t.demo.get(`${U}/${t.demo.projectId}?start=2020-01-01T00:00:00`);
    assert.equal(noEnd.status, 200);
    assert.ok(noEnd.body.tenant_usage.total_hours > 4 * 365 * 24);
  });

  it('lets only admins list all projects and members see only their own', async () => {
    const all = await t.demo.get(`${U}?${window}`);
    assert.equal(all.status, 403);
    assert.match(all.body.forbidden.message, /os-simple-tenant-usage:list/);
    assert.equal((await t.demo.get(`${U}/${t.admin.projectId}?${window}`)).status, 403);
    assert.equal((await t.admin.get(`${U}/${t.demo.projectId}?${window}`)).status, 200);
    assert.equal((await t.admin.get(`${U}/?${window}`)).status, 404, 'an empty tenant id is no project');
  });

  it('rejects bad dates and periods that end before they start', async () => {
    for (const q of ['start=yesterday', 'start=2020-01-01', 'end=2020-01-01T00:00:00Z', 'start=2020-02-30T00:00:00', 'start=2020-01-01 00:00:00']) {
      const r = await t.admin.get(`${U}?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.badRequest.message, 'Invalid datetime string: Datetime is in invalid format', q);
    }
    const inverted = await t.demo.get(`${U}/${t.demo.projectId}?start=2020-01-02T00:00:00&end=2020-01-01T00:00:00`);
    assert.equal(inverted.status, 400);
    assert.equal(inverted.body.badRequest.message, 'Invalid start time. The start time cannot occur after the end time.');
  });

  it('pages over server usages with limit and marker from 2.40', async () => {
    const first = await t.admin.get(`${U}?${window}&detailed=1&limit=1`, mv('2.40'));
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const seen = first.body.tenant_usages.flatMap((x: any) => x.server_usages.map((s: any) => s.instance_id));
    assert.equal(seen.length, 1);
    const next = new URL(first.body.tenant_usages_links[0].href);
    assert.equal(next.searchParams.get('marker'), seen[0]);
    assert.equal(next.searchParams.get('start'), '2020-01-01T06:00:00');
    let marker = seen[0];
    for (;;) {
      const page = await t.admin.get(`${U}?${window}&detailed=1&limit=1&marker=${marker}`, mv('2.40'));
      const got = page.body.tenant_usages.flatMap((x: any) => x.server_usages.map((s: any) => s.instance_id));
      if (got.length === 0) break;
      seen.push(...got);
      marker = got[0];
    }
    assert.deepEqual([...seen].sort(), Object.values(ids).sort());
    assert.equal((await t.admin.get(`${U}?${window}&limit=1`)).body.tenant_usages_links, undefined, 'no paging before 2.40');
    const badMarker = await t.admin.get(`${U}?${window}&marker=00000000-0000-0000-0000-000000000000`, mv('2.40'));
    assert.equal(badMarker.status, 400);
    assert.equal(badMarker.body.badRequest.message, 'Marker 00000000-0000-0000-0000-000000000000 could not be found.');
    const own = await t.demo.get(`${U}/${t.demo.projectId}?${window}&limit=1`, mv('2.40'));
    assert.equal(own.body.tenant_usage.server_usages.length, 1);
    assert.match(own.body.tenant_usage_links[0].href, new RegExp(`/os-simple-tenant-usage/${t.demo.projectId}\\?`));
  });
});
