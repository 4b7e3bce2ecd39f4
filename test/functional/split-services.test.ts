/**
 * A split deployment in one test process: api, scheduler, conductor and volume each started by
 * its own starter with its own connection to one SQLite file, and two compute services (fake
 * driver) that get no DB at all: they reach it through the conductor and use the remote
 * service clients (bus calls served by the conductor, image data over the Image API as the
 * service user). They talk over one bus, as the processes of a cluster talk over RabbitMQ.
 * Servers booted through the HTTP API go ACTIVE spread over both hosts; a compute host that
 * stops heartbeating is down in os-services after service_down_time and gets no new servers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, type Config } from '../../src/config.js';
import { InProcessBus } from '../../src/bus/in-process.js';
import { openDatabase } from '../../src/db/open.js';
import type { Sql } from '../../src/db/sql.js';
import { remoteServiceClients } from '../../src/rpc/service-clients.js';
import { startApiService, type ApiService } from '../../src/services/api.js';
import { startSchedulerService } from '../../src/services/scheduler.js';
import { startConductorService } from '../../src/services/conductor.js';
import { startVolumeService } from '../../src/services/volume.js';
import { startComputeService, type ComputeProcess } from '../../src/services/compute.js';
import { localServiceClients } from '../../src/services/local-clients.js';
import { login, waitFor, type Client } from '../helpers/cloud.js';

const C = '/compute/v2.1';
const DOWN_SEC = 2;

describe('split services: api, scheduler, conductor, volume and two DB-less computes', () => {
  const root = mkdtempSync(join(tmpdir(), 'nova-ts-split-'));
  const dbUrl = `sqlite:${join(root, 'nova.db')}`;
  const bus = new InProcessBus();
  const sqls: Sql[] = [];
  const stops: (() => Promise<void>)[] = [];
  const computes = new Map<string, ComputeProcess>();
  let api: ApiService;
  let admin: Client;
  let demo: Client;

  /** One process's config: its own data dir; the DB only when it is given one. */
  const cfg = (name: string, db: boolean): Config => {
    const c = defaultConfig({ dataDir: join(root, name), listenPort: 0 });
    c.databaseUrl = db ? dbUrl : '';
    c.serviceDownTimeSec = DOWN_SEC;
    c.compute = { ...c.compute, reportIntervalSec: 0.3, powerSyncIntervalSec: 1 };
    return c;
  };
  const db = async () => {
    const s = await openDatabase(dbUrl);
    sqls.push(s);
    return s;
  };
  const startComputeHost = async (host: string) => {
    const c = cfg(`compute-${host}`, false);
    const clients = remoteServiceClients(bus, {
      dataDir: c.dataDir,
      imageApi: { authUrl: `${api.url}/identity/v3`, username: 'nova', password: api.secrets.servicePassword, projectName: 'service' },
    });
    const p = await startComputeService({ config: c, bus, hosts: [host], clients, metadataSocket: null });
    computes.set(host, p);
  };

  before(async () => {
    api = await startApiService({ config: cfg('api', true), bus, sql: await db(), consoleUrl: () => 'http://127.0.0.1:6080', metadataSocket: null });
    stops.push(() => api.stop());
    stops.push((await startSchedulerService({ config: cfg('scheduler', true), bus, sql: await db(), host: 'scheduler-1' })).stop);
    const condSql = await db();
    const condCfg = cfg('conductor', true);
    // The conductor serves the service clients over its own DB connection and data dir.
    const clients = localServiceClients({ sql: condSql, bus, dataDir: join(root, 'api'), defaultAvailabilityZone: 'nova' });
    stops.push((await startConductorService({ config: condCfg, bus, sql: condSql, images: clients.images, host: 'conductor-1', serveClients: clients })).stop);
    stops.push((await startVolumeService({ config: cfg('volume', true), bus, sql: await db(), host: 'storage', images: clients.images })).stop);
    await startComputeHost('host1');
    await startComputeHost('host2');
    admin = await login(api.url, 'admin', api.secrets.adminPassword, 'admin');
    demo = await login(api.url, 'demo', api.secrets.demoPassword, 'demo');
    admin.microversion = demo.microversion = '2.84';
    await waitFor(async () => (await admin.get(`${C}/os-hypervisors`)).body.hypervisors?.filter((h: any) => h.state === 'up').length === 2, 'two hypervisors up', 20_000);
  });

  after(async () => {
    for (const p of computes.values()) await p.stop();
    for (const s of stops.reverse()) await s();
    await bus.close();
    for (const s of sqls) await s.close();
    rmSync(root, { recursive: true, force: true });
  });

  const bootAndWait = async (names: string[]) => {
    const imageId = (await demo.get('/image/v2/images')).body.images.find((i: any) => i.status === 'active').id;
    const flavorId = (await demo.get(`${C}/flavors`)).body.flavors.find((f: any) => f.name === 'm1.tiny').id;
    const ids: string[] = [];
    for (const name of names) {
      const r = await demo.post(`${C}/servers`, { server: { name, imageRef: imageId, flavorRef: flavorId, networks: 'auto' } });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      ids.push(r.body.server.id);
    }
    const servers = [];
    for (const id of ids) {
      const s = await waitFor(
        async () => {
          const b = (await admin.get(`${C}/servers/${id}`)).body.server;
          return b.status === 'BUILD' ? null : b;
        },
        `server ${id} settled`,
        20_000,
      );
      assert.equal(s.status, 'ACTIVE', JSON.stringify(s.fault ?? s));
      servers.push(s);
    }
    return servers;
  };

  it('boots servers through the API: ACTIVE, with ports, spread over both compute hosts', async () => {
    const servers = await bootAndWait(['split-1', 'split-2', 'split-3', 'split-4']);
    const hosts = new Set(servers.map((s) => s['OS-EXT-SRV-ATTR:host']));
    assert.deepEqual([...hosts].sort(), ['host1', 'host2']);
    // Ports came from the network service through the conductor (the computes have no DB).
    for (const s of servers) assert.ok(Object.values(s.addresses).flat().length >= 1, `addresses of ${s.name}: ${JSON.stringify(s.addresses)}`);
    const deleted = await demo.delete(`${C}/servers/${servers[0].id}`);
    assert.equal(deleted.status, 204);
    await waitFor(async () => (await demo.get(`${C}/servers/${servers[0].id}`)).status === 404, 'server deleted', 20_000);
  });

  it('a compute host that stops heartbeating is down after service_down_time and gets no new servers', async () => {
    const state = async (host: string) =>
      (await admin.get(`${C}/os-services?binary=nova-compute&host=${host}`)).body.services[0]?.state as string | undefined;
    assert.equal(await state('host2'), 'up');
    const t0 = Date.now();
    await computes.get('host2')!.stop();
    computes.delete('host2');
    await waitFor(async () => (await state('host2')) === 'down', 'host2 down', 10_000, 100);
    const took = (Date.now() - t0) / 1000;
    assert.ok(took >= DOWN_SEC - 0.5, `down after ${took} s, before service_down_time`);
    assert.equal(await state('host1'), 'up');
    const servers = await bootAndWait(['after-1', 'after-2']);
    assert.deepEqual(servers.map((s) => s['OS-EXT-SRV-ATTR:host']), ['host1', 'host1']);
  });
});
