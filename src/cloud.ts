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
import { createPlacementApi } from './placement/service.js';
import { createVolumeService } from './volume/service.js';
import { startVolumeManager } from './volume/manager.js';
import { createNetworkService, type NetworkService } from './network/service.js';
import { createLinuxAgent, createNoopAgent, type NetworkAgent } from './network/agent/agent.js';
import { createMetadataServer, lookupByFixedIp } from './api/metadata/index.js';
import { createHash } from 'node:crypto';
import { startConsoleProxy } from './console/proxy/server.js';
import { serverTls } from './cert/server-tls.js';

/** The all-in-one's volume manager host (the `os-vol-host-attr:host` of its volumes). */
export const STORAGE_HOST = 'storage';

/** The network namespace of a compute host: unique per data dir, so clouds side by side never share one. */
export function hostNamespace(dataDir: string, host: string): string {
  return `nts-${createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}-${host}`;
}

const log = logger('cloud');

export interface Cloud {
  config: Config;
  /** Base URL of the single API listener, e.g. http://127.0.0.1:8774 */
  url: string;
  /** Base URL of the console proxy, e.g. http://127.0.0.1:6080 */
  consoleUrl: string;
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
  network: NetworkService;
  /** The network agent of each compute host (its namespace, when it has one). */
  agents: Map<string, NetworkAgent>;
  /**
   * Stops every service. Guests, their network namespace and its DHCP servers keep running
   * (a restart finds them) unless removeNetworkNamespaces (tests): then each host's namespace
   * and what runs in it are removed.
   */
  close(opts?: { removeNetworkNamespaces?: boolean }): Promise<void>;
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
  // --tls: every listener serves HTTPS with a certificate from the data dir's CA.
  const tls = config.tls ? await serverTls(config.dataDir, [config.listenHost, config.consoles.listenHost]) : undefined;
  // The qemu driver boots the real tiny-linux: built (or found in the cache) before anything starts.
  const guest = config.driver === 'qemu' ? await ensureGuestImage({ cacheDir: config.qemu.guestImageDir, log: (m) => log.info(m) }) : undefined;
  const sql = await openDatabase(config.databaseUrl);
  const bus = new InProcessBus();
  const secrets = loadSecrets(config.dataDir);
  const stops: (() => Promise<void>)[] = [];
  let removeNamespaces = false;

  const identity = createIdentityService({ sql, tokenTtlSec: config.tokenTtlSec });
  const image = createImageService({ sql, dataDir: join(config.dataDir, 'images') });
  const network = createNetworkService({ sql, bus });
  // The console proxy listens after the API; the API reads its URL when it hands out a console.
  let consoleUrl = '';
  const volume = createVolumeService({ sql, bus, images: image.client, defaultAvailabilityZone: config.compute.defaultAvailabilityZone });
  const compute = createComputeApi({
    sql,
    bus,
    images: image.api,
    identity,
    config,
    network: { api: network.api, client: network.client },
    volumes: volume.client,
    consoles: { proxyUrl: () => consoleUrl, tokenTtlSec: config.consoles.tokenTtlSec },
  });

  const server: Server = createApiServer({
    mounts: [
      { prefix: '/identity', router: identity.router },
      { prefix: '/image', router: image.router },
      { prefix: '/compute', router: compute, microversions: true },
      { prefix: '/network', router: network.router },
      { prefix: '/placement', router: createPlacementApi({ sql }) },
      { prefix: '/volume', router: volume.router },
    ],
    authenticate: (token, requestId) => identity.authenticate(token, requestId),
    identityUrl: () => `${url}/identity`,
    tls,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listenPort, config.listenHost, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `${tls ? 'https' : 'http'}://${config.listenHost}:${addr.port}`;

  await identity.bootstrap({
    publicUrl: url,
    region: config.region,
    adminPassword: secrets.adminPassword,
    demoPassword: secrets.demoPassword,
    services: ['identity', 'compute', 'image', 'network', 'placement', 'volume'],
  });
  await image.seed(guest);
  await network.seed();
  await volume.seed();
  // Guests ask the metadata service (through each host's proxy) over this socket.
  const metadataSocket = join(config.dataDir, 'metadata.sock');
  const metadata = config.driver === 'qemu' ? await createMetadataServer({ lookup: lookupByFixedIp({ sql, portByFixedIp: (ip) => network.portByFixedIp(ip) }), socketPath: metadataSocket }) : null;
  if (metadata) stops.push(() => metadata.close());
  await seedFlavors(sql);
  const consoleProxy = await startConsoleProxy({ sql, host: config.consoles.listenHost, port: config.consoles.listenPort, publicUrl: config.consoles.publicUrl, tls });
  consoleUrl = consoleProxy.url;
  stops.push(() => consoleProxy.close());

  stops.push((await startScheduler({ sql, bus, config: config.scheduler })).stop);
  stops.push((await startConductor({ sql, bus, images: image.client, config })).stop);
  // The all-in-one's storage host: one volume manager, files under <dataDir>/volumes/<host>.
  stops.push((await startVolumeManager({ sql, bus, host: STORAGE_HOST, dataDir: config.dataDir, images: image.client })).stop);
  const hosts: string[] = [];
  const drivers = new Map<string, ComputeDriver>();
  const agents = new Map<string, NetworkAgent>();
  for (let i = 1; i <= Math.max(1, config.fakeHosts); i++) {
    const host = `host${i}`;
    // Real guests get the real dataplane in a namespace of this host's own; fake guests none.
    const agent =
      config.driver === 'qemu'
        ? createLinuxAgent({
            host,
            netns: hostNamespace(config.dataDir, host),
            bus,
            source: network.agentSource,
            metadataSocket,
            stateDir: join(config.dataDir, 'network', host),
            log: (m) => log.info(m),
          })
        : createNoopAgent();
    await agent.start();
    agents.set(host, agent);
    stops.push(() => agent.stop({ removeNamespace: removeNamespaces }));
    const driver = createDriver(config, host, { images: image.client, netns: agent.netns });
    const svc = await startCompute({ bus, host, driver, images: image.client, config: config.compute, network: { client: network.client, dataplane: agent }, volumes: volume.client });
    stops.push(svc.stop);
    hosts.push(host);
    drivers.set(host, driver);
  }
  writeCloudsYaml(config.dataDir, url, config.region, secrets, { cacert: tls?.caFile });
  const first = drivers.get(hosts[0]);
  const driverSummary = first instanceof QemuDriver ? `qemu (${first.accel === 'kvm' ? 'KVM' : 'TCG'})` : config.driver;

  let closed = false;
  return {
    config,
    url,
    consoleUrl,
    sql,
    bus,
    identity,
    image,
    secrets,
    hosts,
    driverSummary,
    drivers,
    network,
    agents,
    async close(opts = {}) {
      if (closed) return;
      closed = true;
      removeNamespaces = !!opts.removeNetworkNamespaces;
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
