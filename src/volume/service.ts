/**
 * The block storage service (a Cinder v3 subset): its HTTP API (mounted at `/volume`), the
 * VolumeClient the Compute API and compute hosts use, and the start-up seed (the default
 * volume type). The volume files themselves are the volume manager's (src/volume/manager.ts).
 */
import type { Bus } from '../bus/bus.js';
import type { Sql } from '../db/sql.js';
import { Router } from '../http/router.js';
import type { ImageClient } from '../image/client.js';
import type { VolumeClient } from './client.js';

export interface VolumeServiceDeps {
  sql: Sql;
  bus: Bus;
  images: ImageClient;
  /** Zone of volumes created without one (Cinder's default_availability_zone, `nova`). */
  defaultAvailabilityZone?: string;
}

export interface VolumeService {
  router: Router;
  client: VolumeClient;
  /** Creates the default volume type `__DEFAULT__` when there is none. Idempotent. */
  seed(): Promise<void>;
}

export function createVolumeService(deps: VolumeServiceDeps): VolumeService {
  void deps;
  const router = new Router('nova');
  const todo = (): never => {
    throw new Error('volume service: not implemented yet');
  };
  const client: VolumeClient = {
    get: todo, create: todo, waitAvailable: todo, delete: todo, createAttachment: todo, updateAttachment: todo,
    completeAttachment: todo, deleteAttachment: todo, beginDetaching: todo, rollDetaching: todo, attachmentsOf: todo,
  };
  return { router, client, seed: async () => {} };
}
