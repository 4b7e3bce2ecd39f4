/**
 * The service clients a compute host or network agent needs (images, network, volumes, the
 * agent's host state), served by every conductor process (it has the DB) on the bus topic
 * `service-clients` (calls shared round robin), and used remotely by processes without the DB.
 *
 * Version history of the `service-clients` topic (method names `<client>.<method>`):
 *   1.0: images.{get,visibleTo,abandon,remove}; network.{allocateForInstance,rebindPorts,
 *        deallocateForInstance,instanceNetworkInfo,attachInterface,detachInterface};
 *        volumes.* (every VolumeClient method); agentSource.hostState.
 * Image data never crosses the bus: the remote ImageClient's dataPath and uploadFile use the
 * Image API over HTTP with a service token (src/image/remote-data.ts).
 */
import { join } from 'node:path';
import type { Bus } from '../bus/bus.js';
import { DEFAULT_CALL_TIMEOUT_MS } from '../bus/bus.js';
import type { ImageClient } from '../image/client.js';
import { RemoteImageData } from '../image/remote-data.js';
import type { NetworkClient } from '../network/client.js';
import type { HostStateSource } from '../network/types.js';
import type { VolumeClient } from '../volume/client.js';
import { remoteObject, served, serveObjects, type RemoteSpec } from './remote-object.js';
import { ServiceAuth, type ServiceAuthOptions } from './service-auth.js';

export const SERVICE_CLIENTS_TOPIC = 'service-clients';

/** VolumeClient.waitAvailable's own default wait (src/volume/in-process-client.ts). */
const VOLUME_WAIT_DEFAULT_MS = 300_000;
/** Extra time a call that waits gets beyond its wait, for the reply to come back. */
const REPLY_MARGIN_MS = 30_000;

export interface ServiceClients {
  images: ImageClient;
  network: NetworkClient;
  volumes: VolumeClient;
  agentSource: HostStateSource;
}

// The allow-lists: only these methods are served (and proxied).
const IMAGE_METHODS = { get: {}, visibleTo: {}, abandon: {}, remove: {} } satisfies RemoteSpec<ImageClient, 'get' | 'visibleTo' | 'abandon' | 'remove'>;

const NETWORK_METHODS: RemoteSpec<NetworkClient> = {
  allocateForInstance: {},
  rebindPorts: {},
  deallocateForInstance: {},
  instanceNetworkInfo: {},
  attachInterface: {},
  detachInterface: {},
};

const VOLUME_METHODS: RemoteSpec<VolumeClient> = {
  get: {},
  create: {},
  waitAvailable: { timeoutMs: (_id, ms) => (ms ?? VOLUME_WAIT_DEFAULT_MS) + REPLY_MARGIN_MS },
  delete: {},
  createAttachment: {},
  updateAttachment: {},
  completeAttachment: {},
  deleteAttachment: {},
  beginDetaching: {},
  rollDetaching: {},
  attachmentsOf: {},
  createSnapshot: {},
  deleteSnapshot: {},
};

const AGENT_SOURCE_METHODS: RemoteSpec<HostStateSource> = { hostState: { timeoutMs: DEFAULT_CALL_TIMEOUT_MS } };

/** Serves the clients on `service-clients` (run in every conductor process). Returns stop(). */
export function serveServiceClients(bus: Bus, clients: ServiceClients): Promise<() => Promise<void>> {
  return serveObjects(bus, SERVICE_CLIENTS_TOPIC, {
    images: served(clients.images, IMAGE_METHODS),
    network: served(clients.network, NETWORK_METHODS),
    volumes: served(clients.volumes, VOLUME_METHODS),
    agentSource: served(clients.agentSource, AGENT_SOURCE_METHODS),
  });
}

export interface RemoteServiceClientsOptions {
  /** This process's data dir: downloaded images are kept under `<dataDir>/image-cache`. */
  dataDir: string;
  /** The Identity API and the service user that moves image data over the Image API ([service_auth]). */
  imageApi: ServiceAuthOptions;
}

/** The clients of a process without the DB: calls over the bus, image data over the Image API. */
export function remoteServiceClients(bus: Bus, opts: RemoteServiceClientsOptions): ServiceClients {
  const images = remoteObject<ImageClient, keyof typeof IMAGE_METHODS>(bus, SERVICE_CLIENTS_TOPIC, 'images', IMAGE_METHODS);
  const data = new RemoteImageData({ auth: new ServiceAuth(opts.imageApi), cacheDir: join(opts.dataDir, 'image-cache'), get: (id) => images.get(id) });
  return {
    images: {
      ...images,
      dataPath: (id) => data.dataPath(id),
      uploadFile: (id, path, format) => data.uploadFile(id, path, format),
    },
    network: remoteObject(bus, SERVICE_CLIENTS_TOPIC, 'network', NETWORK_METHODS),
    volumes: remoteObject(bus, SERVICE_CLIENTS_TOPIC, 'volumes', VOLUME_METHODS),
    agentSource: remoteObject(bus, SERVICE_CLIENTS_TOPIC, 'agentSource', AGENT_SOURCE_METHODS),
  };
}
