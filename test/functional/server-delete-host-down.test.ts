import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, waitFor, type TestCloud } from '../helpers/cloud.js';

const S = '/compute/v2.1/servers';
const MV = { 'openstack-api-version': 'compute 2.53' };

describe('deleting a server whose compute host is down', () => {
  let t: TestCloud;
  before(async () => {
    t = await startTestCloud();
  });
  after(async () => t?.close());

  const status = async (id: string) => (await t.admin.get(`${S}/${id}`)).body?.server?.status;

  it('deletes it at once instead of leaving it in deleting; the host reaps the guest when back', async () => {
    const image = (await t.admin.get('/image/v2/images?name=tiny-linux')).body.images[0].id;
    const made = await t.admin.post(S, { server: { name: 'orphan', flavorRef: '1', imageRef: image, networks: 'auto' } }, MV);
    assert.equal(made.status, 202);
    const id = made.body.server.id;
    await waitFor(async () => (await status(id)) === 'ACTIVE', 'server ACTIVE');
    const driver = t.cloud.drivers.get('host1')!;
    assert.ok((await driver.listInstances()).includes(id));
    const ports = async () => (await t.admin.get(`/network/v2.0/ports?device_id=${id}`)).body.ports;
    assert.equal((await ports()).length, 1, 'the server has a port on the shared network');

    const svc = (await t.admin.get('/compute/v2.1/os-services?binary=nova-compute', MV)).body.services[0];
    const down = await t.admin.put(`/compute/v2.1/os-services/${svc.id}`, { forced_down: true }, MV);
    assert.equal(down.status, 200);
    assert.equal(down.body.service.state, 'down');

    assert.equal((await t.admin.delete(`${S}/${id}`)).status, 204);
    assert.equal((await t.admin.get(`${S}/${id}`)).status, 404, 'the server is gone at once');
    const held = await t.cloud.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM allocations WHERE consumer_uuid = ?', [id]);
    assert.equal(held!.n, 0, 'its resources are freed');
    assert.deepEqual(await ports(), [], 'its port is released');
    const actions = (await t.admin.get(`${S}/${id}/os-instance-actions`)).body.instanceActions.map((a: any) => a.action);
    assert.ok(actions.includes('delete'), `actions: ${actions}`);

    // The host comes back: its power sync finds the guest of a deleted instance and destroys it.
    assert.equal((await t.admin.put(`/compute/v2.1/os-services/${svc.id}`, { forced_down: false }, MV)).status, 200);
    await waitFor(async () => !(await driver.listInstances()).includes(id), 'the guest reaped', 10_000, 100);
  });
});
