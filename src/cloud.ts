import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';
import { openDatabase } from './db/open.js';
import type { Sql } from './db/sql.js';
import type { Bus } from './bus/bus.js';
import { InProcessBus } from './bus/in-process.js';
import type { IdentityService } from './identity/service.js';
import type { ImageService } from './image/service.js';
import { checkDriver } from './virt/registry.js';
import type { ComputeDriver } from './virt/driver.js';
import type { Secrets } from './clouds-yaml.js';
import { logger } from './util/log.js';
import { invalid } from './errors.js';
import { ensureGuestImage } from './virt/qemu/guest-image/index.js';
import type { NetworkService } from './network/service.js';
import type { NetworkAgent } from './network/agent/agent.js';
import { serverTls } from './cert/server-tls.js';
import { startApiService } from './services/api.js';
import { startConsoleProxyService } from './services/console-proxy.js';
import { startSchedulerService } from './services/scheduler.js';
import { startConductorService } from './services/conductor.js';
import { startVolumeService } from './services/volume.js';
import { startComputeService } from './services/compute.js';

export { hostNamespace } from './services/namespace.js';

/** The all-in-one's volume manager host (the `os-vol-host-attr:host` of its volumes). */
export const STORAGE_HOST = 'storage';

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
  const stops: ((o: { removeNetworkNamespaces?: boolean }) => Promise<void>)[] = [];
  const stopAll = async (o: { removeNetworkNamespaces?: boolean }) => {
    for (const stop of stops.splice(0).reverse()) {
      try {
        await stop(o);
      } catch (e) {
        log.warn('stopping a service failed', e);
      }
    }
    await bus.close();
    await sql.close();
  };
  let cloud: Omit<Cloud, 'close'>;
  let closeApi: () => Promise<void> = async () => undefined;
  try {
    // The same starters a split deployment runs one per process (src/services/), here in one
    // process on the in-process bus and one DB.
    // The console proxy listens after the API; the API reads its URL when it hands out a console.
    let consoleUrl = '';
    const metadataSocket = config.driver === 'qemu' ? join(config.dataDir, 'metadata.sock') : null;
    const api = await startApiService({ config, bus, sql, tls, consoleUrl: () => consoleUrl, metadataSocket, guest });
    stops.push(() => api.stop());
    closeApi = () => api.stop();
    const consoleProxy = await startConsoleProxyService({ config, sql, tls });
    consoleUrl = consoleProxy.url;
    stops.push(() => consoleProxy.stop());
    stops.push((await startSchedulerService({ config, bus, sql })).stop);
    stops.push((await startConductorService({ config, bus, sql, images: api.image.client })).stop);
    // The all-in-one's storage host: one volume manager, files under <dataDir>/volumes/<host>.
    stops.push((await startVolumeService({ config, bus, sql, host: STORAGE_HOST, images: api.image.client })).stop);
    const hosts = Array.from({ length: Math.max(1, config.fakeHosts) }, (_, i) => `host${i + 1}`);
    const compute = await startComputeService({
      config,
      bus,
      hosts,
      clients: { images: api.image.client, network: api.network.client, volumes: api.volume.client, agentSource: api.network.agentSource },
      metadataSocket,
    });
    stops.push((o) => compute.stop(o));
    cloud = {
      config,
      url: api.url,
      consoleUrl,
      sql,
      bus,
      identity: api.identity,
      image: api.image,
      secrets: api.secrets,
      hosts: compute.hosts,
      driverSummary: compute.driverSummary,
      drivers: compute.drivers,
      network: api.network,
      agents: compute.agents,
    };
  } catch (e) {
    await stopAll({});
    throw e;
  }

  let closed = false;
  return {
    ...cloud,
    async close(opts = {}) {
      if (closed) return;
      closed = true;
      // No new requests while the services stop.
      await closeApi().catch((e: unknown) => log.warn('stopping the API failed', e));
      await stopAll({ removeNetworkNamespaces: !!opts.removeNetworkNamespaces });
    },
  };
}
