/**
 * Choosing the host, as a user sees it through the API: server groups (hard and soft policies),
 * disabled compute services, NoValidHost faults that explain themselves without naming hosts
 * to non-admins, and 200 concurrent boots that fill 50 hosts exactly without overcommitting.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../../src/config.js';
import { startTestCloud, waitFor, type Client, type TestCloud } from '../helpers/cloud.js';

const C = '/compute/v2.1';
const MV = '2.84';
const FLAVOR_MB = 1024;
const SETTLED = new Set(['ACTIVE', 'ERROR']);

/** A cloud of `hosts` fake hosts with room for `slots` servers of FLAVOR_MB each (memory bound). */
async function cloud(hosts: number, slots: number, weighers: Record<string, number> = {}): Promise<{ t: TestCloud; flavorId: string; imageId: string }> {
  const d = defaultConfig();
  const t = await startTestCloud({
    fakeHosts: hosts,
    scheduler: { ...d.scheduler, weighers: { ...d.scheduler.weighers, ...weighers } },
    fake: { ...d.fake, memoryMb: slots * FLAVOR_MB, vcpus: 64, diskGb: 1000 },
    compute: { ...d.compute, reservedHostMemoryMb: 0, reservedHostCpus: 0, reservedHostDiskMb: 0, ramAllocationRatio: 1.0 },
  });
  t.admin.microversion = MV;
  t.demo.microversion = MV;
  await waitFor(async () => (await t.admin.get(`${C}/os-hypervisors`)).body.hypervisors?.filter((h: any) => h.state === 'up').length === hosts, `${hosts} hypervisors up`, 20_000);
  const f = await t.admin.post(`${C}/flavors`, { flavor: { name: 'sched.small', ram: FLAVOR_MB, vcpus: 1, disk: 1 } });
  assert.equal(f.status, 200, JSON.stringify(f.body));
  const q = await t.admin.put(`${C}/os-quota-sets/${t.demo.projectId}`, { quota_set: { instances: -1, cores: -1, ram: -1, server_group_members: -1 } });
  assert.equal(q.status, 200, JSON.stringify(q.body));
  const imageId = (await t.demo.get('/image/v2/images')).body.images.find((i: any) => i.status === 'active').id;
  return { t, flavorId: f.body.flavor.id, imageId };
}

const boot = (c: Client, imageId: string, flavorId: string, name: string, hints?: Record<string, unknown>) =>
  c.post(`${C}/servers`, { server: { name, imageRef: imageId, flavorRef: flavorId, networks: 'none' }, ...(hints ? { 'os:scheduler_hints': hints } : {}) });

async function settled(c: Client, id: string): Promise<any> {
  return waitFor(async () => {
    const s = (await c.get(`${C}/servers/${id}`)).body.server;
    return s && SETTLED.has(s.status) ? s : null;
  }, `server ${id} ACTIVE or ERROR`, 15_000);
}

/** Boots one server and waits until it is ACTIVE or ERROR; answers the admin's view of it. */
async function bootSettled(t: TestCloud, imageId: string, flavorId: string, name: string, hints?: Record<string, unknown>): Promise<any> {
  const r = await boot(t.demo, imageId, flavorId, name, hints);
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await settled(t.demo, r.body.server.id);
  return (await t.admin.get(`${C}/servers/${r.body.server.id}`)).body.server;
}

const hostOf = (s: any): string => s['OS-EXT-SRV-ATTR:host'];
/** For assertion messages: each server's status, host and fault. */
const why = (ss: any[]): string => ss.map((s) => `${s.name}: ${s.status} on ${hostOf(s)}${s.fault ? ` (${s.fault.message})` : ''}`).join('\n');

/** Deletes every server of every project and waits until they (and their claims) are gone. */
async function deleteAll(t: TestCloud): Promise<void> {
  const all = async (): Promise<string[]> => (await t.admin.get(`${C}/servers?all_tenants=1`)).body.servers.map((s: any) => s.id);
  await Promise.all((await all()).map((id) => t.admin.delete(`${C}/servers/${id}`)));
  await waitFor(async () => (await all()).length === 0, 'servers deleted', 15_000);
  await waitFor(
    async () => (await t.admin.get(`${C}/os-hypervisors/detail`, { 'openstack-api-version': 'compute 2.87' })).body.hypervisors.every((h: any) => h.vcpus_used === 0),
    'allocations released',
    15_000,
  );
}

describe('scheduling: server groups and disabled services on 3 hosts', () => {
  const N = 3;
  let t: TestCloud;
  let flavorId: string;
  let imageId: string;
  const group = async (policy: string) => {
    const r = await t.demo.post(`${C}/os-server-groups`, { server_group: { name: policy, policy } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.server_group.id as string;
  };

  before(async () => {
    // Default multipliers: the soft group weighers (10) outweigh RAM, CPU and Disk together.
    ({ t, flavorId, imageId } = await cloud(N, 4));
  });
  // Each case starts from an empty cloud, whatever the previous one left behind.
  afterEach(async () => {
    await deleteAll(t);
  });
  after(async () => {
    await t?.close();
  });

  it('anti-affinity: N servers on N distinct hosts, the N+1st is ERROR naming the filter; hosts only for admins', async () => {
    const g = await group('anti-affinity');
    const placed: any[] = [];
    for (let i = 0; i < N; i++) placed.push(await bootSettled(t, imageId, flavorId, `aa-${i}`, { group: g }));
    assert.deepEqual(placed.map((s) => s.status), Array(N).fill('ACTIVE'), why(placed));
    assert.equal(new Set(placed.map(hostOf)).size, N, `distinct hosts: ${placed.map(hostOf).join(', ')}`);

    const last = await bootSettled(t, imageId, flavorId, `aa-${N}`, { group: g });
    assert.equal(last.status, 'ERROR', why([last]));
    assert.equal(last.fault.code, 500);
    const message: string = last.fault.message;
    assert.match(message, /^No valid host was found\. /);
    assert.match(message, new RegExp(`${N} of ${N} hosts .*ServerGroupAntiAffinityFilter`));
    assert.ok(message.includes(g), 'the message names the group');

    // The owner sees the summary only: no fault details, no host names anywhere in the server.
    const mine = (await t.demo.get(`${C}/servers/${last.id}`)).body.server;
    assert.equal(mine.fault.message, message);
    assert.equal('details' in mine.fault, false);
    assert.doesNotMatch(JSON.stringify(mine), /host\d/);
    // The admin sees one line per host, each naming it.
    for (let h = 1; h <= N; h++) assert.match(last.fault.details, new RegExp(`^host${h}: .+`, 'm'));

    // The create action's scheduling event: Error; details (the summary) and traceback (per host) for admins.
    const actions = (await t.admin.get(`${C}/servers/${last.id}/os-instance-actions`)).body.instanceActions;
    const create = actions.find((a: any) => a.action === 'create');
    assert.equal(create.message, 'Error');
    const shown = (await t.admin.get(`${C}/servers/${last.id}/os-instance-actions/${create.request_id}`)).body.instanceAction;
    const ev = shown.events.find((e: any) => e.event === 'conductor_schedule_and_build_instances');
    assert.equal(ev.result, 'Error');
    assert.equal(ev.details, message);
    for (let h = 1; h <= N; h++) assert.match(ev.traceback, new RegExp(`^host${h}: `, 'm'));
    const theirs = (await t.demo.get(`${C}/servers/${last.id}/os-instance-actions/${create.request_id}`)).body.instanceAction;
    const demoEv = theirs.events.find((e: any) => e.event === 'conductor_schedule_and_build_instances');
    assert.equal(demoEv.result, 'Error');
    assert.equal('traceback' in demoEv, false);
    assert.doesNotMatch(JSON.stringify(theirs), /host\d/);
  });

  it('soft-anti-affinity: 2N servers spread exactly 2 per host, none ERROR, even where free memory says otherwise', async () => {
    // host1 already holds 2 other servers: by free memory alone it would get only 1 of the 6.
    for (let i = 0; i < 2; i++) {
      const r = await t.admin.post(`${C}/servers`, { server: { name: `other-${i}`, imageRef: imageId, flavorRef: flavorId, networks: 'none', host: 'host1' } });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      assert.equal(hostOf(await settled(t.admin, r.body.server.id)), 'host1');
    }
    const g = await group('soft-anti-affinity');
    const r = await t.demo.post(`${C}/servers`, {
      server: { name: 'saa', imageRef: imageId, flavorRef: flavorId, networks: 'none', min_count: 2 * N, max_count: 2 * N },
      'os:scheduler_hints': { group: g },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await waitFor(async () => {
      const ss = (await t.demo.get(`${C}/servers/detail`)).body.servers;
      return ss.length === 2 * N && ss.every((s: any) => SETTLED.has(s.status));
    }, 'soft-anti-affinity servers settled', 15_000);
    const all = (await t.demo.get(`${C}/servers/detail`)).body.servers.map((s: any) => s.id);
    const mine = await Promise.all(all.map(async (id: string) => (await t.admin.get(`${C}/servers/${id}`)).body.server));
    assert.deepEqual(mine.map((s: any) => s.status), Array(2 * N).fill('ACTIVE'), why(mine));
    const per = new Map<string, number>();
    for (const s of mine) per.set(hostOf(s), (per.get(hostOf(s)) ?? 0) + 1);
    assert.deepEqual([...per.values()], Array(N).fill(2), JSON.stringify([...per]));
  });

  it('a disabled compute service gets no servers; all disabled is NoValidHost saying so', async () => {
    const services = (await t.admin.get(`${C}/os-services?binary=nova-compute`, { 'openstack-api-version': 'compute 2.53' })).body.services;
    const host2 = services.find((s: any) => s.host === 'host2');
    const set = (s: any, status: string) =>
      t.admin.put(`${C}/os-services/${s.id}`, status === 'disabled' ? { status, disabled_reason: 'maintenance' } : { status }, { 'openstack-api-version': 'compute 2.53' });
    assert.equal((await set(host2, 'disabled')).status, 200);
    try {
      const placed: any[] = [];
      for (let i = 0; i < 4; i++) placed.push(await bootSettled(t, imageId, flavorId, `dis-${i}`));
      assert.deepEqual(placed.map((s) => s.status), ['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE'], why(placed));
      assert.ok(!placed.some((s) => hostOf(s) === 'host2'), `hosts: ${placed.map(hostOf).join(', ')}`);

      for (const s of services) if (s.host !== 'host2') assert.equal((await set(s, 'disabled')).status, 200);
      const none = await bootSettled(t, imageId, flavorId, 'dis-none');
      assert.equal(none.status, 'ERROR', why([none]));
      assert.equal(none.fault.message, `No valid host was found. ${N} of ${N} hosts have their compute service disabled or down.`);
      assert.match(none.fault.details, /^host2: compute service is disabled \(maintenance\)$/m);
    } finally {
      for (const s of services) await set(s, 'enabled');
    }
  });

  it('affinity: every member on one host, NoValidHost once that host is full', async () => {
    const g = await group('affinity');
    const placed: any[] = [];
    for (let i = 0; i < 4; i++) placed.push(await bootSettled(t, imageId, flavorId, `af-${i}`, { group: g }));
    assert.deepEqual(placed.map((s) => s.status), ['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE'], why(placed));
    const hosts = new Set(placed.map(hostOf));
    assert.equal(hosts.size, 1, `hosts: ${[...hosts].join(', ')}`);
    const full = await bootSettled(t, imageId, flavorId, 'af-full', { group: g });
    assert.equal(full.status, 'ERROR', why([full]));
    assert.match(full.fault.message, /^No valid host was found\. /);
    assert.match(full.fault.message, new RegExp(`1 of ${N} hosts lacks memory: needs ${FLAVOR_MB} MB, free 0 MB\\.`));
    assert.match(full.fault.message, new RegExp(`${N - 1} of ${N} hosts .*ServerGroupAffinityFilter`));
    assert.doesNotMatch(full.fault.message, /host\d/);
    assert.match(full.fault.details, new RegExp(`^${[...hosts][0]}: not enough memory`, 'm'));
  });
});

describe('scheduling: 200 concurrent boots onto 50 hosts with room for 150', () => {
  const HOSTS = 50;
  const SLOTS = 3;
  const BOOTS = 200;
  let t: TestCloud;
  let flavorId: string;
  let imageId: string;

  before(async () => {
    ({ t, flavorId, imageId } = await cloud(HOSTS, SLOTS));
  });
  after(async () => {
    await t?.close();
  });

  it('exactly 150 ACTIVE, 50 ERROR with reasons, no host over capacity, allocations = ACTIVE flavors', async () => {
    const replies = await Promise.all(Array.from({ length: BOOTS }, (_, i) => boot(t.demo, imageId, flavorId, `burst-${i}`)));
    assert.deepEqual([...new Set(replies.map((r) => r.status))], [202], JSON.stringify(replies.find((r) => r.status !== 202)?.body));
    const servers: any[] = await waitFor(
      async () => {
        const ss = (await t.admin.get(`${C}/servers/detail?all_tenants=1&project_id=${t.demo.projectId}&limit=1000`)).body.servers;
        return ss.length === BOOTS && ss.every((s: any) => SETTLED.has(s.status)) ? ss : null;
      },
      'all boots settled',
      40_000,
      200,
    );
    const active = servers.filter((s) => s.status === 'ACTIVE');
    const errors = servers.filter((s) => s.status === 'ERROR');
    assert.equal(active.length, HOSTS * SLOTS);
    assert.equal(errors.length, BOOTS - HOSTS * SLOTS);
    for (const e of errors) {
      assert.match(e.fault.message, /^No valid host was found\. \S/, e.fault.message);
      // Every host is full by the time these are decided (or was taken while claiming).
      assert.match(e.fault.message, new RegExp(`\\d+ of ${HOSTS} hosts lack memory: needs ${FLAVOR_MB} MB|passed the filters but w(as|ere) taken by concurrent requests`), e.fault.message);
      assert.doesNotMatch(e.fault.message, /host\d/, 'no host names in the message');
    }
    const perHost = new Map<string, number>();
    for (const s of active) perHost.set(hostOf(s), (perHost.get(hostOf(s)) ?? 0) + 1);
    assert.ok([...perHost.values()].every((n) => n <= SLOTS), JSON.stringify([...perHost]));

    const hyps = (await t.admin.get(`${C}/os-hypervisors/detail`, { 'openstack-api-version': 'compute 2.87' })).body.hypervisors;
    assert.equal(hyps.length, HOSTS);
    for (const h of hyps) assert.ok(h.memory_mb_used <= h.memory_mb, `${h.hypervisor_hostname}: ${h.memory_mb_used} MB used of ${h.memory_mb} MB`);
    const used = hyps.reduce((a: number, h: any) => a + h.memory_mb_used, 0);
    assert.equal(used, active.length * FLAVOR_MB, 'memory used = ACTIVE servers x flavor');
    assert.equal(hyps.reduce((a: number, h: any) => a + h.vcpus_used, 0), active.length);

    const usages = (await t.admin.get(`/placement/usages?project_id=${t.demo.projectId}`)).body.usages;
    assert.deepEqual(usages, { VCPU: active.length, MEMORY_MB: active.length * FLAVOR_MB, DISK_GB: active.length });
  });
});
