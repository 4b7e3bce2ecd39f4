import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { getInstance, startAction, updateInstance } from '../db/instances.js';
import { instancePayload } from '../conductor/payload.js';
import { rig, settled, lastFault, actionEvents, eventsSettled, type Rig } from '../conductor/test-rig.js';
import type { BdmRow } from '../objects/bdm.js';

const bdmRows = (r: Rig, uuid: string) =>
  r.sql.all<BdmRow>('SELECT * FROM block_device_mappings WHERE instance_uuid = ? AND deleted = 0 ORDER BY id', [uuid]);

async function booted(over = {}, bdms?: Partial<BdmRow>[]) {
  const r = await rig({ host1: 8192 }, over);
  const uuid = await r.boot(undefined, { bdms });
  const row = await r.waitState(uuid, settled, 'build settled');
  return { r, uuid, row, driver: r.hosts.get('host1')!.driver };
}

/** What the API does for os-volume_attachments POST: reserve, record the BDM, call the host. */
async function attach(r: Rig, uuid: string, volumeId: string, device = '/dev/vdb') {
  const att = await r.volumes.createAttachment({ volume_id: volumeId, instance_uuid: uuid });
  const bdm = randomUUID();
  await r.sql.run(
    `INSERT INTO block_device_mappings (uuid, instance_uuid, source_type, destination_type, device_name, volume_id, attachment_id, created_at)
     VALUES (?, ?, 'volume', 'volume', ?, ?, ?, ?)`,
    [bdm, uuid, device, volumeId, att.id, new Date().toISOString()],
  );
  const requestId = `req-${randomUUID()}`;
  await startAction(r.sql, { uuid, action: 'attach_volume', requestId, userId: 'u1', projectId: 'p1' });
  const row = await getInstance(r.sql, uuid);
  const call = r.compute.attachVolume(row.host!, {
    instance: await instancePayload(r.sql, row),
    request_id: requestId,
    bdm_uuid: bdm,
    volume_id: volumeId,
    attachment_id: att.id,
    device_name: device,
  });
  return { bdm, attachmentId: att.id, call };
}

/** What the API does for os-volume_attachments DELETE: begin_detaching, call the host. */
async function detach(r: Rig, uuid: string, volumeId: string, bdm: string, attachmentId: string) {
  await r.volumes.beginDetaching(volumeId);
  const requestId = `req-${randomUUID()}`;
  await startAction(r.sql, { uuid, action: 'detach_volume', requestId, userId: 'u1', projectId: 'p1' });
  const row = await getInstance(r.sql, uuid);
  return r.compute.detachVolume(row.host!, { instance: await instancePayload(r.sql, row), request_id: requestId, bdm_uuid: bdm, volume_id: volumeId, attachment_id: attachmentId });
}

/** What the API does for DELETE /servers/{id} on a server with a host. */
async function terminate(r: Rig, uuid: string) {
  const row = await updateInstance(r.sql, uuid, { task_state: 'deleting' });
  const requestId = `req-${randomUUID()}`;
  await startAction(r.sql, { uuid, action: 'delete', requestId, userId: 'u1', projectId: 'p1' });
  await r.compute.terminateInstance(row.host!, { instance: await instancePayload(r.sql, row), request_id: requestId });
  await r.waitState(uuid, (x) => x.deleted !== 0, 'deleted');
}

test('volumes: attach plugs the volume, marks it in-use and keeps it in the payload; detach releases it', async () => {
  const { r, uuid, driver } = await booted();
  try {
    const vol = r.volumes.add();
    const a = await attach(r, uuid, vol.id);
    await a.call;
    assert.equal((await r.volumes.get(vol.id)).status, 'in-use');
    assert.deepEqual(driver.volumesOf(uuid), { [vol.id]: '/dev/vdb' });
    assert.match(await driver.consoleOutput(uuid), new RegExp(`vdb attached \\(volume ${vol.id}\\)`));
    const [bdm] = await bdmRows(r, uuid);
    assert.equal(JSON.parse(bdm.connection_info!).data.volume_id, vol.id);
    // Later payloads (reboot, start, rebuild) carry the volume.
    const payload = await instancePayload(r.sql, await getInstance(r.sql, uuid));
    assert.deepEqual(payload.volumes?.map((v) => [v.volume_id, v.device_name, v.boot_index]), [[vol.id, '/dev/vdb', null]]);

    await detach(r, uuid, vol.id, a.bdm, a.attachmentId);
    assert.equal((await r.volumes.get(vol.id)).status, 'available');
    assert.deepEqual(driver.volumesOf(uuid), {});
    assert.deepEqual(await bdmRows(r, uuid), []);
    assert.equal((await instancePayload(r.sql, await getInstance(r.sql, uuid))).volumes, undefined);
    await eventsSettled(r.sql, uuid);
    const ev = (await actionEvents(r.sql, uuid)).map((e) => `${e.event}:${e.result}`);
    assert.ok(ev.includes('compute_attach_volume:Success') && ev.includes('compute_detach_volume:Success'), ev.join(', '));
  } finally {
    await r.close();
  }
});

test('volumes: a failed attach leaves the volume available, no BDM, a fault and an Error event', async () => {
  const { r, uuid, driver } = await booted({ fake: { failures: { attachVolume: 1 } } });
  try {
    const vol = r.volumes.add();
    const a = await attach(r, uuid, vol.id);
    await assert.rejects(a.call, new RegExp(`Volume ${vol.id} could not be attached to instance ${uuid} at /dev/vdb: Fake driver: attachVolume failed`));
    assert.equal((await r.volumes.get(vol.id)).status, 'available');
    assert.deepEqual(await r.volumes.attachmentsOf(uuid), []);
    assert.deepEqual(await bdmRows(r, uuid), []);
    assert.deepEqual(driver.volumesOf(uuid), {});
    assert.match((await lastFault(r.sql, uuid))!.message, /could not be attached/);
    assert.ok((await actionEvents(r.sql, uuid)).some((e) => e.event === 'compute_attach_volume' && e.result === 'Error'));
    assert.equal((await getInstance(r.sql, uuid)).vm_state, 'active');
  } finally {
    await r.close();
  }
});

test('volumes: a detach the guest does not release rolls back to in-use with a clear error', async () => {
  const { r, uuid, driver } = await booted();
  try {
    const vol = r.volumes.add();
    const a = await attach(r, uuid, vol.id);
    await a.call;
    driver.opts.failures = { detachVolume: 1 };
    await assert.rejects(detach(r, uuid, vol.id, a.bdm, a.attachmentId), new RegExp(`The guest did not release volume ${vol.id} within 30 s; it stays attached`));
    assert.equal((await r.volumes.get(vol.id)).status, 'in-use');
    assert.equal((await bdmRows(r, uuid)).length, 1);
    assert.deepEqual(driver.volumesOf(uuid), { [vol.id]: '/dev/vdb' });
    assert.ok((await actionEvents(r.sql, uuid)).some((e) => e.event === 'compute_detach_volume' && e.result === 'Error'));
  } finally {
    await r.close();
  }
});

test('volumes: boot from an image volume creates, attaches and boots from it; delete_on_termination deletes it', async () => {
  const { r, uuid, row, driver } = await booted({}, [{ source_type: 'image', image_id: 'img-1', volume_size: 1, boot_index: 0, delete_on_termination: 1 }]);
  try {
    assert.equal(row.vm_state, 'active');
    const [bdm] = await bdmRows(r, uuid);
    assert.ok(bdm.volume_id && bdm.attachment_id && bdm.connection_info);
    assert.equal(bdm.device_name, '/dev/vda');
    const vol = await r.volumes.get(bdm.volume_id);
    assert.deepEqual([vol.status, vol.image_id, vol.size], ['in-use', 'img-1', 1]);
    assert.deepEqual(driver.volumesOf(uuid), { [vol.id]: '/dev/vda' });
    await terminate(r, uuid);
    assert.equal(r.volumes.volumes.get(vol.id)!.deleted, 1);
    assert.deepEqual(await bdmRows(r, uuid), []);
  } finally {
    await r.close();
  }
});

test('volumes: without delete_on_termination the boot and data volumes stay, available', async () => {
  const r = await rig({ host1: 8192 });
  try {
    const data = r.volumes.add();
    const uuid = await r.boot(undefined, {
      bdms: [
        { source_type: 'image', image_id: 'img-1', volume_size: 2, boot_index: 0 },
        { source_type: 'volume', volume_id: data.id },
      ],
    });
    await r.waitState(uuid, settled, 'ACTIVE');
    const bdms = await bdmRows(r, uuid);
    assert.deepEqual(bdms.map((b) => b.device_name), ['/dev/vda', '/dev/vdb']);
    assert.deepEqual(r.hosts.get('host1')!.driver.volumesOf(uuid), { [bdms[0].volume_id!]: '/dev/vda', [data.id]: '/dev/vdb' });
    await terminate(r, uuid);
    for (const b of bdms) assert.equal((await r.volumes.get(b.volume_id!)).status, 'available');
  } finally {
    await r.close();
  }
});

test('volumes: a boot volume that cannot be created fails the build at once (no reschedule), with the reason', async () => {
  const r = await rig({ host1: 8192, host2: 8192 });
  try {
    r.volumes.failCreate = 'Image img-1 has no data.';
    const uuid = await r.boot(undefined, { bdms: [{ source_type: 'image', image_id: 'img-1', volume_size: 1, boot_index: 0, delete_on_termination: 1 }] });
    const row = await r.waitState(uuid, settled, 'ERROR');
    assert.equal(row.vm_state, 'error');
    const f = await lastFault(r.sql, uuid);
    assert.match(f!.message, /the only host tried.*Volume for the boot disk could not be created: Image img-1 has no data\./);
    assert.equal(r.volumes.calls.filter((c) => c.startsWith('create ')).length, 1);
    // Deleting the server removes the failed volume (delete_on_termination).
    const [bdm] = await bdmRows(r, uuid);
    await terminate(r, uuid);
    assert.equal(r.volumes.volumes.get(bdm.volume_id!)!.deleted, 1);
  } finally {
    await r.close();
  }
});

test('volumes: a restart completes a plugged attach and undoes an unplugged one; detaching ends attached or detached', async () => {
  const { r, uuid, driver } = await booted();
  try {
    const insertBdm = async (volumeId: string, attachmentId: string, device: string) => {
      const id = randomUUID();
      await r.sql.run(
        `INSERT INTO block_device_mappings (uuid, instance_uuid, source_type, destination_type, device_name, volume_id, attachment_id, created_at)
         VALUES (?, ?, 'volume', 'volume', ?, ?, ?, ?)`,
        [id, uuid, device, volumeId, attachmentId, new Date().toISOString()],
      );
      return id;
    };
    // Interrupted attaches: both connected (attaching); only the first made it into the guest.
    const [plugged, lost] = [r.volumes.add(), r.volumes.add()];
    for (const [v, dev] of [[plugged, '/dev/vdb'], [lost, '/dev/vdc']] as const) {
      const att = await r.volumes.createAttachment({ volume_id: v.id, instance_uuid: uuid });
      await insertBdm(v.id, att.id, dev);
      const ci = await r.volumes.updateAttachment({ attachment_id: att.id, connector: { host: 'host1', instance_uuid: uuid }, mountpoint: dev });
      if (v === plugged) await driver.attachVolume(uuid, { volume_id: v.id, device_name: dev, boot_index: null, connection_info: ci });
    }
    // Interrupted detaches: one already out of the guest, one still in it.
    const [gone, kept] = [r.volumes.add(), r.volumes.add()];
    for (const [v, dev] of [[gone, '/dev/vdd'], [kept, '/dev/vde']] as const) {
      const a = await attach(r, uuid, v.id, dev);
      await a.call;
      await r.volumes.beginDetaching(v.id);
    }
    await driver.detachVolume(uuid, gone.id);

    await r.restartHost('host1');
    const status = async (id: string) => (await r.volumes.get(id)).status;
    assert.deepEqual(
      [await status(plugged.id), await status(lost.id), await status(gone.id), await status(kept.id)],
      ['in-use', 'available', 'available', 'in-use'],
    );
    assert.deepEqual((await bdmRows(r, uuid)).map((b) => b.volume_id).sort(), [plugged.id, kept.id].sort());
    const payload = await instancePayload(r.sql, await getInstance(r.sql, uuid));
    assert.deepEqual(payload.volumes?.map((v) => v.volume_id).sort(), [plugged.id, kept.id].sort());
    assert.deepEqual(Object.keys(driver.volumesOf(uuid)).sort(), [plugged.id, kept.id].sort());
  } finally {
    await r.close();
  }
});

test('volumes: attach on a host without a block storage service fails clearly', async () => {
  const { r, uuid } = await booted();
  try {
    const vol = r.volumes.add();
    const host = r.hosts.get('host1')!;
    (host.svc.manager.vols as unknown as { d: { volumes?: unknown } }).d.volumes = undefined;
    const a = await attach(r, uuid, vol.id);
    await assert.rejects(a.call, /Compute host host1 has no block storage service/);
    assert.deepEqual(await bdmRows(r, uuid), []);
  } finally {
    await r.close();
  }
});
