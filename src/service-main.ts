/**
 * `nova-ts <service> --config FILE`: one service of a split deployment in this process. Opens
 * the bus of [DEFAULT] transport_url, the DB only for the services that need it (never for
 * compute and network-agent), starts the service's starter (src/services/), prints one line
 * `<service> ready ...` when it serves, and stops cleanly on SIGTERM or SIGINT.
 */
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Bus } from './bus/bus.js';
import { openBus } from './bus/open.js';
import { openDatabase } from './db/open.js';
import type { Sql } from './db/sql.js';
import { serverTls } from './cert/server-tls.js';
import { ensureGuestImage } from './virt/qemu/guest-image/index.js';
import { remoteServiceClients } from './rpc/service-clients.js';
import { DB_SERVICES, loadServiceConfig, SERVICES, type ServiceConfig, type ServiceName } from './service-config.js';
import { startApiService } from './services/api.js';
import { consoleProxyUrl, startConsoleProxyService } from './services/console-proxy.js';
import { startSchedulerService } from './services/scheduler.js';
import { startConductorService } from './services/conductor.js';
import { startVolumeService } from './services/volume.js';
import { computeHostNames, startComputeService } from './services/compute.js';
import { startNetworkAgentService } from './services/network-agent.js';
import { localServiceClients } from './services/local-clients.js';
import type { ServiceClients } from './services/clients.js';
import { logger } from './util/log.js';

export const SERVICE_USAGE = `Usage: nova-ts <service> --config FILE

Runs one service of a split deployment (services talk over the bus of transport_url and share
the DB of [database] connection; compute and network-agent never get DB settings):

  api             every HTTP API (identity, image, compute, network, volume, placement) and the metadata server
  scheduler       picks hosts for instances
  conductor       the DB side of compute hosts; serves their image, network and volume clients
  compute         compute host(s): the virt driver (and the host's network agent, unless network_agent = separate)
  network-agent   a host's network dataplane as a process of its own (qemu driver)
  console-proxy   the websocket proxy to guests' VNC and serial consoles
  volume          the volume manager of a storage host

FILE is INI like nova.conf (see README, "Separate services"); every key can be set by the
environment as NOVA_TS_<SECTION>_<KEY> (DEFAULT keys: NOVA_TS_<KEY>).
`;

export function isServiceName(s: string | undefined): s is ServiceName {
  return (SERVICES as readonly string[]).includes(s ?? '');
}

interface Running {
  ready: string;
  stop(): Promise<void>;
}

/** Starts `service` as configured; resolves once it serves. Closes what it opened on failure. */
export async function startService(service: ServiceName, s: ServiceConfig): Promise<Running> {
  const { config } = s;
  mkdirSync(config.dataDir, { recursive: true });
  const bus = await openBus(s.transportUrl);
  let sql: Sql | null = null;
  try {
    if (DB_SERVICES.includes(service)) sql = await openDatabase(s.databaseUrl!);
    const r = await startOn(service, s, bus, sql);
    return {
      ready: r.ready,
      async stop() {
        await r.stop();
        await bus.close();
        await sql?.close();
      },
    };
  } catch (e) {
    await bus.close().catch(() => undefined);
    await sql?.close().catch(() => undefined);
    throw e;
  }
}

/** The remote clients of a process without the DB ([service_auth] moves image data over the Image API). */
function remoteClients(s: ServiceConfig, bus: Bus, service: ServiceName): ServiceClients {
  if (!s.serviceAuth)
    throw new Error(`${s.file}: [service_auth]: the ${service} service needs auth_url, username, password and project_name of the service user (image data moves over the Image API)`);
  return remoteServiceClients(bus, { dataDir: s.config.dataDir, imageApi: { ...s.serviceAuth, region: s.config.region } });
}

async function startOn(service: ServiceName, s: ServiceConfig, bus: Bus, sql: Sql | null): Promise<Running> {
  const { config } = s;
  switch (service) {
    case 'api': {
      const tls = config.tls ? await serverTls(config.dataDir, [config.listenHost]) : undefined;
      // [compute] driver = qemu in the api's file: the tiny-linux guest is seeded as an image.
      const guest = config.driver === 'qemu' ? await ensureGuestImage({ cacheDir: config.qemu.guestImageDir, log: (m) => logger('api').info(m) }) : undefined;
      const api = await startApiService({ config, bus, sql: sql!, tls, consoleUrl: () => consoleProxyUrl(config), metadataSocket: s.metadataSocket, guest });
      return { ready: `api ready at ${api.url} (clouds.yaml in ${config.dataDir})`, stop: () => api.stop() };
    }
    case 'scheduler': {
      const sch = await startSchedulerService({ config, bus, sql: sql!, host: s.host });
      return { ready: `scheduler ready (host ${s.host})`, stop: sch.stop };
    }
    case 'conductor': {
      const clients = localServiceClients({ sql: sql!, bus, dataDir: config.dataDir, defaultAvailabilityZone: config.compute.defaultAvailabilityZone });
      const c = await startConductorService({ config, bus, sql: sql!, images: clients.images, host: s.host, serveClients: clients });
      return { ready: `conductor ready (host ${s.host})`, stop: c.stop };
    }
    case 'volume': {
      // Volumes made from images read the image data over the Image API when [service_auth]
      // is given; otherwise from <data_dir>/images (a data dir shared with the api).
      const images = s.serviceAuth
        ? remoteClients(s, bus, service).images
        : localServiceClients({ sql: sql!, bus, dataDir: config.dataDir, defaultAvailabilityZone: config.compute.defaultAvailabilityZone }).images;
      const v = await startVolumeService({ config, bus, sql: sql!, host: s.host, images, format: s.volumeFormat });
      return { ready: `volume ready (host ${s.host})`, stop: v.stop };
    }
    case 'console-proxy': {
      const tls = config.tls ? await serverTls(config.dataDir, [config.consoles.listenHost]) : undefined;
      const p = await startConsoleProxyService({ config, sql: sql!, tls });
      return { ready: `console-proxy ready at ${p.url}`, stop: p.stop };
    }
    case 'compute': {
      const hosts = computeHostNames(s.host, config.fakeHosts);
      const c = await startComputeService({ config, bus, hosts, clients: remoteClients(s, bus, service), metadataSocket: s.metadataSocket, networkAgent: s.networkAgent });
      return { ready: `compute ready (driver ${c.driverSummary}, host(s) ${hosts.join(', ')})`, stop: () => c.stop() };
    }
    case 'network-agent': {
      // Its own process only makes sense for a real dataplane: always the Linux agent.
      const a = await startNetworkAgentService({
        config: { ...config, driver: 'qemu' },
        bus,
        host: s.host,
        source: remoteClients(s, bus, service).agentSource,
        metadataSocket: s.metadataSocket,
        serve: true,
      });
      return { ready: `network-agent ready (host ${s.host}, namespace ${a.agent.netns})`, stop: () => a.stop() };
    }
  }
}

/** The `nova-ts <service>` command: exits 2 on bad usage or config, 1 when the service cannot start. */
export async function serviceMain(service: ServiceName, argv: string[]): Promise<void> {
  const log = logger(service);
  let file: string | undefined;
  try {
    const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      process.stdout.write(SERVICE_USAGE);
      process.exit(0);
    }
    file = values.config;
    if (!file) throw new Error(`${service} needs --config FILE\n\n${SERVICE_USAGE}`);
  } catch (e) {
    process.stderr.write(`nova-ts: ${(e as Error).message}\n`);
    process.exit(2);
  }
  let s: ServiceConfig;
  try {
    s = loadServiceConfig(file, process.env, service);
  } catch (e) {
    process.stderr.write(`nova-ts ${service}: ${(e as Error).message}\n`);
    process.exit(2);
  }
  // Signals are taken from the start: one that arrives while the service starts stops it as
  // soon as it is up (never a kill half-way through start-up, nor a race with the ready line).
  let running: Running | undefined;
  let requested: string | null = null;
  let stopping = false;
  const stop = async (sig: string) => {
    if (!running) {
      requested ??= sig;
      return;
    }
    if (stopping) return;
    stopping = true;
    log.info(`${sig} received, stopping`);
    try {
      await running.stop();
    } catch (e) {
      log.warn('stopping failed', e);
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  try {
    running = await startService(service, s);
  } catch (e) {
    process.stderr.write(`nova-ts ${service}: ${(e as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${running.ready}\n`);
  // A service runs until it is stopped, even when nothing else holds the event loop (its
  // periodic timers are unref'd; an in-process bus has no socket).
  setInterval(() => undefined, 1 << 30);
  if (requested) await stop(requested);
}
