import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startVolFixture, type VolFixture } from './testing.js';

let fx: VolFixture;
before(async () => {
  fx = await startVolFixture();
});
after(() => fx.close());

const P = '/v3/p-demo';
const MV = { 'openstack-api-version': 'volume 3.44' };
const SERVER = '0b0b0b0b-1111-2222-3333-444444444444';
const SERVER2 = '0c0c0c0c-1111-2222-3333-444444444444';

async function volume(body: Record<string, unknown> = {}) {
  const r = await fx.call('demo', 'POST', `${P}/volumes`, { volume: { size: 1, ...body } });
  return fx.waitStatus(r.body.volume.id, 'available');
}

describe('v3 attachments API', () => {
  test('reserve, connect, complete, show, delete: the volume goes reserved -> attaching -> in-use -> available', async () => {
    const v = await volume();
    const c = await fx.call('demo', 'POST', `${P}/attachments`, { attachment: { volume_uuid: v.id, instance_uuid: SERVER } }, MV);
    assert.equal(c.status, 200, JSON.stringify(c.body));
    const a = c.body.attachment;
    assert.equal(a.status, 'reserved');
    assert.equal(a.instance, SERVER);
    assert.equal((await fx.call('demo', 'GET', `${P}/volumes/${v.id}`)).body.volume.status, 'reserved');
    const u = await fx.call('demo', 'PUT', `${P}/attachments/${a.id}`, { attachment: { connector: { host: 'host1', mountpoint: '/dev/vdb' } } }, MV);
    assert.equal(u.status, 200);
    assert.deepEqual(u.body.attachment.connection_info, {
      driver_volume_type: 'file',
      data: { volume_id: v.id, path: `/data/volumes/host1/volume-${v.id}.qcow2`, format: 'qcow2', access_mode: 'rw', shareable: false },
    });
    assert.equal((await fx.call('demo', 'GET', `${P}/volumes/${v.id}`)).body.volume.status, 'attaching');
    assert.equal((await fx.call('demo', 'POST', `${P}/attachments/${a.id}/action`, { 'os-complete': null }, MV)).status, 204);
    const inUse = (await fx.call('demo', 'GET', `${P}/volumes/${v.id}`)).body.volume;
    assert.equal(inUse.status, 'in-use');
    assert.equal(inUse.attachments.length, 1);
    assert.equal(inUse.attachments[0].server_id, SERVER);
    assert.equal(inUse.attachments[0].attachment_id, a.id);
    assert.equal(inUse.attachments[0].device, '/dev/vdb');
    assert.equal(inUse.attachments[0].host_name, 'host1');
    const shown = await fx.call('demo', 'GET', `${P}/attachments/${a.id}`, undefined, MV);
    assert.equal(shown.body.attachment.status, 'attached');
    assert.ok((await fx.call('demo', 'GET', `${P}/attachments?volume_id=${v.id}`, undefined, MV)).body.attachments.some((x: any) => x.id === a.id));
    const del = await fx.call('demo', 'DELETE', `${P}/volumes/${v.id}`);
    assert.equal(del.status, 400);
    assert.match(del.body.badRequest.message, /current status is: in-use/);
    const gone = await fx.call('demo', 'DELETE', `${P}/attachments/${a.id}`, undefined, MV);
    assert.equal(gone.status, 200);
    assert.deepEqual(gone.body.attachments, []);
    const after = (await fx.call('demo', 'GET', `${P}/volumes/${v.id}`)).body.volume;
    assert.equal(after.status, 'available');
    assert.deepEqual(after.attachments, []);
  });

  test('a non-multiattach volume takes one attachment; a second is 400 naming the server', async () => {
    const v = await volume();
    assert.equal((await fx.call('demo', 'POST', `${P}/attachments`, { attachment: { volume_uuid: v.id, instance_uuid: SERVER } }, MV)).status, 200);
    const again = await fx.call('demo', 'POST', `${P}/attachments`, { attachment: { volume_uuid: v.id, instance_uuid: SERVER2 } }, MV);
    assert.equal(again.status, 400);
    assert.match(again.body.badRequest.message, new RegExp(`attached to server ${SERVER}.*not multiattach`));
    // concurrent reservations: exactly one wins
    const w = await volume();
    const both = await Promise.all(
      [SERVER, SERVER2].map((s) => fx.call('demo', 'POST', `${P}/attachments`, { attachment: { volume_uuid: w.id, instance_uuid: s } }, MV)),
    );
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 400]);
  });

  test('a multiattach volume takes several; it stays in-use until the last is deleted', async () => {
    await fx.call('admin', 'POST', '/v3/p-admin/types', { volume_type: { name: 'ma', extra_specs: { multiattach: '<is> True' } } });
    const v = await volume({ volume_type: 'ma' });
    const c = fx.service.client;
    const a1 = await c.createAttachment({ volume_id: v.id, instance_uuid: SERVER });
    const info = await c.updateAttachment({ attachment_id: a1.id, connector: { host: 'host1' } });
    assert.equal(info.data.shareable, true);
    await c.completeAttachment(a1.id);
    const a2 = await c.createAttachment({ volume_id: v.id, instance_uuid: SERVER2 });
    await c.updateAttachment({ attachment_id: a2.id, connector: { host: 'host1' } });
    await c.completeAttachment(a2.id);
    await c.completeAttachment(a2.id); // idempotent
    assert.equal((await c.get(v.id)).status, 'in-use');
    await c.deleteAttachment(a1.id);
    await c.deleteAttachment(a1.id); // idempotent
    assert.equal((await c.get(v.id)).status, 'in-use');
    assert.deepEqual((await c.attachmentsOf(SERVER2)).map((a) => a.id), [a2.id]);
    await c.deleteAttachment(a2.id);
    const after = await c.get(v.id);
    assert.equal(after.status, 'available');
    assert.equal(after.attach_status, 'detached');
  });

  test('detaching and rolling back; readonly volumes attach ro; attachments of other projects are invisible', async () => {
    const v = await volume();
    await fx.call('demo', 'POST', `${P}/volumes/${v.id}/action`, { 'os-update_readonly_flag': { readonly: true } });
    const c = fx.service.client;
    const a = await c.createAttachment({ volume_id: v.id, instance_uuid: SERVER });
    assert.equal(a.attach_mode, 'ro');
    assert.equal((await c.updateAttachment({ attachment_id: a.id, connector: { host: 'host1' } })).data.access_mode, 'ro');
    await assert.rejects(c.beginDetaching(v.id), /must be in-use to detach/);
    await c.completeAttachment(a.id);
    await c.beginDetaching(v.id);
    await c.beginDetaching(v.id);
    assert.equal((await c.get(v.id)).status, 'detaching');
    await c.rollDetaching(v.id);
    assert.equal((await c.get(v.id)).status, 'in-use');
    assert.equal((await fx.call('alt', 'GET', `/v3/p-alt/attachments/${a.id}`, undefined, MV)).status, 400);
    assert.ok(!(await fx.call('alt', 'GET', '/v3/p-alt/attachments', undefined, MV)).body.attachments.some((x: any) => x.id === a.id));
  });

  test('bad attachment bodies are 400; complete needs 3.44, and (as in Cinder, which Nova relies on for shelved-offloaded servers) no connector', async () => {
    const v = await volume();
    assert.equal((await fx.call('demo', 'POST', `${P}/attachments`, { attachment: { volume_uuid: v.id } }, MV)).status, 400);
    assert.equal((await fx.call('demo', 'POST', `${P}/attachments`, { attachment: { volume_uuid: 'nope', instance_uuid: SERVER } }, MV)).status, 400);
    const a = (await fx.call('demo', 'POST', `${P}/attachments`, { attachment: { volume_uuid: v.id, instance_uuid: SERVER } }, MV)).body.attachment;
    assert.equal((await fx.call('demo', 'POST', `${P}/attachments/${a.id}/action`, { 'os-complete': null }, { 'openstack-api-version': 'volume 3.30' })).status, 404);
    const early = await fx.call('demo', 'POST', `${P}/attachments/${a.id}/action`, { 'os-complete': null }, MV);
    assert.equal(early.status, 204);
    assert.equal((await fx.call('demo', 'GET', `${P}/volumes/${v.id}`, undefined, MV)).body.volume.status, 'in-use');
    assert.equal((await fx.call('demo', 'PUT', `${P}/attachments/${a.id}`, { attachment: { connector: {} } }, MV)).status, 400);
  });
});
