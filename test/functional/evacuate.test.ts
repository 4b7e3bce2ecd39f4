/**
 * Host failure seen from the API of a whole cloud with three fake hosts: evacuate (Nova's
 * os-evacuate action) rebuilds the servers of a down host on another host with the same
 * ports, addresses and volumes; the down host's compute removes the evacuated guests; the
 * refusals a user meets; and builds that make no progress end in ERROR (build_timeout).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../../src/config.js';
import { startTestCloud, waitFor, type Client, type TestCloud } from '../helpers/cloud.js';

const C = '/compute/v2.1';
const S = `${C}/servers`;
const mvh = (mv: string) => ({ 'openstack-api-version': `compute ${mv}` });
const message = (r: { body: any }) => (Object.values(r.body ?? {})[0] as any)?.message as string;
const BUILD_TIMEOUT_SEC = 1;

describe('evacuate and stuck builds (3 fake hosts)', () => {
  let t: TestCloud;
  let image: string;

  before(async () => {
    t = await startTestCloud({ fakeHosts: 3, compute: { ...defaultConfig().compute, powerSyncIntervalSec: 1, reportIntervalSec: 1, buildTimeoutSec: BUILD_TIMEOUT_SEC } });
    image = (await t.admin.get('/image/v2/images?name=tiny-linux')).body.images[0].id;
  });
  after(async () => t?.close());

  const server = async (id: string, c: Client = t.admin) => (await c.get(`${S}/${id}`, mvh('2.53'))).body.server;
  const until = (id: string, want: string, ms = 10_000) =>
    waitFor(async () => {
      const s = await server(id);
      return s?.status === want && s['OS-EXT-STS:task_state'] === null ? s : null;
    }, `server ${id} ${want}`, ms);
  const boot = async (name: string, host: string | null, c: Client = t.admin) => {
    const r = await c.post(S, { server: { name, flavorRef: '1', imageRef: image, networks: 'auto', ...(host ? { availability_zone: `nova:${host}` } : {}) } }, mvh('2.53'));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return r.body.server.id as string;
  };
  const evacuate = (id: string, body: Record<string, unknown>, mv = '2.53', c: Client = t.admin) => c.post(`${S}/${id}/action`, { evacuate: body }, mvh(mv));
  const serviceId = async (host: string) =>
    (await t.admin.get(`${C}/os-services?binary=nova-compute&host=${host}`, mvh('2.53'))).body.services[0].id as string;
  const forceDown = async (host: string, down: boolean) => {
    const r = await t.admin.put(`${C}/os-services/${await serviceId(host)}`, { forced_down: down }, mvh('2.53'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };
  const ports = async (id: string) => (await t.admin.get(`/network/v2.0/ports?device_id=${id}`)).body.ports as any[];
  const allocations = (id: string) =>
    t.cloud.sql.all<{ host: string }>('SELECT n.host AS host FROM allocations a JOIN compute_nodes n ON n.uuid = a.node_uuid WHERE a.consumer_uuid = ?', [id]);
  const migration = (id: string) =>
    t.cloud.sql.get<{ status: string; source_compute: string; dest_compute: string | null; migration_type: string }>(
      "SELECT status, source_compute, dest_compute, migration_type FROM migrations WHERE instance_uuid = ? AND migration_type = 'evacuation' ORDER BY id DESC LIMIT 1",
      [id],
    );

  it('evacuates the servers of a down host: ACTIVE (or SHUTOFF) elsewhere, same ports and volumes; the old host removes its guests', async () => {
    const a = await boot('evac-a', 'host1');
    const b = await boot('evac-b', 'host1');
    const mine = await boot('evac-demo', null, t.demo);
    await until(a, 'ACTIVE');
    await until(b, 'ACTIVE');
    await until(mine, 'ACTIVE');
    const vpath = `/volume/v3/${t.admin.projectId}/volumes`;
    const vol = await t.admin.post(vpath, { volume: { size: 1, name: 'evac-data' } });
    assert.equal(vol.status, 202, JSON.stringify(vol.body));
    const volumeId = vol.body.volume.id as string;
    await waitFor(async () => (await t.admin.get(`${vpath}/${volumeId}`)).body.volume.status === 'available', 'volume available');
    const attached = await t.admin.post(`${S}/${a}/os-volume_attachments`, { volumeAttachment: { volumeId } });
    assert.equal(attached.status, 200, JSON.stringify(attached.body));
    assert.equal((await t.admin.post(`${S}/${b}/action`, { 'os-stop': null })).status, 202);
    await until(b, 'SHUTOFF');
    const before = { a: await server(a), b: await server(b), aPorts: await ports(a) };
    assert.equal(before.a['OS-EXT-SRV-ATTR:host'], 'host1');
    assert.equal(before.aPorts.length, 1);
    const host1 = t.cloud.drivers.get('host1')!;
    assert.ok((await host1.listInstances()).includes(a));

    // While host1's compute service is up, Nova refuses: its guests may still run.
    let r = await evacuate(a, {});
    assert.equal(r.status, 400);
    assert.equal(message(r), 'Compute service of host1 is still in use.');
    // Admin only (the owner of a server gets 403; other projects' servers are 404).
    r = await evacuate(mine, {}, '2.53', t.demo);
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal((await evacuate(a, {}, '2.53', t.demo)).status, 404);

    await forceDown('host1', true);
    r = await evacuate(a, { host: 'host1' });
    assert.equal(r.status, 400);
    assert.equal(message(r), "The target host can't be the same one.");
    r = await evacuate(a, { host: 'nosuchhost' });
    assert.equal(r.status, 404);
    assert.equal(message(r), 'Compute host nosuchhost not found.');
    r = await evacuate(a, { force: true });
    assert.equal(r.status, 400);
    assert.equal(message(r), "Can't force to a non-provided destination");
    assert.equal((await evacuate(a, { force: false }, '2.68')).status, 400, 'force is gone at 2.68');
    assert.equal((await evacuate(a, { onSharedStorage: false })).status, 400, 'onSharedStorage is gone at 2.14');
    assert.equal((await evacuate(a, {}, '2.1')).status, 400, 'onSharedStorage is required below 2.14');
    assert.equal((await evacuate(a, { onSharedStorage: true, adminPass: 'x' }, '2.1')).status, 400);

    // 2.14+: 200 without a body; the scheduler picks a host other than host1.
    r = await evacuate(a, {});
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body, undefined);
    // 2.1: the password comes back.
    r = await evacuate(b, { onSharedStorage: 'False', adminPass: 'MySecretPass', host: 'host3' }, '2.1');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { adminPass: 'MySecretPass' });
    // A second evacuate of the same server while the first runs (or after) is refused.
    assert.ok([400, 409].includes((await evacuate(b, {})).status));

    const afterA = await until(a, 'ACTIVE');
    const afterB = await until(b, 'SHUTOFF');
    assert.notEqual(afterA['OS-EXT-SRV-ATTR:host'], 'host1');
    assert.equal(afterB['OS-EXT-SRV-ATTR:host'], 'host3');
    assert.deepEqual(afterA.addresses, before.a.addresses, 'addresses kept');
    assert.deepEqual(afterB.addresses, before.b.addresses);
    const aPorts = await ports(a);
    assert.deepEqual(aPorts.map((p) => p.id), before.aPorts.map((p) => p.id), 'same ports');
    assert.equal(aPorts[0]['binding:host_id'], afterA['OS-EXT-SRV-ATTR:host'], 'the port is bound to the new host');
    const dest = t.cloud.drivers.get(afterA['OS-EXT-SRV-ATTR:host'])!;
    assert.ok((await dest.listInstances()).includes(a));
    assert.equal(await dest.powerState(a), 1);
    assert.equal(await t.cloud.drivers.get('host3')!.powerState(b), 4, 'the stopped server stays powered off');
    if (dest.volumesOf) assert.deepEqual(await dest.volumesOf(a), { [volumeId]: '/dev/vdb' }, 'the volume is plugged on the new host');
    const atts = (await t.admin.get(`${S}/${a}/os-volume_attachments`)).body.volumeAttachments;
    assert.deepEqual(atts.map((x: any) => x.volumeId), [volumeId]);
    const v = (await t.admin.get(`${vpath}/${volumeId}`)).body.volume;
    assert.equal(v.status, 'in-use');
    assert.equal(v.attachments.length, 1);
    assert.equal(v.attachments[0].host_name, afterA['OS-EXT-SRV-ATTR:host'], 'the attachment names the new host');
    assert.deepEqual(await allocations(a), [{ host: afterA['OS-EXT-SRV-ATTR:host'] }], 'resources held on the new host only');
    assert.deepEqual(await allocations(b), [{ host: 'host3' }]);
    const actions = (await t.admin.get(`${S}/${a}/os-instance-actions`)).body.instanceActions.map((x: any) => x.action);
    assert.ok(actions.includes('evacuate'), `actions: ${actions}`);

    // host1's compute (still running, cut off) removes the guests of the evacuated servers and
    // never reports them as its own; the migrations complete.
    await waitFor(async () => {
      const left = await host1.listInstances();
      return !left.includes(a) && !left.includes(b);
    }, 'host1 removes the evacuated guests', 10_000, 100);
    await waitFor(async () => (await migration(a))?.status === 'completed' && (await migration(b))?.status === 'completed', 'migrations completed');
    assert.deepEqual(await migration(b), { status: 'completed', source_compute: 'host1', dest_compute: 'host3', migration_type: 'evacuation' });
    assert.equal((await server(a))['OS-EXT-SRV-ATTR:host'], afterA['OS-EXT-SRV-ATTR:host'], 'the server stays where it went');
    await forceDown('host1', false);
  });

  it('NoValidHost: no other host is up, so the server goes to ERROR with a fault and keeps its resources on its host', async () => {
    const id = await boot('evac-novalid', 'host2');
    await until(id, 'ACTIVE');
    for (const h of ['host1', 'host2', 'host3']) await forceDown(h, true);
    try {
      const r = await evacuate(id, {});
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const s = await until(id, 'ERROR');
      assert.match(s.fault.message, /^Evacuation of instance .* failed: No valid host was found/);
      assert.equal(s['OS-EXT-SRV-ATTR:host'], 'host2');
      assert.deepEqual(await allocations(id), [{ host: 'host2' }]);
      assert.equal((await migration(id))?.status, 'error');
    } finally {
      for (const h of ['host1', 'host2', 'host3']) await forceDown(h, false);
    }
  });

  it('a build that makes no progress for build_timeout goes to ERROR with a fault saying so; its resources are freed', async () => {
    const slow = t.cloud.drivers.get('host2')! as unknown as { opts: { delays: Record<string, number> } };
    slow.opts.delays.spawn = BUILD_TIMEOUT_SEC * 1000 + 1500;
    try {
      const id = await boot('stuck', 'host2');
      await waitFor(async () => (await server(id))?.['OS-EXT-STS:task_state'] === 'spawning', 'spawning');
      const s = await until(id, 'ERROR', (BUILD_TIMEOUT_SEC + 3) * 1000);
      assert.equal(s.fault.message, `Build of instance ${id} timed out after ${BUILD_TIMEOUT_SEC} s (last task state: spawning). Delete the server and create it again.`);
      assert.deepEqual(await allocations(id), []);
      // The user deletes it; the host removes the guest once its spawn ends.
      assert.equal((await t.admin.delete(`${S}/${id}`)).status, 204);
      await waitFor(async () => (await t.admin.get(`${S}/${id}`)).status === 404, 'deleted', 10_000, 100);
    } finally {
      slow.opts.delays.spawn = 0;
    }
  });
});
