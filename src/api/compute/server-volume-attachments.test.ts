import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IMAGE_ID, placeOnHost, startKit, type Kit } from './server-test-kit.js';
import { mountServerVolumeAttachments } from './server-volume-attachments.js';
import { MemoryVolumeClient } from '../../volume/memory-client.js';

describe('os-volume_attachments, boot from volume and volumes_attached (router level, in-memory volumes, recording host)', () => {
  let k: Kit;
  let vols: MemoryVolumeClient;
  const message = (r: { body: any }) => (Object.values(r.body ?? {})[0] as any)?.message;
  const P = (id: string) => `/v2.1/servers/${id}/os-volume_attachments`;
  const boot = async (server: Record<string, unknown> = {}, mv = '2.1') => {
    const r = await k.call(k.demo, 'POST', '/v2.1/servers', { server: { name: 'vm', imageRef: IMAGE_ID, flavorRef: '1', ...server } }, mv);
    return r;
  };
  const active = async () => {
    const r = await boot();
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await placeOnHost(k.sql, r.body.server.id);
    return r.body.server.id as string;
  };
  const vol = (over: Record<string, unknown> = {}) => vols.add({ project_id: 'p-demo', ...over });

  before(async () => {
    k = await startKit({ mounts: [mountServerVolumeAttachments] });
    await k.sql.run("INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('p-demo', 'instances', 100), ('p-demo', 'cores', 100), ('p-demo', 'ram', 1000000)");
    vols = new MemoryVolumeClient();
    // What the compute host does (ComputeRpcApi 1.3): connect, plug, complete; detach: unplug, delete attachment and BDM.
    k.replies.set('attach_volume', async (a) => {
      if (a.volume_id === failing) {
        await vols.deleteAttachment(a.attachment_id);
        throw new Error('the guest refused the disk');
      }
      await vols.updateAttachment({ attachment_id: a.attachment_id, connector: { host: 'host1' }, mountpoint: a.device_name });
      await vols.completeAttachment(a.attachment_id);
    });
    k.replies.set('detach_volume', async (a) => {
      await vols.deleteAttachment(a.attachment_id);
      await k.sql.run('UPDATE block_device_mappings SET deleted = id WHERE uuid = ?', [a.bdm_uuid]);
    });
  });
  after(async () => k.close());
  let failing = '';

  it('without a volume service the API says so (400)', async () => {
    const id = await active();
    const r = await k.call(k.demo, 'POST', P(id), { volumeAttachment: { volumeId: vol().id } });
    assert.equal(r.status, 400);
    assert.match(message(r), /Volumes are not available/);
    k.deps.volumes = vols;
  });

  it('attach: volume in-use, device /dev/vdb then /dev/vdc; list, show; host called with the attachment; action recorded', async () => {
    const id = await active();
    const v1 = vol();
    const r = await k.call(k.demo, 'POST', P(id), { volumeAttachment: { volumeId: v1.id } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.volumeAttachment, { id: v1.id, serverId: id, volumeId: v1.id, device: '/dev/vdb' });
    assert.equal(vols.volumes.get(v1.id)!.status, 'in-use');
    const call = k.sent.find((s) => s.method === 'attach_volume' && s.args.volume_id === v1.id)!;
    assert.equal(call.topic, 'compute.host1');
    assert.equal(call.args.device_name, '/dev/vdb');
    assert.equal(call.args.attachment_id, vols.attachmentsOfVolume(v1.id)[0].id);
    const v2 = vol();
    const r2 = await k.call(k.demo, 'POST', P(id), { volumeAttachment: { volumeId: v2.id, tag: 'data', delete_on_termination: true } }, '2.79');
    assert.equal(r2.status, 200, JSON.stringify(r2.body));
    assert.deepEqual(r2.body.volumeAttachment, { id: v2.id, serverId: id, volumeId: v2.id, device: '/dev/vdc', tag: 'data', delete_on_termination: true });

    const list = await k.call(k.demo, 'GET', P(id));
    assert.deepEqual(list.body.volumeAttachments.map((a: any) => [a.volumeId, a.device]), [[v1.id, '/dev/vdb'], [v2.id, '/dev/vdc']]);
    assert.deepEqual(Object.keys(list.body.volumeAttachments[0]).sort(), ['device', 'id', 'serverId', 'volumeId']);
    const paged = await k.call(k.demo, 'GET', `${P(id)}?limit=1&offset=1`);
    assert.deepEqual(paged.body.volumeAttachments.map((a: any) => a.volumeId), [v2.id]);
    const show89 = await k.call(k.demo, 'GET', `${P(id)}/${v2.id}`, undefined, '2.89');
    assert.equal(show89.status, 200);
    const s = show89.body.volumeAttachment;
    assert.equal(s.id, undefined);
    assert.equal(s.tag, 'data');
    assert.equal(s.delete_on_termination, true);
    assert.equal(s.attachment_id, vols.attachmentsOfVolume(v2.id)[0].id);
    assert.match(s.bdm_uuid, /^[0-9a-f-]{36}$/);

    const server = await k.call(k.demo, 'GET', `/v2.1/servers/${id}`, undefined, '2.3');
    assert.deepEqual(server.body.server['os-extended-volumes:volumes_attached'], [
      { id: v1.id, delete_on_termination: false }, { id: v2.id, delete_on_termination: true },
    ]);
    const detail = await k.call(k.demo, 'GET', '/v2.1/servers/detail');
    const mine = detail.body.servers.find((x: any) => x.id === id);
    assert.deepEqual(mine['os-extended-volumes:volumes_attached'], [{ id: v1.id }, { id: v2.id }]);
    const actions = await k.call(k.demo, 'GET', `/v2.1/servers/${id}/os-instance-actions`);
    assert.equal(actions.body.instanceActions.filter((a: any) => a.action === 'attach_volume').length, 2);
  });

  it('a requested device is honoured when free (sdX becomes vdX), else 409; a bad path is 400', async () => {
    const id = await active();
    const r = await k.call(k.demo, 'POST', P(id), { volumeAttachment: { volumeId: vol().id, device: '/dev/sdd' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.volumeAttachment.device, '/dev/vdd');
    const again = await k.call(k.demo, 'POST', P(id), { volumeAttachment: { volumeId: vol().id, device: '/dev/vdd' } });
    assert.equal(again.status, 409);
    assert.equal(message(again), 'The supplied device path (/dev/vdd) is in use.');
    const root = await k.call(k.demo, 'POST', P(id), { volumeAttachment: { volumeId: vol().id, device: '/dev/vda' } });
    assert.equal(root.status, 409);
    const bad = await k.call(k.demo, 'POST', P(id), { volumeAttachment: { volumeId: vol().id, device: 'floppy' } });
    assert.equal(bad.status, 400);
  });

  it('errors: unknown or foreign volume 404, attached elsewhere 400, twice 400, locked 409, wrong state 409, no host 409, tag before 2.49 400', async () => {
    const id = await active();
    const other = await active();
    const unknown = await k.call(k.demo, 'POST', P(id), { volumeAttachment: { volumeId: '00000000-0000-0000-0000-000000000000' } });
    assert.equal(unknown.status, 404);
    assert.equal(message(unknown), 'Volume 00000000-0000-0000-0000-000000000000 could not be found.');
    const foreign = vols.add({ project_id: 'p-other' });
    assert.equal((await k.call(k.demo, 'POST', P(id), { volumeAttachment: { volumeId: foreign.id } })).status, 404);
    const v = vol();
    assert.equal((await k.call(k.demo, 'POST', P(other), { volumeAttachment: { volumeId: v.id } })).status, 200);
    const elsewhere = await k.call(k.demo, 'POST', P(id), { volumeAttachment: { volumeId: v.id } });
    assert.equal(elsewhere.status, 400);
    assert.match(message(elsewhere), /^Invalid volume: /);
    const twice = await k.call(k.demo, 'POST', P(other), { volumeAttachment: { volumeId: v.id } });
    assert.equal(twice.status, 400);
    assert.equal(message(twice), `Invalid volume: volume ${v.id} already attached`);
    assert.equal((await k.call(k.demo, 'POST', P(id), { volumeAttachment: { volumeId: vol().id, tag: 'x' } })).status, 400);

    await k.sql.run("UPDATE instances SET locked = 1 WHERE uuid = ?", [id]);
    const locked = await k.call(k.demo, 'POST', P(id), { volumeAttachment: { volumeId: vol().id } });
    assert.equal(locked.status, 409);
    assert.equal(message(locked), `Instance ${id} is locked`);
    await k.sql.run("UPDATE instances SET locked = 0, task_state = 'rebooting' WHERE uuid = ?", [id]);
    const busy = await k.call(k.demo, 'POST', P(id), { volumeAttachment: { volumeId: vol().id } });
    assert.equal(busy.status, 409);
    assert.equal(message(busy), `Cannot 'attach_volume' instance ${id} while it is in task_state rebooting`);
    const building = (await boot()).body.server.id;
    const noHost = await k.call(k.demo, 'POST', P(building), { volumeAttachment: { volumeId: vol().id } });
    assert.equal(noHost.status, 409);
  });

  it('a failed attach on the host leaves no mapping and the volume available', async () => {
    const id = await active();
    const v = vol();
    failing = v.id;
    const r = await k.call(k.demo, 'POST', P(id), { volumeAttachment: { volumeId: v.id } }).catch((e) => ({ status: 500, body: String(e) }));
    assert.notEqual(r.status, 200);
    failing = '';
    assert.equal(vols.volumes.get(v.id)!.status, 'available');
    assert.deepEqual((await k.call(k.demo, 'GET', P(id))).body.volumeAttachments, []);
  });

  it('update delete_on_termination at 2.85 (other fields immutable), swap 400/403; detach 202 -> available; not attached 404', async () => {
    const id = await active();
    const v = vol();
    await k.call(k.demo, 'POST', P(id), { volumeAttachment: { volumeId: v.id } });
    const put = await k.call(k.demo, 'PUT', `${P(id)}/${v.id}`, { volumeAttachment: { volumeId: v.id, delete_on_termination: true } }, '2.85');
    assert.equal(put.status, 202, JSON.stringify(put.body));
    assert.equal((await k.call(k.demo, 'GET', `${P(id)}/${v.id}`, undefined, '2.85')).body.volumeAttachment.delete_on_termination, true);
    const imm = await k.call(k.demo, 'PUT', `${P(id)}/${v.id}`, { volumeAttachment: { volumeId: v.id, device: '/dev/vdz' } }, '2.85');
    assert.equal(imm.status, 400);
    assert.equal(message(imm), 'The device property is not mutable');
    const swapUser = await k.call(k.demo, 'PUT', `${P(id)}/${v.id}`, { volumeAttachment: { volumeId: vol().id } }, '2.85');
    assert.equal(swapUser.status, 403);
    const swap = await k.call(k.admin, 'PUT', `${P(id)}/${v.id}`, { volumeAttachment: { volumeId: vol().id } });
    assert.equal(swap.status, 400);
    assert.match(message(swap), /not available in nova-ts yet/);
    // Nova's swap lookups: a missing attached volume 404, a missing new volume 400, a volume not attached here 404.
    const missing = '99999999-9999-4999-8999-999999999999';
    const oldMissing = await k.call(k.admin, 'PUT', `${P(id)}/${missing}`, { volumeAttachment: { volumeId: v.id } });
    assert.equal(oldMissing.status, 404);
    assert.match(message(oldMissing), /Volume 99999999-9999-4999-8999-999999999999 could not be found/);
    const newMissing = await k.call(k.admin, 'PUT', `${P(id)}/${v.id}`, { volumeAttachment: { volumeId: missing } });
    assert.equal(newMissing.status, 400);
    const other = vol();
    assert.equal((await k.call(k.admin, 'PUT', `${P(id)}/${other.id}`, { volumeAttachment: { volumeId: v.id } })).status, 404);

    const del = await k.call(k.demo, 'DELETE', `${P(id)}/${v.id}`);
    assert.equal(del.status, 202, JSON.stringify(del.body));
    await k.settle();
    assert.equal(vols.volumes.get(v.id)!.status, 'available');
    assert.ok(k.sent.some((s) => s.method === 'detach_volume' && s.args.volume_id === v.id));
    const gone = await k.call(k.demo, 'DELETE', `${P(id)}/${v.id}`);
    assert.equal(gone.status, 404);
    assert.equal(message(gone), `Instance ${id} is not attached to volume ${v.id}`);
    assert.equal((await k.call(k.demo, 'GET', `${P(id)}/${v.id}`)).status, 404);
  });

  it('boot from an existing volume: imageRef "", volume reserved and mapped at /dev/vda; its root cannot be detached; delete releases it', async () => {
    const v = vol({ bootable: 1, volume_image_metadata: JSON.stringify({ image_id: IMAGE_ID, min_ram: '0' }) });
    const r = await boot({ imageRef: '', block_device_mapping_v2: [{ source_type: 'volume', destination_type: 'volume', uuid: v.id, boot_index: 0 }] });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.server.id;
    assert.equal(vols.volumes.get(v.id)!.status, 'reserved');
    const s = (await k.call(k.demo, 'GET', `/v2.1/servers/${id}`)).body.server;
    assert.equal(s.image, '');
    assert.deepEqual(s['os-extended-volumes:volumes_attached'], [{ id: v.id }]);
    const [bdm] = (await k.call(k.demo, 'GET', P(id))).body.volumeAttachments;
    assert.equal(bdm.device, '/dev/vda');
    await placeOnHost(k.sql, id);
    const root = await k.call(k.demo, 'DELETE', `${P(id)}/${v.id}`);
    assert.equal(root.status, 400);
    assert.equal(message(root), 'Cannot detach a root device volume');
    // Never scheduled, deleted in the API: the attachment goes and the volume is available.
    const r2 = await boot({ imageRef: '', block_device_mapping_v2: [{ source_type: 'volume', uuid: vol().id, boot_index: 0, delete_on_termination: true }] });
    assert.equal(r2.status, 202, JSON.stringify(r2.body));
    const v2 = (await k.call(k.demo, 'GET', P(r2.body.server.id))).body.volumeAttachments[0].volumeId;
    assert.equal((await k.call(k.demo, 'DELETE', `/v2.1/servers/${r2.body.server.id}`)).status, 204);
    assert.equal(vols.volumes.get(v2)!.deleted, 1, 'delete_on_termination deletes the volume');
    const r3 = await boot({ imageRef: '', block_device_mapping_v2: [{ source_type: 'volume', uuid: vol().id, boot_index: 0 }] });
    const v3 = (await k.call(k.demo, 'GET', P(r3.body.server.id))).body.volumeAttachments[0].volumeId;
    await k.call(k.demo, 'DELETE', `/v2.1/servers/${r3.body.server.id}`);
    assert.equal(vols.volumes.get(v3)!.status, 'available');
  });

  it('boot from an image to a new volume records the mapping (no volume yet); validation errors are 400s with clear messages', async () => {
    const ok = await boot({ imageRef: '', block_device_mapping_v2: [{ source_type: 'image', destination_type: 'volume', uuid: IMAGE_ID, volume_size: 1, boot_index: 0, delete_on_termination: true }] });
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    const row = await k.sql.get<any>('SELECT * FROM block_device_mappings WHERE instance_uuid = ?', [ok.body.server.id]);
    assert.deepEqual([row.source_type, row.destination_type, row.image_id, row.volume_size, row.boot_index, row.device_name, row.delete_on_termination, row.volume_id],
      ['image', 'volume', IMAGE_ID, 1, 0, '/dev/vda', 1, null]);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ imageRef: '', block_device_mapping_v2: [{ source_type: 'image', destination_type: 'volume', uuid: IMAGE_ID, boot_index: 0 }] }, /need to have a non-zero size/],
      [{ imageRef: '', block_device_mapping_v2: [{ source_type: 'image', destination_type: 'volume', uuid: IMAGE_ID, volume_size: 1, boot_index: 1 }] }, /Boot sequence/],
      [{ imageRef: '' }, /Boot sequence/],
      [{ imageRef: '', block_device_mapping_v2: [{ source_type: 'volume', uuid: '00000000-0000-0000-0000-000000000000', boot_index: 0 }] }, /failed to get volume/],
      [{ imageRef: '', block_device_mapping_v2: [{ source_type: 'volume', uuid: vol({ status: 'in-use' }).id, boot_index: 0 }] }, /must be 'available'/],
      [{ imageRef: '', min_count: 2, block_device_mapping_v2: [{ source_type: 'volume', uuid: vol().id, boot_index: 0 }] }, /multiple instances/],
      [{ imageRef: '', block_device_mapping_v2: [{ source_type: 'blank', destination_type: 'volume', boot_index: 0 }] }, /non-zero size/],
      [{ imageRef: '', block_device_mapping_v2: [{ source_type: 'snapshot', uuid: '00000000-0000-0000-0000-000000000000', boot_index: 0 }] }, /failed to get snapshot/],
    ];
    for (const [server, re] of cases) {
      const r = await boot(server);
      assert.equal(r.status, 400, JSON.stringify(server));
      assert.match(message(r), re);
    }
    k.images.set('aaaaaaaa-2222-3333-4444-555555555555', { id: 'aaaaaaaa-2222-3333-4444-555555555555', name: 'big', status: 'active', min_disk: 5, size: 1024 });
    const small = await boot({ imageRef: '', block_device_mapping_v2: [{ source_type: 'image', destination_type: 'volume', uuid: 'aaaaaaaa-2222-3333-4444-555555555555', volume_size: 1, boot_index: 0 }] });
    assert.equal(small.status, 400);
    assert.match(message(small), /Volume is smaller than the minimum size specified in image metadata/);
  });

  it('a data volume beside an image boot gets /dev/vdb; a failed create releases a reserved volume', async () => {
    const v = vol();
    const r = await boot({ block_device_mapping_v2: [{ source_type: 'volume', destination_type: 'volume', uuid: v.id }] });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.deepEqual((await k.call(k.demo, 'GET', P(r.body.server.id))).body.volumeAttachments.map((a: any) => a.device), ['/dev/vdb']);
    // The server group is checked inside the transaction, after the volume was reserved.
    const v2 = vol();
    const failed = await k.call(k.demo, 'POST', '/v2.1/servers', {
      server: { name: 'vm', imageRef: IMAGE_ID, flavorRef: '1', block_device_mapping_v2: [{ source_type: 'volume', uuid: v2.id }] },
      'os:scheduler_hints': { group: '00000000-0000-0000-0000-00000000000a' },
    });
    assert.ok(failed.status >= 400 && failed.status < 500, JSON.stringify(failed.body));
    assert.equal(vols.volumes.get(v2.id)!.status, 'available');
    assert.ok(vols.calls.some((c) => c.startsWith('createAttachment ' + v2.id)));
  });
});
