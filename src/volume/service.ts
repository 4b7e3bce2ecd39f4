/**
 * The block storage service (a Cinder v3 subset): its HTTP API (mounted at `/volume`), the
 * VolumeClient the Compute API and compute hosts use, and the start-up seed (the default
 * volume type). The volume files themselves are the volume manager's (src/volume/manager.ts);
 * this side writes rows and casts work to the chosen volume host (src/volume/rpcapi.ts).
 */
import type { Bus } from '../bus/bus.js';
import type { Sql } from '../db/sql.js';
import { Router } from '../http/router.js';
import type { ImageClient } from '../image/client.js';
import { mountAttachments } from './api/attachments.js';
import { mountAvailabilityZones } from './api/availability-zones.js';
import { mountLimits } from './api/limits.js';
import { mountQuotaSets } from './api/quota-sets.js';
import { mountSnapshots } from './api/snapshots.js';
import { mountTransfers } from './api/transfers.js';
import { mountVersions } from './api/versions.js';
import { mountVolumeActions } from './api/volume-actions.js';
import { mountSnapshotMetadata, mountVolumeMetadata } from './api/volume-metadata.js';
import { mountVolumeTypes, seedDefaultType } from './api/volume-types.js';
import { mountVolumes } from './api/volumes.js';
import type { VolumeClient } from './client.js';
import { inProcessVolumeClient } from './in-process-client.js';
import type { VolumeOpsDeps } from './volume-ops.js';

export interface VolumeServiceDeps {
  sql: Sql;
  bus: Bus;
  images: ImageClient;
  /** Zone of volumes created without one (Cinder's default_availability_zone); `nova` when absent. */
  defaultAvailabilityZone?: string;
}

export interface VolumeService {
  router: Router;
  client: VolumeClient;
  /** Creates the default volume type `__DEFAULT__` when there is none. Idempotent. */
  seed(): Promise<void>;
}

export function createVolumeService(deps: VolumeServiceDeps): VolumeService {
  const ops: VolumeOpsDeps = { sql: deps.sql, bus: deps.bus, images: deps.images, defaultAvailabilityZone: deps.defaultAvailabilityZone ?? 'nova' };
  const router = new Router('nova');
  mountVersions(router);
  mountVolumes(router, ops);
  mountVolumeActions(router, ops);
  mountVolumeMetadata(router, ops);
  mountSnapshots(router, ops);
  mountSnapshotMetadata(router, ops);
  mountVolumeTypes(router, ops);
  mountQuotaSets(router, ops);
  mountLimits(router, ops);
  mountAvailabilityZones(router, ops);
  mountAttachments(router, ops);
  mountTransfers(router, ops);
  return { router, client: inProcessVolumeClient(ops), seed: () => seedDefaultType(ops) };
}
