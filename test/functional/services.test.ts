/** os-services, os-hypervisors and os-availability-zone against the cloud's own running services. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, waitFor, type TestCloud } from '../helpers/cloud.js';

const S = '/compute/v2.1/os-services';
const H = '/compute/v2.1/os-hypervisors';
const mv = (v: string) => ({ 'openstack-api-version': `compute ${v}` });

describe('services, hypervisors and availability zones', () => {
  let t: TestCloud;
  before(async () => {
    t = await startTestCloud({ fakeHosts: 2 });
    await waitFor(async () => (await t.admin.get(H)).body.hypervisors?.length === 2, 'two hypervisors');
  });
  after(async () => {
    await t?.close();
  });

  it('lists services to admins only, with filters and per-microversion ids', async () => {
    assert.equal((await t.demo.get(S)).status, 403);
    const r = await t.admin.get(S);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.services.filter((s: any) => !s.binary.startsWith('nova-')), [], 'only Nova services (the volume service has its own)');
    const computes = r.body.services.filter((s: any) => s.binary === 'nova-compute');
    assert.deepEqual(computes.map((s: any) => s.host).sort(), ['host1', 'host2']);
    const c = computes[0];
    assert.equal(typeof c.id, 'number');
    assert.equal(c.state, 'up');
    assert.equal(c.status, 'enabled');
    assert.equal(c.zone, 'nova');
    assert.equal('forced_down' in c, false);
    assert.match(c.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    const internal = r.body.services.find((s: any) => s.binary !== 'nova-compute');
    if (internal) assert.equal(internal.zone, 'internal');
    const filtered = await t.admin.get(`${S}?host=host2&binary=nova-compute`, mv('2.53'));
    assert.equal(filtered.body.services.length, 1);
    assert.match(filtered.body.services[0].id, /^[0-9a-f-]{36}$/);
    assert.equal(filtered.body.services[0].forced_down, false);
  });

  it('disables and enables with the legacy actions before 2.53', async () => {
    const dis = await t.admin.put(`${S}/disable-log-reason`, { host: 'host1', binary: 'nova-compute', disabled_reason: 'maint' });
    assert.equal(dis.status, 200);
    assert.deepEqual(dis.body.service, { binary: 'nova-compute', disabled_reason: 'maint', host: 'host1', status: 'disabled' });
    const listed = (await t.admin.get(`${S}?host=host1&binary=nova-compute`)).body.services[0];
    assert.equal(listed.status, 'disabled');
    assert.equal(listed.disabled_reason, 'maint');
    const hyp = (await t.admin.get(H)).body.hypervisors.find((h: any) => h.hypervisor_hostname.length && h.status === 'disabled');
    assert.ok(hyp, 'a disabled hypervisor');
    const en = await t.admin.put(`${S}/enable`, { host: 'host1', binary: 'nova-compute' });
    assert.deepEqual(en.body.service, { binary: 'nova-compute', host: 'host1', status: 'enabled' });
    assert.equal((await t.admin.put(`${S}/enable`, { host: 'nohost', binary: 'nova-compute' })).status, 404);
    assert.equal((await t.admin.put(`${S}/force-down`, { host: 'host1', binary: 'nova-compute', forced_down: true })).status, 404);
    const fd = await t.admin.put(`${S}/force-down`, { host: 'host1', binary: 'nova-compute', forced_down: true }, mv('2.11'));
    assert.deepEqual(fd.body.service, { binary: 'nova-compute', host: 'host1', forced_down: true });
    const down = (await t.admin.get(`${S}?host=host1&binary=nova-compute`, mv('2.11'))).body.services[0];
    assert.equal(down.state, 'down');
    assert.equal(down.forced_down, true);
    await t.admin.put(`${S}/force-down`, { host: 'host1', binary: 'nova-compute', forced_down: false }, mv('2.11'));
    assert.equal((await t.admin.put(`${S}/bogus`, {})).status, 404);
    assert.equal((await t.demo.put(`${S}/enable`, { host: 'host1', binary: 'nova-compute' })).status, 403);
  });

  it('updates by uuid from 2.53 with Nova rules', async () => {
    const svc = (await t.admin.get(`${S}?host=host2&binary=nova-compute`, mv('2.53'))).body.services[0];
    const dis = await t.admin.put(`${S}/${svc.id}`, { status: 'disabled', disabled_reason: 'testing' }, mv('2.53'));
    assert.equal(dis.status, 200);
    assert.equal(dis.body.service.status, 'disabled');
    assert.equal(dis.body.service.disabled_reason, 'testing');
    assert.equal(dis.body.service.zone, 'nova');
    assert.equal((await t.admin.put(`${S}/${svc.id}`, {}, mv('2.53'))).status, 400);
    assert.equal((await t.admin.put(`${S}/${svc.id}`, { status: 'enabled', disabled_reason: 'x' }, mv('2.53'))).status, 400);
    assert.equal((await t.admin.put(`${S}/${svc.id}`, { status: 'sideways' }, mv('2.53'))).status, 400);
    assert.equal((await t.admin.put(`${S}/not-a-uuid`, { status: 'enabled' }, mv('2.53'))).status, 400);
    assert.equal((await t.admin.put(`${S}/00000000-0000-0000-0000-000000000000`, { status: 'enabled' }, mv('2.53'))).status, 404);
    const en = await t.admin.put(`${S}/${svc.id}`, { status: 'enabled' }, mv('2.53'));
    assert.equal(en.body.service.disabled_reason, null);
    const other = (await t.admin.get(S, mv('2.53'))).body.services.find((s: any) => s.binary !== 'nova-compute');
    if (other) assert.equal((await t.admin.put(`${S}/${other.id}`, { status: 'disabled' }, mv('2.53'))).status, 400);
  });

  it('lists hypervisors with usage fields per microversion', async () => {
    assert.equal((await t.demo.get(H)).status, 403);
    const list = await t.admin.get(H);
    const h = list.body.hypervisors[0];
    assert.deepEqual(Object.keys(h).sort(), ['hypervisor_hostname', 'id', 'state', 'status']);
    assert.equal(typeof h.id, 'number');
    const detail = (await t.admin.get(`${H}/detail`)).body.hypervisors[0];
    for (const k of ['vcpus', 'memory_mb', 'local_gb', 'vcpus_used', 'memory_mb_used', 'local_gb_used', 'free_ram_mb', 'free_disk_gb', 'running_vms', 'current_workload'])
      assert.equal(typeof detail[k], 'number', k);
    assert.equal(detail.free_ram_mb, detail.memory_mb - detail.memory_mb_used);
    assert.equal(typeof detail.cpu_info, 'string');
    assert.equal(typeof detail.service.id, 'number');
    assert.equal(typeof (await t.admin.get(`${H}/detail`, mv('2.28'))).body.hypervisors[0].cpu_info, 'object');
    const v288 = (await t.admin.get(`${H}/detail`, mv('2.88'))).body.hypervisors[0];
    assert.equal('vcpus' in v288, false);
    assert.equal('uptime' in v288, true);
    assert.match(v288.id, /^[0-9a-f-]{36}$/);
    const show = await t.admin.get(`${H}/${h.id}`);
    assert.equal(show.body.hypervisor.hypervisor_hostname, h.hypervisor_hostname);
    assert.equal((await t.admin.get(`${H}/999999`)).status, 404);
    assert.equal((await t.admin.get(`${H}/${h.id}`, mv('2.53'))).status, 400);
    const stats = await t.admin.get(`${H}/statistics`);
    assert.equal(stats.body.hypervisor_statistics.count, 2);
    assert.equal(stats.body.hypervisor_statistics.vcpus, detail.vcpus * 2);
    assert.equal((await t.admin.get(`${H}/statistics`, mv('2.88'))).status, 404);
  });

  it('searches and pages hypervisors', async () => {
    const name = (await t.admin.get(H)).body.hypervisors[0].hypervisor_hostname;
    const legacy = await t.admin.get(`${H}/${encodeURIComponent(name)}/search`);
    assert.equal(legacy.status, 200);
    assert.ok(legacy.body.hypervisors.some((x: any) => x.hypervisor_hostname === name));
    assert.equal((await t.admin.get(`${H}/zzz-nothing/search`)).status, 404);
    assert.equal((await t.admin.get(`${H}/${encodeURIComponent(name)}/search`, mv('2.53'))).status, 404);
    const pat = await t.admin.get(`${H}?hypervisor_hostname_pattern=${encodeURIComponent(name)}&with_servers=true`, mv('2.75'));
    assert.equal(pat.status, 200);
    assert.deepEqual(pat.body.hypervisors[0].servers, []);
    assert.equal((await t.admin.get(`${H}?hypervisor_hostname_pattern=x&limit=1`, mv('2.53'))).status, 400);
    const page = await t.admin.get(`${H}?limit=1`, mv('2.53'));
    assert.equal(page.body.hypervisors.length, 1);
    assert.match(page.body.hypervisors_links[0].href, new RegExp(`marker=${page.body.hypervisors[0].id}`));
    const rest = await t.admin.get(`${H}?limit=1&marker=${page.body.hypervisors[0].id}`, mv('2.53'));
    assert.notEqual(rest.body.hypervisors[0].id, page.body.hypervisors[0].id);
    assert.equal((await t.admin.get(`${H}?marker=00000000-0000-0000-0000-000000000000`, mv('2.53'))).status, 400);
  });

  it('lists availability zones to users and the detail to admins', async () => {
    const r = await t.demo.get('/compute/v2.1/os-availability-zone');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.availabilityZoneInfo, [{ zoneName: 'nova', zoneState: { available: true }, hosts: null }]);
    assert.equal((await t.demo.get('/compute/v2.1/os-availability-zone/detail')).status, 403);
    const d = await t.admin.get('/compute/v2.1/os-availability-zone/detail');
    const nova = d.body.availabilityZoneInfo.find((z: any) => z.zoneName === 'nova');
    assert.deepEqual(Object.keys(nova.hosts).sort(), ['host1', 'host2']);
    assert.equal(nova.hosts.host1['nova-compute'].available, true);
    assert.equal(nova.hosts.host1['nova-compute'].active, true);
  });

  it('counts a server in hypervisor usage and refuses to delete its compute service', async () => {
    const image = (await t.demo.get('/image/v2/images')).body.images[0].id;
    const c = await t.demo.post('/compute/v2.1/servers', { server: { name: 'busy', imageRef: image, flavorRef: '1', networks: 'none' } }, mv('2.37'));
    assert.equal(c.status, 202, JSON.stringify(c.body));
    const id = c.body.server.id;
    const host = await waitFor(async () => {
      const s = await t.admin.get(`/compute/v2.1/servers/${id}`);
      return s.body.server?.status === 'ACTIVE' ? (s.body.server['OS-EXT-SRV-ATTR:host'] as string) : undefined;
    }, 'server ACTIVE');
    const hyp = (await t.admin.get(`${H}/detail`)).body.hypervisors.find((h: any) => h.service.host === host);
    assert.equal(hyp.running_vms, 1);
    assert.equal(hyp.vcpus_used, 1);
    const withServers = (await t.admin.get(`${H}/${(await t.admin.get(`${H}?hypervisor_hostname_pattern=${hyp.hypervisor_hostname}`, mv('2.53'))).body.hypervisors[0].id}?with_servers=true`, mv('2.53'))).body.hypervisor;
    assert.deepEqual(withServers.servers, [{ name: 'busy', uuid: id }]);
    const svc = (await t.admin.get(`${S}?host=${host}&binary=nova-compute`)).body.services[0];
    const del = await t.admin.delete(`${S}/${svc.id}`);
    assert.equal(del.status, 409);
    assert.match(del.body.conflictingRequest.message, /hosting instances/);
    assert.equal((await t.demo.delete(`/compute/v2.1/servers/${id}`)).status, 204);
    await waitFor(async () => (await t.admin.get(`/compute/v2.1/servers/${id}`)).status === 404, 'server gone');
  });

  it('deletes a compute service without instances (admin)', async () => {
    const svc = (await t.admin.get(`${S}?host=host2&binary=nova-compute`)).body.services[0];
    assert.equal((await t.demo.delete(`${S}/${svc.id}`)).status, 403);
    assert.equal((await t.admin.delete(`${S}/abc`)).status, 400);
    assert.equal((await t.admin.delete(`${S}/${svc.id}`)).status, 204);
    assert.equal((await t.admin.delete(`${S}/${svc.id}`)).status, 404);
    assert.ok(!(await t.admin.get(S)).body.services.some((x: any) => x.id === svc.id));
  });
});
