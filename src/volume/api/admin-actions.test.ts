/** Admin actions on volumes and snapshots (force delete, force detach, reset status) and snapshot metadata. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startVolFixture, type VolFixture } from '../testing.js';

let fx: VolFixture;
before(async () => {
  fx = await startVolFixture();
});
after(() => fx.close());

const P = '/v3/p-demo';
async function volume() {
  const r = await fx.call('demo', 'POST', `${P}/volumes`, { volume: { size: 1 } });
  assert.equal(r.status, 202);
  return fx.waitStatus(r.body.volume.id, 'available');
}
const volAction = (user: string, id: string, body: unknown) => fx.call(user, 'POST', `${user === 'admin' ? '/v3/p-admin' : P}/volumes/${id}/action`, body);
const snapStatus = async (id: string) => (await fx.call('admin', 'GET', `/v3/p-admin/snapshots/${id}`)).body?.snapshot?.status;

describe('volume admin actions', () => {
  test('os-force_delete deletes in any status, attached too; users may not', async () => {
    for (const status of ['creating', 'attaching', 'error', 'maintenance']) {
      const v = await volume();
      assert.equal((await volAction('admin', v.id, { 'os-reset_status': { status } })).status, 202);
      assert.equal((await fx.call('demo', 'DELETE', `${P}/volumes/${v.id}`)).status, status === 'error' ? 202 : 400);
      if (status === 'error') {
        await fx.waitStatus(v.id, 'deleted');
        continue;
      }
      assert.equal((await volAction('demo', v.id, { 'os-force_delete': {} })).status, 403);
      assert.equal((await volAction('admin', v.id, { 'os-force_delete': {} })).status, 202);
      assert.equal(await fx.waitStatus(v.id, 'deleted'), null, status);
    }
    const attached = await volume();
    await volAction('demo', attached.id, { 'os-attach': { instance_uuid: '0b0b0b0b-1111-2222-3333-444444444444', mountpoint: '/dev/vdb' } });
    await fx.waitStatus(attached.id, 'in-use');
    assert.equal((await volAction('admin', attached.id, { 'os-force_delete': {} })).status, 202);
    await fx.waitStatus(attached.id, 'deleted');
    const left = await fx.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM volume_attachments WHERE volume_id = ? AND deleted = 0', [attached.id]);
    assert.equal(Number(left?.n), 0, 'its attachment ended');
  });

  test('os-force_detach ends the attachment of a volume in error: available again, no attachments', async () => {
    const v = await volume();
    await volAction('demo', v.id, { 'os-attach': { instance_uuid: '0b0b0b0b-1111-2222-3333-444444444444', mountpoint: '/dev/vdb' } });
    const inUse = await fx.waitStatus(v.id, 'in-use');
    await volAction('admin', v.id, { 'os-reset_status': { status: 'error' } });
    assert.equal((await volAction('demo', v.id, { 'os-force_detach': { attachment_id: inUse.attachments[0].attachment_id } })).status, 403);
    const wrong = await volAction('admin', v.id, { 'os-force_detach': { attachment_id: '99999999-9999-9999-9999-999999999999', connector: null } });
    assert.equal(wrong.status, 400);
    const r = await volAction('admin', v.id, { 'os-force_detach': { attachment_id: inUse.attachments[0].attachment_id, connector: null } });
    assert.equal(r.status, 202);
    const after = await fx.waitStatus(v.id, 'available');
    assert.deepEqual(after.attachments, []);
  });
});

describe('snapshot admin actions and metadata', () => {
  test('os-reset_status (admin) and os-force_delete in creating, deleting, error, error_deleting', async () => {
    const v = await volume();
    for (const status of ['creating', 'deleting', 'error', 'error_deleting']) {
      const s = (await fx.call('demo', 'POST', `${P}/snapshots`, { snapshot: { volume_id: v.id } })).body.snapshot;
      const act = (user: string, body: unknown) => fx.call(user, 'POST', `${user === 'admin' ? '/v3/p-admin' : P}/snapshots/${s.id}/action`, body);
      assert.equal((await act('demo', { 'os-reset_status': { status } })).status, 403);
      assert.equal((await act('admin', { 'os-reset_status': { status: 'melting' } })).status, 400);
      assert.equal((await act('admin', { 'os-reset_status': { status } })).status, 202);
      assert.equal(await snapStatus(s.id), status);
      assert.equal((await act('demo', { 'os-force_delete': {} })).status, 403);
      assert.equal((await act('admin', { 'os-force_delete': {} })).status, 202);
      for (let i = 0; i < 100 && (await snapStatus(s.id)) !== undefined; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal((await fx.call('demo', 'GET', `${P}/snapshots/${s.id}`)).status, 404, status);
    }
    assert.equal((await fx.call('admin', 'POST', `/v3/p-admin/snapshots/${v.id}/action`, { 'os-reset_status': { status: 'error' } })).status, 404);
  });

  test('snapshot metadata: create, show item, update item, replace, delete item', async () => {
    const v = await volume();
    const s = (await fx.call('demo', 'POST', `${P}/snapshots`, { snapshot: { volume_id: v.id, metadata: { a: '1' } } })).body.snapshot;
    const M = `${P}/snapshots/${s.id}/metadata`;
    assert.deepEqual((await fx.call('demo', 'POST', M, { metadata: { b: '2' } })).body.metadata, { a: '1', b: '2' });
    assert.deepEqual((await fx.call('demo', 'GET', `${M}/b`)).body.meta, { b: '2' });
    assert.deepEqual((await fx.call('demo', 'PUT', `${M}/b`, { meta: { b: '3' } })).body.meta, { b: '3' });
    assert.deepEqual((await fx.call('demo', 'GET', `${P}/snapshots/${s.id}`)).body.snapshot.metadata, { a: '1', b: '3' });
    assert.deepEqual((await fx.call('demo', 'PUT', M, { metadata: { c: '4' } })).body.metadata, { c: '4' });
    assert.equal((await fx.call('demo', 'DELETE', `${M}/c`)).status, 200);
    assert.deepEqual((await fx.call('demo', 'GET', M)).body.metadata, {});
    assert.equal((await fx.call('demo', 'GET', `${M}/c`)).status, 404);
    assert.equal((await fx.call('alt', 'GET', `/v3/p-alt/snapshots/${s.id}/metadata`)).status, 404);
    assert.equal((await fx.call('reader', 'POST', M, { metadata: { x: 'y' } })).status, 403);
  });
});
