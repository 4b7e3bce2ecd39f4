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
import { mountMetadefs } from './api-metadefs.js';
import type { ImageClient } from './client.js';
import { Images } from './images.js';
import { inProcessClient } from './in-process-client.js';
import { listImages, queryParams } from './list-query.js';
import { Members } from './members.js';
import { checkWritable, type PatchOp } from './patch.js';
import { recoverUploads } from './recover.js';
import { seedGuestImage, seedImages, type GuestImageFiles } from './seed.js';
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
   * `GET /v2/images` (name, status, visibility, owner, tag, size_min, size_max, min_disk (exact),
   * min_ram (exact), min_disk_min, min_ram_min, updated_at=gte:<time>, <property>=<value>,
   * limit (default 25, max 1000), marker,
   * sort_key, sort_dir, sort). Invalid (400) for a bad filter or marker.
   */
  list(ctx: RequestContext, filters: Record<string, string>): Promise<ImageView[]>;
  /**
   * Creates a queued image owned by ctx's project (createImage, snapshots). Fields as in
   * `POST /v2/images`; extra property values that are numbers or booleans become strings.
   */
  create(ctx: RequestContext, fields: Record<string, unknown>): Promise<ImageView>;
  delete(ctx: RequestContext, id: string): Promise<void>;
  /**
   * Sets and removes extra properties (the Compute API's image metadata) as one change, with
   * the owner-or-admin rule of PATCH. Removing a property that is absent is a Conflict.
   * Optional only so test doubles may omit it; the real service always provides it.
   */
  update?(ctx: RequestContext, id: string, set: Record<string, string>, remove: string[]): Promise<ImageView>;
}

export interface ImageService {
  router: Router;
  api: ImageApi;
  client: ImageClient;
  /**
   * Run at start; idempotent: registers the public image `tiny-linux` when missing, and puts
   * images left `saving` by an interrupted upload back to `queued` (src/image/recover.ts).
   * With `guest` (the built test guest image, for the qemu driver) the real, bootable
   * tiny-linux is registered (replacing the placeholder); without, the placeholder.
   */
  seed(guest?: GuestImageFiles): Promise<void>;
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
  mountMetadefs(router);

  const api: ImageApi = {
    show: async (ctx, id) => imageView(await images.show(ctx, id)),
    list: async (ctx, filters) => (await listImages(deps.sql, ctx, queryParams(filters))).images.map(imageView),
    create: async (ctx, fields) => imageView(await images.create(ctx, coerceProperties(fields))),
    delete: (ctx, id) => images.delete(ctx, id),
    update: async (ctx, id, set, remove) => {
      const ops: PatchOp[] = [
        ...Object.entries(set).map(([attr, value]) => ({ op: 'add' as const, attr, value })),
        ...remove.map((attr) => ({ op: 'remove' as const, attr })),
      ];
      for (const o of ops) checkWritable(o.attr, false);
      return imageView(await images.update(ctx, id, ops));
    },
  };

  return {
    router,
    api,
    client: inProcessClient(deps.sql, images),
    seed: async (guest) => {
      await recoverUploads(deps.sql, store);
      if (guest) await seedGuestImage(deps.sql, store, guest);
      else await seedImages(deps.sql, store);
    },
  };
}
