/**
 * The api service: every HTTP API under one listener (identity, image, compute with its
 * console token API, network, placement, volume), the first-start setup (identity bootstrap,
 * images, the default network, volume type and flavors: each idempotent, so several api
 * processes may start at once) and, when given a socket, the metadata server the network
 * agents proxy guests to. Writes clouds.yaml into its data dir once serving.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Bus } from '../bus/bus.js';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import type { ServerTls } from '../cert/server-tls.js';
import { createApiServer } from '../http/server.js';
import { createIdentityService, type IdentityService } from '../identity/service.js';
import { createImageService, type ImageService } from '../image/service.js';
import { createComputeApi } from '../api/compute/index.js';
import { seedFlavors } from '../api/compute/seed.js';
import { createPlacementApi } from '../placement/service.js';
import { createVolumeService, type VolumeService } from '../volume/service.js';
import { createNetworkService, type NetworkService } from '../network/service.js';
import { createMetadataServer, lookupByFixedIp } from '../api/metadata/index.js';
import { loadSecrets, writeCloudsYaml, type Secrets } from '../clouds-yaml.js';
import { dashboardFallback } from '../dashboard-static.js';
import type { GuestImageFiles } from '../virt/qemu/guest-image/index.js';

export interface ApiServiceOptions {
  config: Config;
  bus: Bus;
  sql: Sql;
  /** HTTPS with this certificate (config.tls). */
  tls?: ServerTls;
  /** The console proxy's base URL, read when a console is handed out (the proxy may start later). */
  consoleUrl: () => string;
  /** Serve the metadata server on this unix socket (null: none). */
  metadataSocket: string | null;
  /** The tiny-linux guest to seed as an image (qemu clouds). */
  guest?: GuestImageFiles;
}

export interface ApiService {
  /** Base URL of the listener, e.g. http://127.0.0.1:8774 */
  url: string;
  identity: IdentityService;
  image: ImageService;
  network: NetworkService;
  volume: VolumeService;
  secrets: Secrets;
  /** Stops listening (open connections are closed) and the metadata server. */
  stop(): Promise<void>;
}

export async function startApiService(opts: ApiServiceOptions): Promise<ApiService> {
  const { config, bus, sql, tls } = opts;
  mkdirSync(config.dataDir, { recursive: true });
  const secrets = loadSecrets(config.dataDir);
  const identity = createIdentityService({ sql, tokenTtlSec: config.tokenTtlSec });
  const image = createImageService({ sql, dataDir: join(config.dataDir, 'images') });
  const network = createNetworkService({ sql, bus });
  const volume = createVolumeService({ sql, bus, images: image.client, defaultAvailabilityZone: config.compute.defaultAvailabilityZone });
  const compute = createComputeApi({
    sql,
    bus,
    images: image.api,
    identity,
    config,
    network: { api: network.api, client: network.client },
    volumes: volume.client,
    consoles: { proxyUrl: opts.consoleUrl, tokenTtlSec: config.consoles.tokenTtlSec },
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
    identityUrl: () => `${publicUrl}/identity`,
    // The dashboard (dashboard/dist) answers every path no API claims.
    fallback: dashboardFallback(),
    tls,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listenPort, config.listenHost, () => resolve());
  });
  const closeServer = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  const addr = server.address() as AddressInfo;
  const url = `${tls ? 'https' : 'http'}://${config.listenHost}:${addr.port}`;
  // What the catalog and clouds.yaml name: [api] public_url (a load balancer in front of several
  // API processes, all writing the same URL) or this listener.
  const publicUrl = config.publicUrl ?? url;

  let metadata: { close(): Promise<void> } | null = null;
  try {
    await identity.bootstrap({
      publicUrl,
      region: config.region,
      adminPassword: secrets.adminPassword,
      demoPassword: secrets.demoPassword,
      // The service user compute hosts and network agents of a split deployment log in as.
      servicePassword: secrets.servicePassword,
      services: ['identity', 'compute', 'image', 'network', 'placement', 'volume'],
    });
    await image.seed(opts.guest);
    await network.seed();
    await volume.seed();
    // Guests ask the metadata service (through each host's proxy) over this socket.
    if (opts.metadataSocket)
      metadata = await createMetadataServer({
        lookup: lookupByFixedIp({ sql, portByFixedIp: (ip) => network.portByFixedIp(ip) }),
        socketPath: opts.metadataSocket,
      });
    await seedFlavors(sql);
    writeCloudsYaml(config.dataDir, publicUrl, config.region, secrets, { cacert: tls?.caFile });
  } catch (e) {
    await metadata?.close();
    await closeServer();
    throw e;
  }
  let stopping: Promise<void> | null = null;
  return {
    url,
    identity,
    image,
    network,
    volume,
    secrets,
    /** Idempotent. */
    stop() {
      return (stopping ??= (async () => {
        await closeServer();
        await metadata?.close();
      })());
    },
  };
}
