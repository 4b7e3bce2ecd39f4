/** Volume transfers over HTTP: offer, key once, accept by another project (quota moves), withdraw. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startVolFixture, type VolFixture } from '../testing.js';

let fx: VolFixture;
before(async () => {
  fx = await startVolFixture();
});
after(() => fx.close());

const P = '/v3/p-demo';
const ALT = '/v3/p-alt';
async function volume(size = 1) {
  const r = await fx.call('demo', 'POST', `${P}/volumes`, { volume: { size } });
  assert.equal(r.status, 202);
  return fx.waitStatus(r.body.volume.id, 'available');
}
const usage = async (user: string, project: string) =>
  (await fx.call('admin', 'GET', `/v3/p-admin/os-quota-sets/${project}?usage=true`)).body.quota_set[user === 'gb' ? 'gigabytes' : 'volumes'].in_use;

describe('volume transfers', () => {
  test('create (awaiting-transfer, key shown once), accept by another project with the key: the volume and its quota move', async () => {
    const v = await volume(2);
    await fx.call('demo', 'POST', `${P}/snapshots`, { snapshot: { volume_id: v.id, name: 'goes-along' } });
    const before = { demo: await usage('vol', 'p-demo'), alt: await usage('vol', 'p-alt'), altGb: await usage('gb', 'p-alt') };
    const r = await fx.call('demo', 'POST', `${P}/os-volume-transfer`, { transfer: { volume_id: v.id, name: 'gift' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const t = r.body.transfer;
    assert.deepEqual(Object.keys(t).sort(), ['auth_key', 'created_at', 'id', 'links', 'name', 'volume_id']);
    assert.equal((await fx.waitStatus(v.id, 'awaiting-transfer')).status, 'awaiting-transfer');
    const shown = (await fx.call('demo', 'GET', `${P}/os-volume-transfer/${t.id}`)).body.transfer;
    assert.ok(!('auth_key' in shown), 'the key is never shown again');
    assert.deepEqual((await fx.call('demo', 'GET', `${P}/os-volume-transfer`)).body.transfers.map((x: any) => x.id), [t.id]);
    assert.equal((await fx.call('alt', 'GET', `${ALT}/os-volume-transfer/${t.id}`)).status, 404, 'another project does not see it');
    assert.equal((await fx.call('demo', 'DELETE', `${P}/volumes/${v.id}`)).status, 400, 'not while offered');
    const wrong = await fx.call('alt', 'POST', `${ALT}/os-volume-transfer/${t.id}/accept`, { accept: { auth_key: 'nope' } });
    assert.equal(wrong.status, 400);
    assert.match(wrong.body.badRequest.message, /invalid auth key/);
    const ok = await fx.call('alt', 'POST', `${ALT}/os-volume-transfer/${t.id}/accept`, { accept: { auth_key: t.auth_key } });
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    assert.deepEqual(Object.keys(ok.body.transfer).sort(), ['id', 'links', 'name', 'volume_id']);
    const moved = (await fx.call('alt', 'GET', `${ALT}/volumes/${v.id}`)).body.volume;
    assert.equal(moved.status, 'available');
    assert.equal(moved.user_id, 'u-alt');
    assert.equal((await fx.call('demo', 'GET', `${P}/volumes/${v.id}`)).status, 404);
    assert.equal((await fx.call('alt', 'GET', `${ALT}/snapshots?volume_id=${v.id}`)).body.snapshots.length, 1, 'snapshots go along');
    assert.equal(await usage('vol', 'p-demo'), before.demo - 1);
    assert.equal(await usage('vol', 'p-alt'), before.alt + 1);
    assert.equal(await usage('gb', 'p-alt'), before.altGb + 4, 'the volume and its snapshot (2 GiB each)');
    assert.equal((await fx.call('alt', 'POST', `${ALT}/os-volume-transfer/${t.id}/accept`, { accept: { auth_key: t.auth_key } })).status, 404, 'once');
  });

  test('delete withdraws the offer; only available volumes; 3.55 volume-transfers with no_snapshots, 3.57 fields', async () => {
    const v = await volume();
    const t = (await fx.call('demo', 'POST', `${P}/os-volume-transfer`, { transfer: { volume_id: v.id } })).body.transfer;
    const again = await fx.call('demo', 'POST', `${P}/os-volume-transfer`, { transfer: { volume_id: v.id } });
    assert.equal(again.status, 400);
    assert.match(again.body.badRequest.message, /must be available/);
    assert.equal((await fx.call('alt', 'DELETE', `${ALT}/os-volume-transfer/${t.id}`)).status, 404);
    assert.equal((await fx.call('demo', 'DELETE', `${P}/os-volume-transfer/${t.id}`)).status, 202);
    await fx.waitStatus(v.id, 'available');
    assert.equal((await fx.call('demo', 'GET', `${P}/volume-transfers`)).status, 404, 'volume-transfers from 3.55');
    const h = { 'openstack-api-version': 'volume 3.57' };
    const t2 = await fx.call('demo', 'POST', `${P}/volume-transfers`, { transfer: { volume_id: v.id, no_snapshots: true } }, h);
    assert.equal(t2.status, 202, JSON.stringify(t2.body));
    assert.equal(t2.body.transfer.no_snapshots, true);
    assert.equal(t2.body.transfer.source_project_id, 'p-demo');
    assert.equal(t2.body.transfer.accepted, false);
    const detail = await fx.call('demo', 'GET', `${P}/volume-transfers/detail`, undefined, h);
    assert.equal(detail.body.transfers[0].destination_project_id, null);
    const old = await fx.call('demo', 'POST', `${P}/os-volume-transfer`, { transfer: { volume_id: v.id, no_snapshots: true } });
    assert.equal(old.status, 400, 'no_snapshots needs 3.55');
    assert.equal((await fx.call('reader', 'DELETE', `${P}/volume-transfers/${t2.body.transfer.id}`, undefined, h)).status, 403);
  });

  test('accepting beyond the quota of the receiving project is 413 and changes nothing', async () => {
    const v = await volume(3);
    const t = (await fx.call('demo', 'POST', `${P}/os-volume-transfer`, { transfer: { volume_id: v.id } })).body.transfer;
    const q = await fx.call('admin', 'PUT', '/v3/p-admin/os-quota-sets/p-alt', { quota_set: { gigabytes: (await usage('gb', 'p-alt')) + 1 } });
    assert.equal(q.status, 200);
    const r = await fx.call('alt', 'POST', `${ALT}/os-volume-transfer/${t.id}/accept`, { accept: { auth_key: t.auth_key } });
    assert.equal(r.status, 413);
    assert.equal((await fx.call('demo', 'GET', `${P}/volumes/${v.id}`)).body.volume.status, 'awaiting-transfer');
    await fx.call('admin', 'PUT', '/v3/p-admin/os-quota-sets/p-alt', { quota_set: { gigabytes: 1000 } });
  });
});
