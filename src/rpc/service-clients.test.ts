/**
 * The service clients served on the bus by a conductor process and used remotely (as a compute
 * host or network agent without the DB would): a real all-in-one cloud serves them, the remote
 * ones are exercised over its in-process bus, and image data over its Image API.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCloud, type TestCloud } from '../../test/helpers/cloud.js';
import { createVolumeService } from '../volume/service.js';
import { remoteServiceClients, serveServiceClients, type ServiceClients } from './service-clients.js';

let tc: TestCloud;
let remote: ServiceClients;
let dataDir: string;
let stopServing: () => Promise<void>;
/** Requests the remote side made to the cloud's HTTP APIs: "METHOD path". */
const requests: string[] = [];
/** The service tokens the remote side sent. */
const tokensSent = new Set<string>();

const counting: typeof fetch = (input, init) => {
  const u = new URL(String(input));
  requests.push(`${init?.method ?? 'GET'} ${u.pathname}`);
  const t = (init?.headers as Record<string, string> | undefined)?.['x-auth-token'];
  if (t) tokensSent.add(t);
  return fetch(input, init);
};
const logins = () => requests.filter((r) => r === 'POST /identity/v3/auth/tokens').length;

const authOpts = () => ({ authUrl: `${tc.url}/identity/v3`, username: 'nova', password: tc.cloud.secrets.servicePassword, projectName: 'service' });

before(async () => {
  tc = await startTestCloud();
  const c = tc.cloud;
  // The service user, as the all-in-one's bootstrap makes it once it passes servicePassword.
  await c.identity.bootstrap({
    publicUrl: c.url,
    region: c.config.region,
    adminPassword: c.secrets.adminPassword,
    demoPassword: c.secrets.demoPassword,
    servicePassword: c.secrets.servicePassword,
    services: ['identity', 'compute', 'image', 'network', 'placement', 'volume'],
  });
  const volumes = createVolumeService({ sql: c.sql, bus: c.bus, images: c.image.client }).client;
  stopServing = await serveServiceClients(c.bus, { images: c.image.client, network: c.network.client, volumes, agentSource: c.network.agentSource });
  dataDir = mkdtempSync(join(tmpdir(), 'nova-ts-remote-clients-'));
  remote = remoteServiceClients(c.bus, { dataDir, imageApi: { ...authOpts(), fetch: counting } });
});

after(async () => {
  await stopServing?.();
  await tc?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** An image owned by the admin project with data uploaded through the Image API; answers its id and data. */
async function uploadedImage(size = 300_000): Promise<{ id: string; data: Buffer }> {
  const img = await tc.admin.post('/image/v2/images', { name: 'remote-test', disk_format: 'raw', container_format: 'bare', visibility: 'private' });
  assert.equal(img.status, 201);
  const data = randomBytes(size);
  const r = await fetch(`${tc.url}/image/v2/images/${img.body.id}/file`, {
    method: 'PUT',
    headers: { 'x-auth-token': tc.admin.token, 'content-type': 'application/octet-stream' },
    body: data,
  });
  assert.equal(r.status, 204);
  return { id: img.body.id, data };
}

async function bootServer(name: string): Promise<string> {
  const flavor = (await tc.admin.get('/compute/v2.1/flavors')).body.flavors[0].id;
  const image = (await tc.admin.get('/image/v2/images?name=tiny-linux')).body.images[0].id;
  const r = await tc.admin.post('/compute/v2.1/servers', { server: { name, flavorRef: flavor, imageRef: image, networks: 'auto' } }, { 'openstack-api-version': 'compute 2.37' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const id = r.body.server.id;
  for (let i = 0; i < 200; i++) {
    const s = (await tc.admin.get(`/compute/v2.1/servers/${id}`)).body.server;
    if (s.status === 'ACTIVE') return id;
    assert.notEqual(s.status, 'ERROR', JSON.stringify(s.fault));
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`server ${name} did not become ACTIVE`);
}

describe('remote service clients', () => {
  test('network: allocate, network info and deallocate for an instance; the agent source sees the port', async () => {
    const server = await bootServer('remote-net');
    const info = await remote.network.instanceNetworkInfo({ instance_uuid: server });
    assert.equal(info.length, 1);
    assert.equal(info[0].network.label, 'private');
    const state = await remote.agentSource.hostState('host1');
    assert.equal(state.host, 'host1');
    assert.ok(state.ports.some((p) => p.id === info[0].id && p.device_id === server));

    const uuid = randomUUID();
    const vifs = await remote.network.allocateForInstance({
      instance_uuid: uuid,
      project_id: tc.demo.projectId,
      hostname: 'remote-vm',
      host: 'host1',
      requested: 'auto',
      security_groups: [],
    });
    assert.equal(vifs.length, 1);
    const port = await tc.admin.get(`/network/v2.0/ports/${vifs[0].id}`);
    assert.equal(port.body.port.device_id, uuid);
    assert.equal(port.body.port['binding:host_id'], 'host1');
    assert.deepEqual(await remote.network.instanceNetworkInfo({ instance_uuid: uuid }), vifs);
    const moved = await remote.network.rebindPorts({ instance_uuid: uuid, host: 'host2' });
    assert.deepEqual(moved.map((v) => v.id), [vifs[0].id]);
    assert.equal((await tc.admin.get(`/network/v2.0/ports/${vifs[0].id}`)).body.port['binding:host_id'], 'host2');
    assert.equal(await remote.network.deallocateForInstance({ instance_uuid: uuid }), undefined);
    assert.equal((await tc.admin.get(`/network/v2.0/ports/${vifs[0].id}`)).status, 404);
    assert.deepEqual(await remote.network.instanceNetworkInfo({ instance_uuid: uuid }), []);
  });

  test('volumes: create, wait until available, attach, detach and delete', async () => {
    const server = await bootServer('remote-vol');
    const v = await remote.volumes.create({ project_id: tc.admin.projectId, user_id: tc.admin.userId, size: 1, name: 'remote-vol' });
    assert.equal(v.status, 'creating');
    const ready = await remote.volumes.waitAvailable(v.id, 20_000);
    assert.equal(ready.status, 'available');
    // Without a timeout the default wait applies (the call's own timeout is longer than it).
    assert.equal((await remote.volumes.waitAvailable(v.id)).id, v.id);

    const att = await remote.volumes.createAttachment({ volume_id: v.id, instance_uuid: server });
    assert.equal(att.status, 'reserved');
    const conn = await remote.volumes.updateAttachment({ attachment_id: att.id, connector: { host: 'host1', instance_uuid: server } });
    assert.equal(conn.driver_volume_type, 'file');
    assert.equal(conn.data.volume_id, v.id);
    await remote.volumes.completeAttachment(att.id);
    assert.equal((await remote.volumes.get(v.id)).status, 'in-use');
    assert.deepEqual((await remote.volumes.attachmentsOf(server)).map((a) => a.id), [att.id]);
    await assert.rejects(remote.volumes.createAttachment({ volume_id: v.id, instance_uuid: server }), { kind: 'Conflict' });

    await remote.volumes.beginDetaching(v.id);
    assert.equal((await remote.volumes.get(v.id)).status, 'detaching');
    await remote.volumes.rollDetaching(v.id);
    assert.equal((await remote.volumes.get(v.id)).status, 'in-use');
    await remote.volumes.beginDetaching(v.id);
    await remote.volumes.deleteAttachment(att.id);
    assert.equal((await remote.volumes.get(v.id)).status, 'available');
    await remote.volumes.delete(v.id);
    // The volume manager removes it in the background.
    for (let i = 0; i < 100 && (await remote.volumes.get(v.id).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(remote.volumes.get(v.id), { kind: 'NotFound', message: new RegExp(v.id) });
  });

  test('images: get and visibleTo over the bus; unknown images stay NotFound', async () => {
    const { id, data } = await uploadedImage(1000);
    const meta = await remote.images.get(id);
    assert.equal(meta.name, 'remote-test');
    assert.equal(meta.size, 1000);
    assert.equal(meta.checksum, createHash('md5').update(data).digest('hex'));
    assert.equal(await remote.images.visibleTo(id, tc.admin.projectId), true);
    assert.equal(await remote.images.visibleTo(id, tc.demo.projectId), false);
    assert.equal(await remote.images.visibleTo('no-such-image', tc.admin.projectId), false);
    const missing = '00000000-0000-4000-8000-000000000000';
    await assert.rejects(remote.images.get(missing), { kind: 'NotFound', message: `No image found with ID ${missing}` });
    await assert.rejects(remote.images.dataPath(missing), { kind: 'NotFound' });
  });

  test('dataPath downloads the image once into the image cache, checksum verified', async () => {
    const { id, data } = await uploadedImage();
    const downloads = () => requests.filter((r) => r === `GET /image/v2/images/${id}/file`).length;
    const path = await remote.images.dataPath(id);
    assert.equal(path, join(dataDir, 'image-cache', id));
    assert.deepEqual(readFileSync(path), data);
    assert.equal(await remote.images.dataPath(id), path);
    assert.equal(downloads(), 1, 'a second call reuses the file');

    const other = await uploadedImage();
    const paths = await Promise.all([1, 2, 3].map(() => remote.images.dataPath(other.id)));
    assert.deepEqual(new Set(paths), new Set([join(dataDir, 'image-cache', other.id)]));
    assert.equal(requests.filter((r) => r === `GET /image/v2/images/${other.id}/file`).length, 1, 'concurrent callers share one download');
    assert.deepEqual(readFileSync(paths[0]), other.data);
    assert.equal(logins(), 1, 'the service token is reused');
  });

  test('a revoked service token is replaced by a new login', async () => {
    await remote.images.dataPath((await uploadedImage(100)).id);
    const before = logins();
    for (const t of tokensSent) {
      const r = await tc.admin.delete('/identity/v3/auth/tokens', { 'x-subject-token': t });
      assert.ok(r.status === 204 || r.status === 404, String(r.status));
    }
    const { id, data } = await uploadedImage(100);
    assert.deepEqual(readFileSync(await remote.images.dataPath(id)), data);
    assert.equal(logins(), before + 1);
  });

  test('data that does not match the checksum is refused and not cached', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nova-ts-remote-corrupt-'));
    try {
      // A transfer that flips the first byte of image data.
      const corrupting: typeof fetch = async (input, init) => {
        const r = await fetch(input, init);
        if (!String(input).endsWith('/file') || r.status !== 200) return r;
        const buf = Buffer.from(await r.arrayBuffer());
        buf[0] ^= 0xff;
        return new Response(buf, { status: 200 });
      };
      const bad = remoteServiceClients(tc.cloud.bus, { dataDir: dir, imageApi: { ...authOpts(), fetch: corrupting } });
      const { id } = await uploadedImage(5000);
      await assert.rejects(bad.images.dataPath(id), { kind: 'ServiceUnavailable', message: new RegExp(`data of image ${id} .* does not match its checksum`) });
      assert.deepEqual(readdirSync(join(dir, 'image-cache')), [], 'no file, no temporary file');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('dataPath of an image without data is a Conflict; nothing is cached', async () => {
    const img = await tc.admin.post('/image/v2/images', { name: 'queued', disk_format: 'raw', container_format: 'bare' });
    await assert.rejects(remote.images.dataPath(img.body.id), { kind: 'Conflict' });
    await assert.rejects(remote.images.dataPath('../etc'), { kind: 'Invalid' });
  });

  test('uploadFile makes a queued snapshot image active with the given formats; abandon removes a queued one', async () => {
    const img = await tc.demo.post('/image/v2/images', { name: 'snap' });
    assert.equal(img.body.status, 'queued');
    const file = join(dataDir, 'snap.raw');
    const data = randomBytes(70_000);
    writeFileSync(file, data);
    await remote.images.uploadFile(img.body.id, file, { disk_format: 'raw', container_format: 'bare' });
    const shown = (await tc.demo.get(`/image/v2/images/${img.body.id}`)).body;
    assert.equal(shown.status, 'active');
    assert.equal(shown.disk_format, 'raw');
    assert.equal(shown.container_format, 'bare');
    assert.equal(shown.size, data.length);
    assert.equal(shown.checksum, createHash('md5').update(data).digest('hex'));
    assert.equal(shown.owner, tc.demo.projectId, 'the image stays the project\'s');
    // Uploading again into an active image is refused as in-process.
    await assert.rejects(remote.images.uploadFile(img.body.id, file, { disk_format: 'raw', container_format: 'bare' }), { kind: 'Conflict' });

    const doomed = await tc.demo.post('/image/v2/images', { name: 'snap-failed' });
    await remote.images.abandon(doomed.body.id);
    assert.equal((await tc.demo.get(`/image/v2/images/${doomed.body.id}`)).status, 404);
  });

  test('a wrong service password is a clear Unauthorized naming the service user', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nova-ts-remote-bad-'));
    try {
      const bad = remoteServiceClients(tc.cloud.bus, { dataDir: dir, imageApi: { ...authOpts(), password: 'wrong' } });
      const { id } = await uploadedImage(10);
      await assert.rejects(bad.images.dataPath(id), (e: any) => {
        assert.equal(e.kind, 'Unauthorized');
        assert.match(e.message, /refused the service user 'nova' in project 'service'/);
        assert.match(e.message, /password/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
