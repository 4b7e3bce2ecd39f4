import type { Bus } from '../../bus/bus.js';
import type { Config } from '../../config.js';
import type { Sql } from '../../db/sql.js';
import type { ImageApi } from '../../image/service.js';
import type { NetworkApi, NetworkClient } from '../../network/client.js';
import type { VolumeClient } from '../../volume/client.js';

export interface ComputeApiDeps {
  sql: Sql;
  bus: Bus;
  images: ImageApi;
  identity: { projectExists(id: string): Promise<boolean> };
  config: Config;
  /**
   * The network service (networks, ports, security groups). Absent: server create accepts only
   * networks 'none'/'auto', and the networking APIs answer that networking is not available.
   */
  network?: { api: NetworkApi; client: NetworkClient };
  /** The block storage service. Absent: volume APIs and volume BDMs answer that volumes are not available. */
  volumes?: VolumeClient;
  /**
   * Remote consoles: the base URL of the console proxy (e.g. http://127.0.0.1:6080; https with
   * --tls), read at request time since the proxy may listen after the API. Absent: consoles
   * answer that they are not available.
   */
  consoles?: { proxyUrl(): string; tokenTtlSec: number };
}
