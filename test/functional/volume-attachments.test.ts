/**
 * Volumes seen from the Compute API of a whole cloud (fake driver): attach and detach through
 * os-volume_attachments move the volume through Cinder's statuses and the guest's console shows
 * the disk; boot from volume; the os-volumes proxy's shapes; the errors a user meets.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, waitFor, type Client, type TestCloud } from '../helpers/cloud.js';

describe('volume attachments (Compute API, fake driver)', () => {
  let tc: TestCloud;
  let imageId: string;
  /** A small raw image the volume manager can copy into a volume (the seeded image's file is not a real disk here). */
  let rawImage: string;
  const C = '/compute/v2.1';
  const mvh = (mv: string) => ({ 'openstack-api-version': `compute ${mv}` });
  const message = (r: { body: any }) => (Object.values(r.body ?? {})[0] as any)?.message;
  const vpath = (c: Client) => `/volume/v3/${c.projectId}/volumes`;
  const volume = async (c: Client, id: string) => (await c.get(`${vpath(c)}/${id}`)).body.volume;
  const volumeStatus = (c: Client, id: string, want: string) =>
    waitFor(async () => (await volume(c, id))?.status === want, `volume ${id} ${want}`);
  const newVolume = async (c: Client, name: string, size = 1) => {
    const r = await c.post(vpath(c), { volume: { size, name } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await volumeStatus(c, r.body.volume.id, 'available');
    return r.body.volume.id as string;
  };
  const server = async (c: Client, id: string, mv = '2.1') => (await c.get(`${C}/servers/${id}`, mvh(mv))).body.server;
  const until = (c: Client, id: string, want: string) => waitFor(async () => (await server(c, id))?.status === want, `server ${want}`);
  const boot = async (c: Client, body: Record<string, unknown>) => {
    const r = await c.post(`${C}/servers`, { server: { name: 'vm', flavorRef: '1', imageRef: imageId, ...body } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await until(c, r.body.server.id, 'ACTIVE');
    return r.body.server.id as string;
  };
  const att = (id: string) => `${C}/servers/${id}/os-volume_attachments`;
  const console = async (c: Client, id: string) =>
    (await c.post(`${C}/servers/${id}/action`, { 'os-getConsoleOutput': {} })).body.output as string;

  before(async () => {
    tc = await startTestCloud();
    imageId = (await tc.demo.get('/image/v2/images')).body.images.find((i: any) => i.status === 'active').id;
    const img = await tc.demo.post('/image/v2/images', { name: 'raw-disk', disk_format: 'raw', container_format: 'bare' });
    assert.equal(img.status, 201, JSON.stringify(img.body));
    rawImage = img.body.id;
    const up = await fetch(`${tc.url}/image/v2/images/${rawImage}/file`, {
      method: 'PUT', headers: { 'x-auth-token': tc.demo.token, 'content-type': 'application/octet-stream' }, body: new Uint8Array(Buffer.alloc(1024 * 1024)),
    });
    assert.equal(up.status, 204);
  });
  after(async () => tc?.close());

  it('attach: in-use at /dev/vdb, the guest sees vdb; list, show, update; detach: available again', async () => {
    const id = await boot(tc.demo, {});
    const v = await newVolume(tc.demo, 'data');
    const r = await tc.demo.post(att(id), { volumeAttachment: { volumeId: v } }, mvh('2.79'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.volumeAttachment, { id: v, serverId: id, volumeId: v, device: '/dev/vdb', tag: null, delete_on_termination: false });
    const vol = await volume(tc.demo, v);
    assert.equal(vol.status, 'in-use');
    assert.equal(vol.attachments[0].server_id, id);
    await waitFor(async () => /virtio_blk: vdb attached/.test(await console(tc.demo, id)), 'console shows vdb');

    const list = await tc.demo.get(att(id), mvh('2.89'));
    assert.equal(list.body.volumeAttachments.length, 1);
    const a = list.body.volumeAttachments[0];
    assert.deepEqual(Object.keys(a).sort(), ['attachment_id', 'bdm_uuid', 'delete_on_termination', 'device', 'serverId', 'tag', 'volumeId']);
    assert.equal(a.attachment_id, vol.attachments[0].attachment_id);
    assert.equal((await tc.demo.put(`${att(id)}/${v}`, { volumeAttachment: { volumeId: v, delete_on_termination: true } }, mvh('2.85'))).status, 202);
    assert.equal((await tc.demo.get(`${att(id)}/${v}`, mvh('2.85'))).body.volumeAttachment.delete_on_termination, true);
    assert.deepEqual((await server(tc.demo, id, '2.3'))['os-extended-volumes:volumes_attached'], [{ id: v, delete_on_termination: true }]);

    const del = await tc.demo.delete(`${att(id)}/${v}`);
    assert.equal(del.status, 202, JSON.stringify(del.body));
    await volumeStatus(tc.demo, v, 'available');
    assert.deepEqual((await tc.demo.get(att(id))).body.volumeAttachments, []);
    assert.deepEqual((await server(tc.demo, id))['os-extended-volumes:volumes_attached'], []);
    const actions = (await tc.demo.get(`${C}/servers/${id}/os-instance-actions`)).body.instanceActions.map((x: any) => x.action);
    assert.deepEqual(actions.slice(0, 2), ['detach_volume', 'attach_volume']);
  });

  it('errors: in use elsewhere 400, unknown 404, locked 409, not attached 404', async () => {
    const a = await boot(tc.demo, { name: 'a' });
    const b = await boot(tc.demo, { name: 'b' });
    const v = await newVolume(tc.demo, 'one');
    assert.equal((await tc.demo.post(att(a), { volumeAttachment: { volumeId: v } })).status, 200);
    const elsewhere = await tc.demo.post(att(b), { volumeAttachment: { volumeId: v } });
    assert.equal(elsewhere.status, 400);
    assert.match(message(elsewhere), /^Invalid volume: /);
    const unknown = await tc.demo.post(att(b), { volumeAttachment: { volumeId: '00000000-0000-0000-0000-000000000000' } });
    assert.equal(unknown.status, 404);
    assert.equal(message(unknown), 'Volume 00000000-0000-0000-0000-000000000000 could not be found.');
    const deleteInUse = await tc.demo.delete(`${vpath(tc.demo)}/${v}`);
    assert.equal(deleteInUse.status, 400);
    assert.equal((await tc.demo.post(`${C}/servers/${b}/action`, { lock: null })).status, 202);
    const locked = await tc.demo.post(att(b), { volumeAttachment: { volumeId: await newVolume(tc.demo, 'two') } });
    assert.equal(locked.status, 409);
    assert.equal(message(locked), `Instance ${b} is locked`);
    const notAttached = await tc.demo.delete(`${att(a)}/${await newVolume(tc.demo, 'three')}`);
    assert.equal(notAttached.status, 404);
  });

  it('boot from a volume made from the image: image "", root volume at /dev/vda that cannot be detached; delete_on_termination removes it', async () => {
    const r = await tc.demo.post(`${C}/servers`, {
      server: {
        name: 'bfv', flavorRef: '1', imageRef: '',
        block_device_mapping_v2: [{ source_type: 'image', destination_type: 'volume', uuid: rawImage, volume_size: 1, boot_index: 0, delete_on_termination: true }],
      },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.server.id;
    await until(tc.demo, id, 'ACTIVE');
    const s = await server(tc.demo, id);
    assert.equal(s.image, '');
    const [root] = s['os-extended-volumes:volumes_attached'];
    assert.ok(root?.id, 'the boot volume is listed');
    assert.equal((await volume(tc.demo, root.id)).status, 'in-use');
    assert.equal((await tc.demo.get(`${att(id)}/${root.id}`)).body.volumeAttachment.device, '/dev/vda');
    const detach = await tc.demo.delete(`${att(id)}/${root.id}`);
    assert.equal(detach.status, 400);
    assert.equal(message(detach), 'Cannot detach a root device volume');
    assert.equal((await tc.demo.delete(`${C}/servers/${id}`)).status, 204);
    await waitFor(async () => (await tc.demo.get(`${vpath(tc.demo)}/${root.id}`)).status === 404, 'boot volume deleted');
  });

  it('boot from an existing volume keeps it (available) after the server is deleted', async () => {
    const src = await tc.demo.post(vpath(tc.demo), { volume: { size: 1, name: 'bootable', imageRef: rawImage } });
    assert.equal(src.status, 202, JSON.stringify(src.body));
    await volumeStatus(tc.demo, src.body.volume.id, 'available');
    const v = src.body.volume.id;
    const id = await boot(tc.demo, { imageRef: '', block_device_mapping_v2: [{ source_type: 'volume', destination_type: 'volume', uuid: v, boot_index: 0 }] });
    assert.equal((await volume(tc.demo, v)).status, 'in-use');
    assert.equal((await tc.demo.delete(`${C}/servers/${id}`)).status, 204);
    await volumeStatus(tc.demo, v, 'available');
  });

  it('boot from volume validation: 400s that say what is wrong', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ block_device_mapping_v2: [{ source_type: 'image', destination_type: 'volume', uuid: imageId, boot_index: 0 }] }, /non-zero size/],
      [{ block_device_mapping_v2: [] }, /Boot sequence/],
      [{ block_device_mapping_v2: [{ source_type: 'volume', uuid: '00000000-0000-0000-0000-000000000000', boot_index: 0 }] }, /failed to get volume/],
    ];
    for (const [extra, re] of cases) {
      const r = await tc.demo.post(`${C}/servers`, { server: { name: 'bad', flavorRef: '1', imageRef: '', ...extra } });
      assert.equal(r.status, 400, JSON.stringify(extra));
      assert.match(message(r), re);
    }
  });

  it('os-volumes proxy: Nova shapes up to 2.35, 404 from 2.36', async () => {
    const r = await tc.demo.post(`${C}/os-volumes`, { volume: { size: 1, display_name: 'proxied', display_description: 'via nova' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const v = r.body.volume;
    assert.deepEqual(Object.keys(v).sort(), ['attachments', 'availabilityZone', 'createdAt', 'displayDescription', 'displayName', 'id', 'metadata', 'size', 'snapshotId', 'status', 'volumeType']);
    assert.equal(v.displayName, 'proxied');
    await volumeStatus(tc.demo, v.id, 'available');
    const shown = (await tc.demo.get(`${C}/os-volumes/${v.id}`)).body.volume;
    assert.deepEqual(shown.attachments, [{}]);
    assert.ok((await tc.demo.get(`${C}/os-volumes/detail`)).body.volumes.some((x: any) => x.id === v.id));
    assert.equal((await tc.demo.get(`${C}/os-volumes`, mvh('2.36'))).status, 404);
    const alt = await tc.admin.get(`${C}/os-volumes/${v.id}`);
    assert.equal(alt.status, 200, 'admins see every project');
    assert.equal((await tc.demo.delete(`${C}/os-volumes/${v.id}`)).status, 202);
    assert.equal((await tc.demo.get(`${C}/os-snapshots`)).status, 200);
    // An empty id (`os-volumes/`) is a show of nothing, as in Nova: 404, not the list.
    assert.equal((await tc.demo.get(`${C}/os-volumes/`)).status, 404);
    assert.equal((await tc.demo.get(`${C}/os-snapshots/`)).status, 404);
  });
});
