/**
 * The Image service (a Glance v2 subset): its HTTP API (mounted at `/image`), the ImageApi the
 * Compute API uses acting for a user, and the ImageClient compute hosts and the conductor use
 * with service access. Image data lives in files under dataDir.
 */
import type { Sql } from '../db/sql.js';
import { Router } from '../http/router.js';
import type { RequestContext } from '../http/types.js';
import { mountImages } from './api-images.js';
import { mountMembers } from './api-members.js';
import { mountMeta } from './api-meta.js';
import type { ImageClient } from './client.js';
import { Images } from './images.js';
import { inProcessClient } from './in-process-client.js';
import { listImages, queryParams } from './list-query.js';
import { Members } from './members.js';
import { seedImages } from './seed.js';
import { ImageStore } from './store.js';
import { imageView } from './view.js';

/** An image as the Image API shows it (Glance v2 shape). */
export type ImageView = Record<string, unknown> & { id: string; status: string; name: string | null };

/** What the Compute API needs from the image service, acting for a user. */
export interface ImageApi {
  /** The image if ctx may see it, NotFound otherwise. */
  show(ctx: RequestContext, id: string): Promise<ImageView>;
  /**
   * One page of the images ctx may see. `filters` takes the query parameters of
   * `GET /v2/images` (name, status, visibility, owner, tag, size_min, size_max, min_disk,
   * min_ram, updated_at=gte:<time>, <property>=<value>, limit (default 25, max 1000), marker,
   * sort_key, sort_dir, sort). Invalid (400) for a bad filter or marker.
   */
  list(ctx: RequestContext, filters: Record<string, string>): Promise<ImageView[]>;
  /**
   * Creates a queued image owned by ctx's project (createImage, snapshots). Fields as in
   * `POST /v2/images`; extra property values that are numbers or booleans become strings.
   */
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

/** Stringifies number and boolean values of extra properties; base attributes are left as given. */
function coerceProperties(fields: Record<string, unknown>): Record<string, unknown> {
  const base = new Set(['min_disk', 'min_ram', 'protected', 'os_hidden']);
  return Object.fromEntries(
    Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, !base.has(k) && (typeof v === 'number' || typeof v === 'boolean') ? String(v) : v]),
  );
}

export function createImageService(deps: { sql: Sql; dataDir: string }): ImageService {
  const store = new ImageStore(deps.dataDir);
  const images = new Images(deps.sql, store);
  const members = new Members(deps.sql);

  const router = new Router('glance');
  mountMeta(router);
  mountImages(router, images);
  mountMembers(router, members);

  const api: ImageApi = {
    show: async (ctx, id) => imageView(await images.show(ctx, id)),
    list: async (ctx, filters) => (await listImages(deps.sql, ctx, queryParams(filters))).images.map(imageView),
    create: async (ctx, fields) => imageView(await images.create(ctx, coerceProperties(fields))),
    delete: (ctx, id) => images.delete(ctx, id),
  };

  return {
    router,
    api,
    client: inProcessClient(deps.sql, images),
    seed: () => seedImages(deps.sql, store),
  };
}
