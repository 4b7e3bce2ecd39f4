import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';
import { openDatabase } from './db/open.js';
import type { Sql } from './db/sql.js';
import type { Bus } from './bus/bus.js';
import { InProcessBus } from './bus/in-process.js';
import { createApiServer } from './http/server.js';
import { createIdentityService, type IdentityService } from './identity/service.js';
import { createImageService, type ImageService } from './image/service.js';
import { createComputeApi } from './api/compute/index.js';
import { seedFlavors } from './api/compute/seed.js';
import { startScheduler } from './scheduler/manager.js';
import { startConductor } from './conductor/manager.js';
import { startCompute } from './compute/manager.js';
import { checkDriver, createDriver } from './virt/registry.js';
import type { ComputeDriver } from './virt/driver.js';
import { loadSecrets, writeCloudsYaml, type Secrets } from './clouds-yaml.js';
import { logger } from './util/log.js';
import { invalid } from './errors.js';
import { QemuDriver } from './virt/qemu/driver.js';
import { ensureGuestImage } from './virt/qemu/guest-image/index.js';

const log = logger('cloud');

export interface Cloud {
  config: Config;
  /** Base URL of the single API listener, e.g. http://127.0.0.1:8774 */
  url: string;
  sql: Sql;
  bus: Bus;
  identity: IdentityService;
  image: ImageService;
  secrets: Secrets;
  /** Names of the compute hosts running in this process. */
  hosts: string[];
  /** The driver as the ready line names it, e.g. "qemu (TCG)" or "fake". */
  driverSummary: string;
  /** The virt driver of each compute host in this process, by host name. */
  drivers: Map<string, ComputeDriver>;
  close(): Promise<void>;
}

/**
 * Starts the all-in-one cloud: every service in this process, one SQLite file, the
 * in-process bus. Resolves once the API is serving and clouds.yaml is written.
 */
export async function startCloud(config: Config): Promise<Cloud> {
  checkDriver(config.driver);
  if (config.driver === 'qemu' && config.fakeHosts > 1)
    throw invalid('--fake-hosts applies to the fake driver only; the qemu driver runs one compute host per machine.');
  mkdirSync(config.dataDir, { recursive: true });
  // The qemu driver boots the real tiny-linux: built (or found in the cache) before anything starts.
  const guest = config.driver === 'qemu' ? await ensureGuestImage({ cacheDir: config.qemu.guestImageDir, log: (m) => log.info(m) }) : undefined;
  const sql = await openDatabase(config.databaseUrl);
  const bus = new InProcessBus();
  const secrets = loadSecrets(config.dataDir);
  const stops: (() => Promise<void>)[] = [];

  const identity = createIdentityService({ sql, tokenTtlSec: config.tokenTtlSec });
  const image = createImageService({ sql, dataDir: join(config.dataDir, 'images') });
  const compute = createComputeApi({ sql, bus, images: image.api, identity, config });

  const server: Server = createApiServer({
    mounts: [
      { prefix: '/identity', router: identity.router },
      { prefix: '/image', router: image.router },
      { prefix: '/compute', router: compute, microversions: true },
    ],
    authenticate: (token, requestId) => identity.authenticate(token, requestId),
    identityUrl: () => `${url}/identity`,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listenPort, config.listenHost, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${config.listenHost}:${addr.port}`;

  await identity.bootstrap({
    publicUrl: url,
    region: config.region,
    adminPassword: secrets.adminPassword,
    demoPassword: secrets.demoPassword,
  });
  await image.seed(guest);
  await seedFlavors(sql);

  stops.push((await startScheduler({ sql, bus, config: config.scheduler })).stop);
  stops.push((await startConductor({ sql, bus, images: image.client, config })).stop);
  const hosts: string[] = [];
  const drivers = new Map<string, ComputeDriver>();
  for (let i = 1; i <= Math.max(1, config.fakeHosts); i++) {
    const host = `host${i}`;
    const driver = createDriver(config, host, { images: image.client });
    const svc = await startCompute({ bus, host, driver, images: image.client, config: config.compute });
    stops.push(svc.stop);
    hosts.push(host);
    drivers.set(host, driver);
  }
  writeCloudsYaml(config.dataDir, url, config.region, secrets);
  const first = drivers.get(hosts[0]);
  const driverSummary = first instanceof QemuDriver ? `qemu (${first.accel === 'kvm' ? 'KVM' : 'TCG'})` : config.driver;

  let closed = false;
  return {
    config,
    url,
    sql,
    bus,
    identity,
    image,
    secrets,
    hosts,
    driverSummary,
    drivers,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      for (const stop of stops.reverse()) {
        try {
          await stop();
        } catch (e) {
          log.warn('stopping a service failed', e);
        }
      }
      await bus.close();
      await sql.close();
    },
  };
}
