/**
 * Remote image data from a cloud whose APIs are served over HTTPS by its own CA ([api] tls):
 * a compute host or network agent trusts that CA through [service_auth] cafile; without it the
 * failure says which setting to give.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCloud, type TestCloud } from '../../test/helpers/cloud.js';
import { remoteServiceClients, serveServiceClients } from './service-clients.js';
import { createVolumeService } from '../volume/service.js';
import { caFetch } from './ca-fetch.js';
import { openOrCreate } from '../cert/ca.js';

let tc: TestCloud;
let stopServing: () => Promise<void>;
const dirs: string[] = [];

before(async () => {
  tc = await startTestCloud({ tls: true });
  const c = tc.cloud;
  const volumes = createVolumeService({ sql: c.sql, bus: c.bus, images: c.image.client }).client;
  stopServing = await serveServiceClients(c.bus, { images: c.image.client, network: c.network.client, volumes, agentSource: c.network.agentSource });
});

after(async () => {
  await stopServing?.();
  await tc?.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'nova-ts-remote-tls-'));
  dirs.push(d);
  return d;
};
const imageApi = (caFile?: string) => ({ authUrl: `${tc.url}/identity/v3`, username: 'nova', password: tc.cloud.secrets.servicePassword, projectName: 'service', caFile });

async function uploadedImage(size: number): Promise<{ id: string; data: Buffer }> {
  const img = await tc.admin.post('/image/v2/images', { name: 'tls-test', disk_format: 'raw', container_format: 'bare' });
  assert.equal(img.status, 201);
  const data = randomBytes(size);
  // The CA-trusting fetch streams request bodies (the test helper's buffers strings only).
  const r = await caFetch(readFileSync(tc.caFile!))(`${tc.url}/image/v2/images/${img.body.id}/file`, {
    method: 'PUT',
    headers: { 'x-auth-token': tc.admin.token, 'content-type': 'application/octet-stream' },
    body: data,
  });
  assert.equal(r.status, 204);
  return { id: img.body.id, data };
}

test('the cloud serves https with its own CA', () => {
  assert.match(tc.url, /^https:\/\//);
  assert.ok(tc.caFile);
});

test('with [service_auth] cafile, image data downloads from (and uploads to) an https cloud', async () => {
  const d = dir();
  const remote = remoteServiceClients(tc.cloud.bus, { dataDir: d, imageApi: imageApi(tc.caFile) });
  const { id, data } = await uploadedImage(1_500_000);
  const path = await remote.images.dataPath(id);
  assert.equal(path, join(d, 'image-cache', id));
  assert.deepEqual(readFileSync(path), data);

  // A snapshot upload streams the file over https.
  const snap = await tc.demo.post('/image/v2/images', { name: 'tls-snap' });
  const file = join(d, 'snap.raw');
  const snapData = randomBytes(400_000);
  writeFileSync(file, snapData);
  await remote.images.uploadFile(snap.body.id, file, { disk_format: 'raw', container_format: 'bare' });
  const shown = (await tc.demo.get(`/image/v2/images/${snap.body.id}`)).body;
  assert.equal(shown.status, 'active');
  assert.equal(shown.checksum, createHash('md5').update(snapData).digest('hex'));
});

test('without the CA the download fails with ServiceUnavailable naming [service_auth] cafile, and nothing is cached', async () => {
  const d = dir();
  const remote = remoteServiceClients(tc.cloud.bus, { dataDir: d, imageApi: imageApi() });
  const { id } = await uploadedImage(1000);
  await assert.rejects(remote.images.dataPath(id), (e: any) => {
    assert.equal(e.kind, 'ServiceUnavailable');
    assert.match(e.message, /^Cannot reach the Identity API at https:\/\/127\.0\.0\.1:\d+\/identity\/v3: /);
    assert.match(e.message, /not signed by a trusted CA: set \[service_auth\] cafile to the cloud's CA certificate/);
    return true;
  });
  const cache = join(d, 'image-cache');
  assert.deepEqual(existsSync(cache) ? readdirSync(cache) : [], [], 'no file, no temporary file');
});

test('a CA file that is not the cloud\'s CA says so; an unreadable one stops the start naming the setting', async () => {
  const d = dir();
  // Another cloud's CA.
  await openOrCreate(d);
  const other = join(d, 'ca', 'ca.pem');
  const remote = remoteServiceClients(tc.cloud.bus, { dataDir: d, imageApi: imageApi(other) });
  const { id } = await uploadedImage(100);
  await assert.rejects(remote.images.dataPath(id), (e: any) => {
    assert.equal(e.kind, 'ServiceUnavailable');
    assert.ok(e.message.includes(`not signed by the CA in ${other}, [service_auth] cafile`), e.message);
    return true;
  });
  assert.throws(() => remoteServiceClients(tc.cloud.bus, { dataDir: d, imageApi: imageApi(join(d, 'missing.pem')) }), /^Error: \[service_auth\] cafile: cannot read the CA certificate .*missing\.pem/);
});
