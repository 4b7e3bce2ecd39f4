/** os-quota-sets, os-quota-class-sets and /limits through the Compute API. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';

const Q = '/compute/v2.1/os-quota-sets';
const mv = (v: string) => ({ 'openstack-api-version': `compute ${v}` });

describe('quotas and limits', () => {
  let t: TestCloud;
  before(async () => {
    t = await startTestCloud();
  });
  after(async () => {
    await t?.close();
  });

  it('shows the defaults with the resources of each microversion', async () => {
    const v21 = await t.demo.get(`${Q}/${t.demo.projectId}`);
    assert.equal(v21.status, 200);
    assert.equal(v21.body.quota_set.id, t.demo.projectId);
    assert.equal(v21.body.quota_set.instances, 10);
    assert.equal(v21.body.quota_set.floating_ips, -1);
    assert.equal(v21.body.quota_set.injected_files, 5);
    const v236 = await t.demo.get(`${Q}/${t.demo.projectId}`, mv('2.36'));
    assert.equal('floating_ips' in v236.body.quota_set, false);
    assert.equal(v236.body.quota_set.injected_files, 5);
    const v257 = await t.demo.get(`${Q}/${t.demo.projectId}`, mv('2.57'));
    assert.deepEqual(Object.keys(v257.body.quota_set).sort(), [
      'cores', 'id', 'instances', 'key_pairs', 'metadata_items', 'ram', 'server_group_members', 'server_groups',
    ]);
    const defaults = await t.demo.get(`${Q}/${t.demo.projectId}/defaults`, mv('2.57'));
    assert.equal(defaults.body.quota_set.cores, 20);
  });

  it("forbids reading other projects' quotas and writing without admin", async () => {
    assert.equal((await t.demo.get(`${Q}/${t.admin.projectId}`)).status, 403);
    assert.equal((await t.demo.put(`${Q}/${t.demo.projectId}`, { quota_set: { instances: 1 } })).status, 403);
    assert.equal((await t.demo.delete(`${Q}/${t.demo.projectId}`)).status, 403);
    assert.equal((await t.admin.get(`${Q}/${t.demo.projectId}`)).status, 200);
  });

  it('updates, validates and resets project quotas', async () => {
    const r = await t.admin.put(`${Q}/${t.demo.projectId}`, { quota_set: { instances: 5, cores: '7', ram: -1 } });
    assert.equal(r.status, 200);
    assert.equal(r.body.quota_set.instances, 5);
    assert.equal(r.body.quota_set.cores, 7);
    assert.equal(r.body.quota_set.ram, -1);
    assert.equal('id' in r.body.quota_set, false);
    assert.equal((await t.demo.get(`${Q}/${t.demo.projectId}`)).body.quota_set.instances, 5);
    for (const bad of [{ instances: -2 }, { instances: 'many' }, { bogus: 1 }, { instances: 1.5 }]) {
      const b = await t.admin.put(`${Q}/${t.demo.projectId}`, { quota_set: bad });
      assert.equal(b.status, 400, JSON.stringify(bad));
    }
    assert.equal((await t.admin.put(`${Q}/${t.demo.projectId}`, { quota_set: { floating_ips: 1 } }, mv('2.36'))).status, 400);
    assert.equal((await t.admin.put(`${Q}/${t.demo.projectId}`, { quota_set: { injected_files: 1 } }, mv('2.57'))).status, 400);
    assert.equal((await t.admin.put(`${Q}/no-such-project`, { quota_set: { instances: 1 } })).status, 400);
    assert.equal((await t.admin.delete(`${Q}/${t.demo.projectId}`)).status, 202);
    assert.equal((await t.demo.get(`${Q}/${t.demo.projectId}`)).body.quota_set.instances, 10);
  });

  it('refuses a user quota above the project quota unless forced', async () => {
    await t.admin.put(`${Q}/${t.demo.projectId}`, { quota_set: { instances: 4 } });
    const over = await t.admin.put(`${Q}/${t.demo.projectId}?user_id=${t.demo.userId}`, { quota_set: { instances: 6 } });
    assert.equal(over.status, 400);
    assert.match(over.body.badRequest.message, /must be less than or equal to 4/);
    const ok = await t.admin.put(`${Q}/${t.demo.projectId}?user_id=${t.demo.userId}`, { quota_set: { instances: 2 } });
    assert.equal(ok.status, 200);
    assert.equal((await t.demo.get(`${Q}/${t.demo.projectId}?user_id=${t.demo.userId}`)).body.quota_set.instances, 2);
    assert.equal((await t.demo.get(`${Q}/${t.demo.projectId}`)).body.quota_set.instances, 4);
    await t.admin.delete(`${Q}/${t.demo.projectId}`);
  });

  it('shows usage in detail and refuses to lower a limit below it without force', async () => {
    await t.demo.post('/compute/v2.1/os-keypairs', { keypair: { name: 'k1' } });
    const d = await t.demo.get(`${Q}/${t.demo.projectId}/detail?user_id=${t.demo.userId}`);
    assert.equal(d.status, 200);
    assert.deepEqual(d.body.quota_set.key_pairs, { in_use: 1, limit: 100, reserved: 0 });
    assert.deepEqual(d.body.quota_set.instances, { in_use: 0, limit: 10, reserved: 0 });
    const low = await t.admin.put(`${Q}/${t.demo.projectId}?user_id=${t.demo.userId}`, { quota_set: { key_pairs: 0 } });
    assert.equal(low.status, 400);
    assert.match(low.body.badRequest.message, /must be greater than or equal to already used and reserved 1/);
    const forced = await t.admin.put(`${Q}/${t.demo.projectId}?user_id=${t.demo.userId}`, { quota_set: { key_pairs: 0, force: 'True' } });
    assert.equal(forced.status, 200);
    assert.equal((await t.demo.post('/compute/v2.1/os-keypairs', { keypair: { name: 'k2' } })).status, 403);
    await t.admin.delete(`${Q}/${t.demo.projectId}?user_id=${t.demo.userId}`);
    assert.equal((await t.demo.post('/compute/v2.1/os-keypairs', { keypair: { name: 'k2' } })).status, 200);
  });

  it('manages quota classes (admin) with the default class driving limits', async () => {
    const QC = '/compute/v2.1/os-quota-class-sets/default';
    assert.equal((await t.demo.get(QC)).status, 403);
    const v21 = await t.admin.get(QC);
    assert.equal(v21.body.quota_class_set.id, 'default');
    assert.equal(v21.body.quota_class_set.security_groups, -1);
    assert.equal('server_groups' in v21.body.quota_class_set, false);
    const v250 = await t.admin.get(QC, mv('2.50'));
    assert.equal(v250.body.quota_class_set.server_groups, 10);
    assert.equal('security_groups' in v250.body.quota_class_set, false);
    const up = await t.admin.put(QC, { quota_class_set: { cores: 50 } }, mv('2.57'));
    assert.equal(up.status, 200);
    assert.equal(up.body.quota_class_set.cores, 50);
    assert.equal('id' in up.body.quota_class_set, false);
    assert.equal((await t.admin.put(QC, { quota_class_set: { injected_files: 1 } }, mv('2.57'))).status, 400);
    assert.equal((await t.demo.get(`${Q}/${t.demo.projectId}`)).body.quota_set.cores, 50);
    const lim = await t.demo.get('/compute/v2.1/limits');
    assert.equal(lim.body.limits.absolute.maxTotalCores, 50);
    await t.admin.put(QC, { quota_class_set: { cores: 20 } });
  });

  it('reports absolute limits per microversion', async () => {
    const v21 = await t.demo.get('/compute/v2.1/limits?reserved=1');
    assert.equal(v21.status, 200);
    assert.deepEqual(v21.body.limits.rate, []);
    const a = v21.body.limits.absolute;
    assert.equal(a.maxTotalInstances, 10);
    assert.equal(a.totalInstancesUsed, 0);
    assert.equal(a.maxTotalKeypairs, 100);
    assert.equal(a.maxSecurityGroups, -1);
    assert.equal(a.maxImageMeta, 128);
    assert.equal(a.maxPersonality, 5);
    const v236 = (await t.demo.get('/compute/v2.1/limits', mv('2.36'))).body.limits.absolute;
    assert.equal('maxSecurityGroups' in v236, false);
    assert.equal('maxImageMeta' in v236, true);
    const v239 = (await t.demo.get('/compute/v2.1/limits', mv('2.39'))).body.limits.absolute;
    assert.equal('maxImageMeta' in v239, false);
    const v257 = (await t.demo.get('/compute/v2.1/limits', mv('2.57'))).body.limits.absolute;
    assert.deepEqual(Object.keys(v257).sort(), [
      'maxServerGroupMembers', 'maxServerGroups', 'maxServerMeta', 'maxTotalCores', 'maxTotalInstances', 'maxTotalKeypairs',
      'maxTotalRAMSize', 'totalCoresUsed', 'totalInstancesUsed', 'totalRAMUsed', 'totalServerGroupsUsed',
    ]);
    assert.equal((await t.demo.get(`/compute/v2.1/limits?tenant_id=${t.admin.projectId}`)).status, 403);
    await t.admin.put(`${Q}/${t.demo.projectId}`, { quota_set: { instances: 3 } });
    const other = await t.admin.get(`/compute/v2.1/limits?tenant_id=${t.demo.projectId}`);
    assert.equal(other.body.limits.absolute.maxTotalInstances, 3);
    assert.equal((await t.demo.get('/compute/v2.1/limits?foo=1', mv('2.75'))).status, 400);
  });
});
