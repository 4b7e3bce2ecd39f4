/**
 * The service clients over this process's own DB connection and image files: what the
 * all-in-one hands its computes, and what a conductor process serves to remote ones.
 */
import { join } from 'node:path';
import type { Bus } from '../bus/bus.js';
import type { Sql } from '../db/sql.js';
import { createImageService } from '../image/service.js';
import { createNetworkService } from '../network/service.js';
import { createVolumeService } from '../volume/service.js';
import type { ServiceClients } from './clients.js';

export function localServiceClients(deps: { sql: Sql; bus: Bus; dataDir: string; defaultAvailabilityZone: string }): ServiceClients {
  const image = createImageService({ sql: deps.sql, dataDir: join(deps.dataDir, 'images') });
  const network = createNetworkService({ sql: deps.sql, bus: deps.bus });
  const volume = createVolumeService({ sql: deps.sql, bus: deps.bus, images: image.client, defaultAvailabilityZone: deps.defaultAvailabilityZone });
  return { images: image.client, network: network.client, volumes: volume.client, agentSource: network.agentSource };
}
