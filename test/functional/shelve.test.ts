/**
 * Shelve, shelveOffload and unshelve through the Compute API of a whole cloud (fake driver,
 * two hosts): a shelve ends SHELVED_OFFLOADED with a `<name>-shelved` image and the host's
 * resources freed; unshelve brings the server back ACTIVE and deletes the image; a
 * volume-backed server shelves without an image; 2.77 unshelves into a zone; the 409s.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, waitFor, type Client, type TestCloud } from '../helpers/cloud.js';

describe('shelve and unshelve (Compute API, fake driver)', () => {
  let tc: TestCloud;
  let imageId: string;
  let rawImage: string;
  const C = '/compute/v2.1';
  const mvh = (mv: string) => ({ 'openstack-api-version': `compute ${mv}` });
  const server = async (c: Client, id: string) => (await c.get(`${C}/servers/${id}`, mvh('2.79'))).body.server;
  const until = (c: Client, id: string, want: string) =>
    waitFor(async () => {
      const s = await server(c, id);
      return s?.status === want && s['OS-EXT-STS:task_state'] === null ? s : undefined;
    }, `server ${want}`);
  const act = (c: Client, id: string, body: unknown, mv = '2.1') => c.post(`${C}/servers/${id}/action`, body, mvh(mv));
  const boot = async (c: Client, name: string, body: Record<string, unknown> = {}) => {
    const r = await c.post(`${C}/servers`, { server: { name, flavorRef: '1', imageRef: imageId, ...body } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await until(c, r.body.server.id, 'ACTIVE');
    return r.body.server.id as string;
  };
  const imagesNamed = async (name: string) => (await tc.demo.get(`/image/v2/images?name=${encodeURIComponent(name)}`)).body.images as any[];
  const runningVms = async () =>
    ((await tc.admin.get(`${C}/os-hypervisors/detail`)).body.hypervisors as any[]).reduce((n, h) => n + h.running_vms, 0) as number;

  before(async () => {
    tc = await startTestCloud({ fakeHosts: 2 });
    await waitFor(async () => (await tc.admin.get(`${C}/os-hypervisors`)).body.hypervisors?.length === 2, 'two hypervisors');
    imageId = (await tc.demo.get('/image/v2/images')).body.images.find((i: any) => i.status === 'active').id;
    const img = await tc.demo.post('/image/v2/images', { name: 'raw-disk', disk_format: 'raw', container_format: 'bare' });
    rawImage = img.body.id;
    const up = await fetch(`${tc.url}/image/v2/images/${rawImage}/file`, {
      method: 'PUT', headers: { 'x-auth-token': tc.demo.token, 'content-type': 'application/octet-stream' }, body: new Uint8Array(Buffer.alloc(1024 * 1024)),
    });
    assert.equal(up.status, 204);
  });
  after(async () => tc?.close());

  it('shelve: SHELVED_OFFLOADED with a <name>-shelved image and no host; unshelve: ACTIVE, image gone', async () => {
    const id = await boot(tc.demo, 'shelf-1');
    const before = await runningVms();
    const r = await act(tc.demo, id, { shelve: null });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const s = await until(tc.demo, id, 'SHELVED_OFFLOADED');
    assert.equal(s['OS-EXT-STS:vm_state'], 'shelved_offloaded');
    assert.equal(s['OS-EXT-STS:power_state'], 0);
    assert.equal(s.image.id, imageId, 'the view keeps the original image');
    const admin = (await tc.admin.get(`${C}/servers/${id}`)).body.server;
    assert.equal(admin['OS-EXT-SRV-ATTR:host'], null);
    const imgs = await imagesNamed('shelf-1-shelved');
    assert.equal(imgs.length, 1);
    assert.equal(imgs[0].status, 'active');
    assert.equal(imgs[0].instance_uuid, id);
    await waitFor(async () => (await runningVms()) === before - 1, 'the host frees the shelved server');

    const actions = (await tc.demo.get(`${C}/servers/${id}/os-instance-actions`)).body.instanceActions.map((a: any) => a.action);
    assert.ok(actions.includes('shelve'), JSON.stringify(actions));

    assert.equal((await act(tc.demo, id, { unshelve: null })).status, 202);
    const back = await until(tc.demo, id, 'ACTIVE');
    assert.equal(back['OS-EXT-STS:power_state'], 1);
    assert.equal(back.image.id, imageId);
    assert.ok((await tc.admin.get(`${C}/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host']);
    await waitFor(async () => (await imagesNamed('shelf-1-shelved')).length === 0, 'shelved image deleted');
    await waitFor(async () => (await runningVms()) === before, 'the server counts on a host again');
    const events = (await tc.demo.get(`${C}/servers/${id}/os-instance-actions`)).body.instanceActions.map((a: any) => a.action);
    assert.ok(events.includes('unshelve'));
    await tc.demo.delete(`${C}/servers/${id}`);
  });

  it('a volume-backed server shelves without an image and comes back with its volume', async () => {
    const id = await boot(tc.demo, 'shelf-bfv', {
      imageRef: '',
      block_device_mapping_v2: [{ source_type: 'image', destination_type: 'volume', uuid: rawImage, volume_size: 1, boot_index: 0, delete_on_termination: true }],
    });
    assert.equal((await act(tc.demo, id, { shelve: {} })).status, 202);
    await until(tc.demo, id, 'SHELVED_OFFLOADED');
    assert.equal((await imagesNamed('shelf-bfv-shelved')).length, 0);
    const vols = (await tc.demo.get(`${C}/servers/${id}/os-volume_attachments`)).body.volumeAttachments;
    assert.equal(vols.length, 1, 'the volume stays attached');
    assert.equal((await act(tc.demo, id, { unshelve: null })).status, 202);
    await until(tc.demo, id, 'ACTIVE');
    const vol = (await tc.demo.get(`/volume/v3/${tc.demo.projectId}/volumes/${vols[0].volumeId}`)).body.volume;
    assert.equal(vol.status, 'in-use');
    await tc.demo.delete(`${C}/servers/${id}`);
  });

  it('volumes attach to and detach from a SHELVED_OFFLOADED server (in-use, connected by unshelve)', async () => {
    const id = await boot(tc.demo, 'shelf-vols');
    assert.equal((await act(tc.demo, id, { shelve: {} })).status, 202);
    await until(tc.demo, id, 'SHELVED_OFFLOADED');
    const vpath = `/volume/v3/${tc.demo.projectId}/volumes`;
    const mk = async (name: string) => {
      const r = await tc.demo.post(vpath, { volume: { size: 1, name } });
      await waitFor(async () => (await tc.demo.get(`${vpath}/${r.body.volume.id}`)).body.volume.status === 'available', `${name} available`);
      return r.body.volume.id as string;
    };
    const [keep, drop] = [await mk('keep'), await mk('drop')];
    for (const v of [keep, drop]) {
      const r = await tc.demo.post(`${C}/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: v } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal((await tc.demo.get(`${vpath}/${v}`)).body.volume.status, 'in-use');
    }
    assert.equal((await tc.demo.delete(`${C}/servers/${id}/os-volume_attachments/${drop}`)).status, 202);
    assert.equal((await tc.demo.get(`${vpath}/${drop}`)).body.volume.status, 'available');
    assert.equal((await act(tc.demo, id, { unshelve: null })).status, 202);
    await until(tc.demo, id, 'ACTIVE');
    const kept = (await tc.demo.get(`${vpath}/${keep}`)).body.volume;
    assert.equal(kept.status, 'in-use');
    assert.equal(kept.attachments[0].server_id, id);
    const listed = (await tc.demo.get(`${C}/servers/${id}/os-volume_attachments`)).body.volumeAttachments.map((a: any) => a.volumeId);
    assert.deepEqual(listed, [keep]);
    await tc.demo.delete(`${C}/servers/${id}`);
  });

  it('deleting a SHELVED_OFFLOADED server deletes its <name>-shelved image too', async () => {
    const id = await boot(tc.demo, 'shelf-gone');
    assert.equal((await act(tc.demo, id, { shelve: {} })).status, 202);
    await until(tc.demo, id, 'SHELVED_OFFLOADED');
    assert.equal((await imagesNamed('shelf-gone-shelved')).length, 1);
    assert.equal((await tc.demo.delete(`${C}/servers/${id}`)).status, 204);
    await waitFor(async () => (await tc.demo.get(`${C}/servers/${id}`)).status === 404, 'server gone');
    assert.equal((await imagesNamed('shelf-gone-shelved')).length, 0);
  });

  it('shelveOffload of a SHELVED server; 2.77 unshelve into a zone lands on that zone\'s host', async () => {
    const hosts = ((await tc.admin.get(`${C}/os-services?binary=nova-compute`)).body.services as any[]).map((s) => s.host).sort();
    const agg = await tc.admin.post(`${C}/os-aggregates`, { aggregate: { name: 'shelf-az', availability_zone: 'shelf-zone' } });
    assert.equal(agg.status, 200, JSON.stringify(agg.body));
    assert.equal((await tc.admin.post(`${C}/os-aggregates/${agg.body.aggregate.id}/action`, { add_host: { host: hosts[1] } })).status, 200);
    const id = await boot(tc.demo, 'shelf-az');
    assert.equal((await act(tc.demo, id, { shelve: null })).status, 202);
    await until(tc.demo, id, 'SHELVED_OFFLOADED');
    // shelveOffload only from SHELVED.
    assert.equal((await act(tc.demo, id, { shelveOffload: null })).status, 409);
    const bad = await act(tc.demo, id, { unshelve: { availability_zone: 'nowhere' } }, '2.77');
    assert.equal(bad.status, 400);
    assert.match(bad.body.badRequest.message, /availability zone is not available/);
    assert.equal((await act(tc.demo, id, { unshelve: { availability_zone: 'shelf-zone' } }, '2.77')).status, 202);
    const s = await until(tc.demo, id, 'ACTIVE');
    assert.equal(s['OS-EXT-AZ:availability_zone'], 'shelf-zone');
    assert.equal((await tc.admin.get(`${C}/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host'], hosts[1]);
    // 2.91 host: admin only.
    assert.equal((await act(tc.demo, id, { shelve: null })).status, 202);
    await until(tc.demo, id, 'SHELVED_OFFLOADED');
    assert.equal((await act(tc.demo, id, { unshelve: { host: hosts[0] } }, '2.91')).status, 403);
    assert.equal((await act(tc.admin, id, { unshelve: { availability_zone: null, host: hosts[0] } }, '2.91')).status, 202);
    await until(tc.demo, id, 'ACTIVE');
    assert.equal((await tc.admin.get(`${C}/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host'], hosts[0]);
    await tc.demo.delete(`${C}/servers/${id}`);
  });

  it('errors: unshelve ACTIVE, shelve ERROR or locked are 409; unknown body keys 400', async () => {
    const id = await boot(tc.demo, 'shelf-err');
    const un = await act(tc.demo, id, { unshelve: null });
    assert.equal(un.status, 409);
    assert.match(un.body.conflictingRequest.message, /Cannot 'unshelve' instance .* while it is in vm_state active/);
    assert.equal((await act(tc.demo, id, { shelve: { force: true } })).status, 400);
    assert.equal((await act(tc.admin, id, { lock: null })).status, 202);
    const locked = await act(tc.demo, id, { shelve: null });
    assert.equal(locked.status, 409);
    assert.match(locked.body.conflictingRequest.message, /is locked/);
    assert.equal((await act(tc.admin, id, { unlock: null })).status, 202);
    assert.equal((await act(tc.admin, id, { 'os-resetState': { state: 'error' } })).status, 202);
    const err = await act(tc.demo, id, { shelve: null });
    assert.equal(err.status, 409);
    assert.match(err.body.conflictingRequest.message, /while it is in vm_state error/);
    assert.equal((await imagesNamed('shelf-err-shelved')).length, 0, 'no image left behind by a refused shelve');
    await tc.demo.delete(`${C}/servers/${id}`);
  });

  it('a SHELVED_OFFLOADED server that fits nowhere stays SHELVED_OFFLOADED with a fault', async () => {
    const id = await boot(tc.demo, 'shelf-nvh');
    assert.equal((await act(tc.demo, id, { shelve: null })).status, 202);
    await until(tc.demo, id, 'SHELVED_OFFLOADED');
    const hosts = ((await tc.admin.get(`${C}/os-services?binary=nova-compute`, mvh('2.53'))).body.services as any[]);
    for (const h of hosts) assert.equal((await tc.admin.put(`${C}/os-services/${h.id}`, { status: 'disabled' }, mvh('2.53'))).status, 200);
    try {
      assert.equal((await act(tc.demo, id, { unshelve: null })).status, 202);
      await waitFor(async () => {
        const actions = (await tc.demo.get(`${C}/servers/${id}/os-instance-actions`)).body.instanceActions;
        return (await server(tc.demo, id))['OS-EXT-STS:task_state'] === null && actions.some((a: any) => a.action === 'unshelve');
      }, 'unshelve settles');
      const s = await server(tc.demo, id);
      assert.equal(s.status, 'SHELVED_OFFLOADED');
      const ev = (await tc.admin.get(`${C}/servers/${id}/os-instance-actions/${(await tc.demo.get(`${C}/servers/${id}/os-instance-actions`)).body.instanceActions[0].request_id}`, mvh('2.51'))).body.instanceAction.events;
      assert.ok(ev.some((e: any) => e.result === 'Error'), JSON.stringify(ev));
    } finally {
      for (const h of hosts) await tc.admin.put(`${C}/os-services/${h.id}`, { status: 'enabled' }, mvh('2.53'));
    }
    await tc.demo.delete(`${C}/servers/${id}`);
  });
});
