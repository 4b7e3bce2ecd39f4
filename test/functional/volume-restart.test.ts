/**
 * Attach and detach interrupted by a restart of the whole cloud end in a consistent state:
 * after the restart no volume stays reserved, attaching or detaching, and what the server lists
 * in volumes_attached agrees with the volume's own attachments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, type Config } from '../../src/config.js';
import { startCloud, type Cloud } from '../../src/cloud.js';
import { login, waitFor, type Client } from '../helpers/cloud.js';

const C = '/compute/v2.1';
const STUCK = ['reserved', 'attaching', 'detaching'];

async function up(dataDir: string, delays: Record<string, number>): Promise<{ cloud: Cloud; demo: Client }> {
  const config: Config = defaultConfig({ dataDir, listenPort: 0 });
  config.databaseUrl = `sqlite:${join(dataDir, 'nova.db')}`;
  config.compute = { ...config.compute, powerSyncIntervalSec: 1, reportIntervalSec: 1 };
  config.fake = { ...config.fake, delays };
  const cloud = await startCloud(config);
  return { cloud, demo: await login(cloud.url, 'demo', cloud.secrets.demoPassword, 'demo') };
}

async function consistent(demo: Client, serverId: string, volumeId: string): Promise<{ status: string; attachedHere: boolean }> {
  const vol = await waitFor(async () => {
    const v = (await demo.get(`/volume/v3/${demo.projectId}/volumes/${volumeId}`)).body.volume;
    return v && !STUCK.includes(v.status) ? v : null;
  }, 'the volume out of reserved/attaching/detaching', 15_000);
  const server = (await demo.get(`${C}/servers/${serverId}`, { 'openstack-api-version': 'compute 2.79' })).body.server;
  const listed = server['os-extended-volumes:volumes_attached'].some((a: any) => a.id === volumeId);
  const attachedHere = vol.attachments.some((a: any) => a.server_id === serverId);
  assert.equal(listed, attachedHere, `server lists the volume (${listed}) exactly when the volume says it is attached to it (${attachedHere})`);
  assert.equal(vol.status, attachedHere ? 'in-use' : 'available');
  return { status: vol.status, attachedHere };
}

test('attach and detach interrupted by a restart end consistent, nothing stuck', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nova-ts-volrestart-'));
  let cloud: Cloud | null = null;
  try {
    // 1. The guest takes 3 s to plug the volume; the cloud stops in the middle of it.
    let s = await up(dataDir, { attachVolume: 3000, detachVolume: 3000 });
    cloud = s.cloud;
    const image = (await s.demo.get('/image/v2/images')).body.images.find((i: any) => i.status === 'active').id;
    const boot = await s.demo.post(`${C}/servers`, { server: { name: 'vm', flavorRef: '1', imageRef: image } });
    assert.equal(boot.status, 202, JSON.stringify(boot.body));
    const serverId = boot.body.server.id as string;
    await waitFor(async () => (await s.demo.get(`${C}/servers/${serverId}`)).body.server.status === 'ACTIVE', 'ACTIVE');
    const v = await s.demo.post(`/volume/v3/${s.demo.projectId}/volumes`, { volume: { size: 1, name: 'v' } });
    const volumeId = v.body.volume.id as string;
    await waitFor(async () => (await s.demo.get(`/volume/v3/${s.demo.projectId}/volumes/${volumeId}`)).body.volume.status === 'available', 'available');
    const attach = s.demo.post(`${C}/servers/${serverId}/os-volume_attachments`, { volumeAttachment: { volumeId } }).catch((e) => e);
    await waitFor(async () => {
      const st = (await s.demo.get(`/volume/v3/${s.demo.projectId}/volumes/${volumeId}`)).body.volume.status;
      return st === 'attaching' || st === 'reserved' ? st : null;
    }, 'the attach under way');
    await cloud.close();
    cloud = null;
    await attach;

    s = await up(dataDir, {});
    cloud = s.cloud;
    const afterAttach = await consistent(s.demo, serverId, volumeId);

    // 2. Attach for real if the restart undid it, then a detach the restart interrupts.
    if (!afterAttach.attachedHere) {
      const r = await s.demo.post(`${C}/servers/${serverId}/os-volume_attachments`, { volumeAttachment: { volumeId } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    await cloud.close();
    s = await up(dataDir, { detachVolume: 3000 });
    cloud = s.cloud;
    const det = await s.demo.delete(`${C}/servers/${serverId}/os-volume_attachments/${volumeId}`);
    assert.equal(det.status, 202, JSON.stringify(det.body));
    await waitFor(async () => (await s.demo.get(`/volume/v3/${s.demo.projectId}/volumes/${volumeId}`)).body.volume.status === 'detaching', 'detaching');
    await cloud.close();
    cloud = null;

    s = await up(dataDir, {});
    cloud = s.cloud;
    await consistent(s.demo, serverId, volumeId);
  } finally {
    await cloud?.close({ removeNetworkNamespaces: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
});
