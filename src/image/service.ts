import type { Sql } from '../db/sql.js';
import { Router } from '../http/router.js';
import type { RequestContext } from '../http/types.js';
import type { ImageClient } from './client.js';
import { notImplemented } from '../errors.js';

/** An image as the Image API shows it (Glance v2 shape). */
export type ImageView = Record<string, unknown> & { id: string; status: string; name: string | null };

/** What the Compute API needs from the image service, acting for a user. */
export interface ImageApi {
  /** The image if ctx may see it, NotFound otherwise. */
  show(ctx: RequestContext, id: string): Promise<ImageView>;
  list(ctx: RequestContext, filters: Record<string, string>): Promise<ImageView[]>;
  /** Creates a queued image owned by ctx's project (createImage). */
  create(ctx: RequestContext, fields: Record<string, unknown>): Promise<ImageView>;
  delete(ctx: RequestContext, id: string): Promise<void>;
}

export interface ImageService {
  router: Router;
  api: ImageApi;
  client: ImageClient;
  /** Idempotent: registers the public image `tiny-linux` when missing. */
  seed(): Promise<void>;
}

export function createImageService(_deps: { sql: Sql; dataDir: string }): ImageService {
  const ni = async (): Promise<never> => {
    throw notImplemented('image');
  };
  return {
    router: new Router('glance'),
    api: { show: ni, list: ni, create: ni, delete: ni },
    client: { get: ni, dataPath: ni, uploadFile: ni, abandon: ni },
    seed: async () => undefined,
  };
}
