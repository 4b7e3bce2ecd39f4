import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IMAGE_ID, placeOnHost, startKit, type Kit } from './server-test-kit.js';

describe('server actions, metadata, tags, instance actions (router level)', () => {
  let k: Kit;
  const boot = async (name = 'vm') => {
    const r = await k.call(k.demo, 'POST', '/v2.1/servers', { server: { name, imageRef: IMAGE_ID, flavorRef: '1' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await placeOnHost(k.sql, r.body.server.id);
    return r.body.server.id as string;
  };
  const act = (id: string, body: unknown, ctx = k.demo, mv = '2.1') => k.call(ctx, 'POST', `/v2.1/servers/${id}/action`, body, mv);
  const row = (id: string) => k.sql.get<any>('SELECT * FROM instances WHERE uuid = ?', [id]);

  before(async () => {
    k = await startKit();
    await k.sql.run("INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('p-demo', 'instances', 100), ('p-demo', 'cores', 100)");
  });
  after(async () => k.close());

  it('stop casts to the host; a second stop while powering off is 409', async () => {
    const id = await boot();
    assert.equal((await act(id, { 'os-stop': null })).status, 202);
    assert.equal((await row(id)).task_state, 'powering-off');
    await k.settle();
    const cast = k.sent.find((s) => s.method === 'stop_instance' && s.args.instance.uuid === id);
    assert.equal(cast?.topic, 'compute.host1');
    const again = await act(id, { 'os-stop': null });
    assert.equal(again.status, 409);
    assert.match(again.body.conflictingRequest.message, new RegExp(`Cannot 'stop' instance ${id} while it is in task_state powering-off`));
    await k.sql.run("UPDATE instances SET vm_state = 'stopped', task_state = NULL WHERE uuid = ?", [id]);
    const stopped = await act(id, { 'os-stop': null });
    assert.equal(stopped.body.conflictingRequest.message, `Cannot 'stop' instance ${id} while it is in vm_state stopped`);
    assert.equal((await act(id, { 'os-start': null })).status, 202);
  });

  it('reboot types, pause/suspend states, unknown actions', async () => {
    const id = await boot();
    assert.equal((await act(id, { reboot: { type: 'BAD' } })).status, 400);
    assert.equal((await act(id, { reboot: { type: 'SOFT' } })).status, 202);
    assert.equal((await row(id)).task_state, 'rebooting');
    assert.equal((await act(id, { reboot: { type: 'HARD' } })).status, 202, 'hard reboot is allowed while soft rebooting');
    assert.equal((await row(id)).task_state, 'rebooting_hard');
    assert.equal((await act(id, { unpause: null })).status, 409);
    assert.equal((await act(id, { explode: null })).status, 400);
  });

  it('readers cannot act (403) and other projects get 404', async () => {
    const id = await boot();
    assert.equal((await act(id, { 'os-stop': null }, k.reader)).status, 403);
    assert.equal((await act(id, { 'os-stop': null }, k.other)).status, 404);
  });

  it('lock blocks the owner but not the admin; only the locker or an admin unlocks', async () => {
    const id = await boot();
    assert.equal((await act(id, { lock: { locked_reason: 'maintenance' } }, k.admin, '2.73')).status, 202);
    const show = await k.call(k.demo, 'GET', `/v2.1/servers/${id}`, undefined, '2.73');
    assert.equal(show.body.server.locked, true);
    assert.equal(show.body.server.locked_reason, 'maintenance');
    const stop = await act(id, { 'os-stop': null });
    assert.equal(stop.status, 409);
    assert.equal(stop.body.conflictingRequest.message, `Instance ${id} is locked`);
    assert.equal((await k.call(k.demo, 'DELETE', `/v2.1/servers/${id}`)).status, 409);
    assert.equal((await act(id, { unlock: null })).status, 403, 'owner cannot lift an admin lock');
    assert.equal((await act(id, { unlock: null }, k.admin)).status, 202);
    assert.equal((await act(id, { 'os-stop': null })).status, 202);
  });

  it('resize records a migration and checks quota; confirm/revert need VERIFY_RESIZE', async () => {
    const id = await boot();
    assert.equal((await act(id, { resize: { flavorRef: '1' } })).body.badRequest.message, 'When resizing, instances must change flavor!');
    assert.equal((await act(id, { confirmResize: null })).status, 409);
    assert.equal((await act(id, { revertResize: null })).status, 409);
    assert.equal((await act(id, { resize: { flavorRef: '2' } })).status, 202);
    const r = await row(id);
    assert.equal(r.task_state, 'resize_prep');
    const m = await k.sql.get<any>('SELECT * FROM migrations WHERE instance_uuid = ?', [id]);
    assert.equal(m.status, 'pre-migrating');
    await k.settle();
    assert.ok(k.sent.find((s) => s.method === 'resize_instance' && s.args.migration_uuid === m.uuid));
    await k.sql.run("UPDATE instances SET vm_state = 'resized', task_state = NULL WHERE uuid = ?", [id]);
    await k.sql.run("UPDATE migrations SET status = 'finished', dest_compute = 'host1' WHERE uuid = ?", [m.uuid]);
    assert.equal((await act(id, { confirmResize: null })).status, 204);
    const id2 = await boot();
    await k.sql.run("INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('p-demo', 'ram', 3000)");
    const over = await act(id2, { resize: { flavorRef: '3' } });
    assert.equal(over.status, 403);
    assert.match(over.body.forbidden.message, /^Quota exceeded for ram: Requested 3584, but already used/);
    await k.sql.run("DELETE FROM quotas WHERE project_id = 'p-demo' AND resource = 'ram'");
  });

  it('rebuild answers the server view with adminPass; createImage creates a queued snapshot', async () => {
    const id = await boot();
    const rb = await act(id, { rebuild: { imageRef: IMAGE_ID, name: 'rebuilt', adminPass: 'pw' } }, k.demo, '2.75');
    assert.equal(rb.status, 202, JSON.stringify(rb.body));
    assert.equal(rb.body.server.name, 'rebuilt');
    assert.equal(rb.body.server.adminPass, 'pw');
    assert.equal(rb.body.server.status, 'REBUILD');
    await k.sql.run('UPDATE instances SET task_state = NULL WHERE uuid = ?', [id]);
    const ci = await act(id, { createImage: { name: 'snap', metadata: { k: 'v' } } }, k.demo, '2.45');
    assert.equal(ci.status, 202);
    const image = k.images.get(ci.body.image_id)!;
    assert.equal(image.status, 'queued');
    assert.equal(image.instance_uuid, id);
    assert.equal(image.image_type, 'snapshot');
    assert.equal(image.base_image_ref, IMAGE_ID);
    assert.match(ci.headers.location, new RegExp(`/images/${ci.body.image_id}$`));
    assert.equal((await row(id)).task_state, 'image_snapshot_pending');
  });

  it('console output, reset state (admin only), forceDelete of a live server is 409', async () => {
    const id = await boot();
    const out = await act(id, { 'os-getConsoleOutput': { length: 2 } });
    assert.equal(out.status, 200);
    assert.equal(typeof out.body.output, 'string');
    assert.equal((await act(id, { 'os-resetState': { state: 'error' } })).status, 403);
    assert.equal((await act(id, { 'os-resetState': { state: 'error' } }, k.admin)).status, 202);
    assert.equal((await row(id)).vm_state, 'error');
    assert.equal((await act(id, { forceDelete: null })).status, 409);
  });

  it('metadata: merge, replace, item get/put/delete, body/URI mismatch, quota', async () => {
    const id = await boot();
    const P = `/v2.1/servers/${id}/metadata`;
    assert.deepEqual((await k.call(k.demo, 'POST', P, { metadata: { a: '1' } })).body, { metadata: { a: '1' } });
    assert.deepEqual((await k.call(k.demo, 'POST', P, { metadata: { b: '2' } })).body, { metadata: { a: '1', b: '2' } });
    assert.deepEqual((await k.call(k.demo, 'PUT', P, { metadata: { c: '3' } })).body, { metadata: { c: '3' } });
    assert.deepEqual((await k.call(k.demo, 'GET', `${P}/c`)).body, { meta: { c: '3' } });
    assert.equal((await k.call(k.demo, 'GET', `${P}/zz`)).status, 404);
    assert.equal((await k.call(k.demo, 'PUT', `${P}/c`, { meta: { d: '4' } })).body.badRequest.message, 'Request body and URI mismatch');
    assert.equal((await k.call(k.demo, 'PUT', `${P}/c`, { meta: { c: '4', d: '5' } })).body.badRequest.message, 'Request body contains too many items');
    assert.equal((await k.call(k.demo, 'PUT', `${P}/c`, { meta: { c: '4' } })).status, 200);
    assert.equal((await k.call(k.demo, 'DELETE', `${P}/c`)).status, 204);
    assert.equal((await k.call(k.demo, 'DELETE', `${P}/c`)).status, 404);
    await k.sql.run("INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('p-demo', 'metadata_items', 2)");
    assert.equal((await k.call(k.demo, 'POST', P, { metadata: { x: '1', y: '2', z: '3' } })).status, 403);
    await k.sql.run("DELETE FROM quotas WHERE project_id = 'p-demo' AND resource = 'metadata_items'");
    await k.sql.run("UPDATE instances SET vm_state = 'building' WHERE uuid = ?", [id]);
    const building = await k.call(k.demo, 'POST', P, { metadata: { a: '1' } });
    assert.equal(building.status, 409);
    assert.match(building.body.conflictingRequest.message, /Cannot 'update metadata' instance .* while it is in vm_state building/);
  });

  it('tags: 2.26 only, limits and rules', async () => {
    const id = await boot();
    const P = `/v2.1/servers/${id}/tags`;
    assert.equal((await k.call(k.demo, 'GET', P, undefined, '2.25')).status, 404);
    assert.deepEqual((await k.call(k.demo, 'PUT', P, { tags: ['b', 'a'] }, '2.26')).body, { tags: ['a', 'b'] });
    assert.equal((await k.call(k.demo, 'PUT', `${P}/c`, undefined, '2.26')).status, 201);
    assert.equal((await k.call(k.demo, 'PUT', `${P}/c`, undefined, '2.26')).status, 204);
    assert.equal((await k.call(k.demo, 'GET', `${P}/c`, undefined, '2.26')).status, 204);
    assert.equal((await k.call(k.demo, 'GET', `${P}/zz`, undefined, '2.26')).status, 404);
    assert.equal((await k.call(k.demo, 'PUT', P, { tags: ['x,y'] }, '2.26')).status, 400);
    assert.equal((await k.call(k.demo, 'PUT', P, { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, '2.26')).status, 400);
    assert.equal((await k.call(k.demo, 'DELETE', `${P}/c`, undefined, '2.26')).status, 204);
    assert.equal((await k.call(k.demo, 'DELETE', P, undefined, '2.26')).status, 204);
    assert.deepEqual((await k.call(k.demo, 'GET', P, undefined, '2.26')).body, { tags: [] });
  });

  it('instance actions list newest first, page from 2.58, events by role and microversion', async () => {
    const id = await boot();
    await act(id, { 'os-stop': null });
    const list = await k.call(k.demo, 'GET', `/v2.1/servers/${id}/os-instance-actions`);
    assert.deepEqual(list.body.instanceActions.map((a: any) => a.action), ['stop', 'create']);
    const page = await k.call(k.demo, 'GET', `/v2.1/servers/${id}/os-instance-actions?limit=1`, undefined, '2.58');
    assert.equal(page.body.instanceActions.length, 1);
    assert.ok(page.body.links[0].href.includes('marker='));
    const reqId = list.body.instanceActions[0].request_id;
    const action = await k.sql.get<{ id: number }>('SELECT id FROM instance_actions WHERE request_id = ?', [reqId]);
    await k.sql.run("INSERT INTO instance_action_events (action_id, event, start_time, finish_time, result, traceback, host) VALUES (?, 'compute_stop_instance', ?, ?, 'Error', 'boom', 'host1')", [
      action!.id, new Date().toISOString(), new Date().toISOString(),
    ]);
    const old = await k.call(k.demo, 'GET', `/v2.1/servers/${id}/os-instance-actions/${reqId}`);
    assert.equal(old.body.instanceAction.events, undefined, 'no events for owners before 2.51');
    const owner = await k.call(k.demo, 'GET', `/v2.1/servers/${id}/os-instance-actions/${reqId}`, undefined, '2.62');
    assert.equal(owner.body.instanceAction.events[0].event, 'compute_stop_instance');
    assert.equal(owner.body.instanceAction.events[0].traceback, undefined);
    assert.equal(owner.body.instanceAction.events[0].hostId.length, 56);
    const admin = await k.call(k.admin, 'GET', `/v2.1/servers/${id}/os-instance-actions/${reqId}`, undefined, '2.62');
    assert.equal(admin.body.instanceAction.events[0].traceback, 'boom');
    assert.equal(admin.body.instanceAction.events[0].host, 'host1');
    assert.equal((await k.call(k.demo, 'GET', `/v2.1/servers/${id}/os-instance-actions/req-none`)).status, 404);
  });
});
