/**
 * Image operations acting for a user: create, show, update (patch), delete, tags, and the
 * status machine of image data (queued -> saving -> active, back to queued when an upload
 * fails; deactivated <-> active by admins). Shared by the HTTP API and the in-process ImageApi.
 */
import type { Readable } from 'node:stream';
import type { Sql } from '../db/sql.js';
import { NovaError, conflict, forbidden, invalid, notFound, tooLarge } from '../errors.js';
import type { RequestContext } from '../http/types.js';
import { validate } from '../http/validate.js';
import { uuid } from '../util/ids.js';
import { nowIso } from '../util/time.js';
import { notAuthorized, requireOwner, requireWriter, visibleImage } from './access.js';
import { BASE_ATTRS, PROPERTY_QUOTA, TAG_QUOTA, type ImageRecord, type MutableFields } from './model.js';
import { applyPatch, checkWritable, type Draft, type PatchOp } from './patch.js';
import { addTagRow, countTags, idTaken, insertImage, markDeleted, removeTagRow, saveProperties, saveTags, updateImage } from './repo.js';
import { imageWriteSchema } from './schemas.js';
import type { ImageStore, StoredData } from './store.js';
import { virtualSize } from './virtual-size.js';

/** Checks writable fields against the image schema and splits base attributes from extra properties. */
export function checkFields(obj: Record<string, unknown>): MutableFields {
  try {
    validate(imageWriteSchema, obj);
  } catch (e) {
    if (e instanceof NovaError) throw invalid(`Provided object does not match schema 'image': ${e.message}`);
    throw e;
  }
  const out: MutableFields = { properties: {} };
  for (const [k, v] of Object.entries(obj)) {
    if (BASE_ATTRS.has(k)) (out as Record<string, unknown>)[k] = v;
    else out.properties![k] = v as string;
  }
  if (Object.keys(out.properties!).length > PROPERTY_QUOTA)
    throw tooLarge(`Maximum number of properties exceeded: an image may have at most ${PROPERTY_QUOTA} extra properties.`);
  if (out.tags) {
    out.tags = [...new Set(out.tags)];
    if (out.tags.length > TAG_QUOTA) throw tooLarge(`Maximum number of tags exceeded: an image may have at most ${TAG_QUOTA} tags.`);
  }
  return out;
}

export class Images {
  constructor(
    readonly sql: Sql,
    readonly store: ImageStore,
  ) {}

  /** Registers a queued image owned by ctx's project (or `owner`, for admins). */
  async create(ctx: RequestContext, body: unknown): Promise<ImageRecord> {
    requireWriter(ctx, 'add_image');
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid('Body expected in request: a JSON object.');
    for (const k of Object.keys(body)) checkWritable(k, true);
    const f = checkFields(body as Record<string, unknown>);
    const visibility = f.visibility ?? 'shared';
    if (visibility === 'public' && !ctx.isAdmin) throw notAuthorized('publicize_image');
    const owner = f.owner === undefined ? ctx.projectId : f.owner;
    if (owner !== ctx.projectId && !ctx.isAdmin) throw forbidden(`You are not permitted to create images owned by '${owner}'.`);
    const id = f.id ?? uuid();
    const now = nowIso();
    const r: ImageRecord = {
      id,
      name: f.name ?? null,
      owner,
      status: 'queued',
      visibility,
      protected: f.protected ?? false,
      os_hidden: f.os_hidden ?? false,
      disk_format: f.disk_format ?? null,
      container_format: f.container_format ?? null,
      size: null,
      virtual_size: null,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      min_disk: f.min_disk ?? 0,
      min_ram: f.min_ram ?? 0,
      properties: f.properties ?? {},
      tags: f.tags ?? [],
      file_path: null,
      created_at: now,
      updated_at: now,
    };
    await this.sql.tx(async (tx) => {
      if (await idTaken(tx, id)) throw conflict(`Image with identifier ${id} already exists!`);
      await insertImage(tx, r);
    });
    return r;
  }

  show(ctx: RequestContext, id: string): Promise<ImageRecord> {
    return visibleImage(this.sql, ctx, id);
  }

  /** Applies a JSON patch as one change: all of it or nothing. */
  async update(ctx: RequestContext, id: string, ops: PatchOp[]): Promise<ImageRecord> {
    const r = await visibleImage(this.sql, ctx, id);
    requireOwner(ctx, r, 'modify_image');
    const draft: Draft = {
      name: r.name,
      visibility: r.visibility,
      protected: r.protected,
      os_hidden: r.os_hidden,
      min_disk: r.min_disk,
      min_ram: r.min_ram,
      disk_format: r.disk_format,
      container_format: r.container_format,
      tags: r.tags,
      owner: r.owner,
      properties: r.properties,
    };
    const next = applyPatch(draft, ops);
    const { properties, ...base } = next;
    const f = checkFields({ ...properties, ...base });
    if (f.visibility === 'public' && r.visibility !== 'public' && !ctx.isAdmin) throw notAuthorized('publicize_image');
    if (f.owner !== r.owner && !ctx.isAdmin) throw forbidden("You are not permitted to modify 'owner' on this image.");
    for (const k of ['disk_format', 'container_format'] as const)
      if (f[k] !== r[k] && r.status !== 'queued') throw forbidden(`Attribute ${k} can be only replaced for a queued image.`);
    const now = nowIso();
    await this.sql.tx(async (tx) => {
      const ok = await updateImage(tx, id, {
        name: f.name ?? null,
        visibility: f.visibility!,
        protected: f.protected!,
        os_hidden: f.os_hidden!,
        min_disk: f.min_disk!,
        min_ram: f.min_ram!,
        disk_format: f.disk_format ?? null,
        container_format: f.container_format ?? null,
        owner: f.owner ?? null,
        updated_at: now,
      });
      if (!ok) throw notFound(`No image found with ID ${id}`);
      await saveProperties(tx, id, f.properties ?? {});
      await saveTags(tx, id, f.tags ?? []);
    });
    return this.show(ctx, id);
  }

  /** Deletes an image the caller owns, unless protected, and removes its data. */
  async delete(ctx: RequestContext, id: string): Promise<void> {
    const r = await visibleImage(this.sql, ctx, id);
    requireOwner(ctx, r, 'delete_image');
    if (r.protected) throw forbidden(`Image ${id} is protected and cannot be deleted.`);
    await markDeleted(this.sql, id, nowIso());
    await this.store.remove(r.file_path);
  }

  async addTag(ctx: RequestContext, id: string, tag: string): Promise<void> {
    const r = await visibleImage(this.sql, ctx, id);
    requireOwner(ctx, r, 'modify_image');
    if (tag.length > 255) throw invalid(`Provided object does not match schema 'image': '${tag}' is too long`);
    await this.sql.tx(async (tx) => {
      if ((await countTags(tx, id)) >= TAG_QUOTA && !r.tags.includes(tag))
        throw tooLarge(`Maximum number of tags exceeded: an image may have at most ${TAG_QUOTA} tags.`);
      if (await addTagRow(tx, id, tag)) await updateImage(tx, id, { updated_at: nowIso() });
    });
  }

  async removeTag(ctx: RequestContext, id: string, tag: string): Promise<void> {
    const r = await visibleImage(this.sql, ctx, id);
    requireOwner(ctx, r, 'modify_image');
    await this.sql.tx(async (tx) => {
      if (!(await removeTagRow(tx, id, tag))) throw notFound(`Tag ${tag} not found on image ${id}.`);
      await updateImage(tx, id, { updated_at: nowIso() });
    });
  }

  /**
   * Stores data for a queued image the caller owns: saving while the bytes arrive, active with
   * size and checksums once complete. On failure the image is queued again and nothing is kept.
   */
  async upload(ctx: RequestContext, id: string, data: Readable): Promise<void> {
    const r = await visibleImage(this.sql, ctx, id);
    requireOwner(ctx, r, 'upload_image');
    await this.receive(r, (store) => store.write(id, data), {});
  }

  /** The status machine around one data write; `format` overrides the formats (snapshots). */
  async receive(
    r: ImageRecord,
    write: (store: ImageStore) => Promise<StoredData>,
    format: { disk_format?: string; container_format?: string },
  ): Promise<void> {
    const diskFormat = format.disk_format ?? r.disk_format;
    if (!diskFormat || !(format.container_format ?? r.container_format))
      throw invalid('Properties disk_format, container_format must be set prior to saving data.');
    if (!(await updateImage(this.sql, r.id, { status: 'saving', updated_at: nowIso() }, 'queued')))
      throw conflict(`Image status transition from ${r.status} to saving is not allowed`);
    let stored: StoredData;
    try {
      stored = await write(this.store);
    } catch (e) {
      await updateImage(this.sql, r.id, { status: 'queued', updated_at: nowIso() }, 'saving');
      if (e instanceof NovaError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || (e as Error).message === 'aborted')
        throw invalid('The image data upload was interrupted before it completed; the image is queued again.');
      throw e;
    }
    const done = await updateImage(
      this.sql,
      r.id,
      {
        status: 'active',
        size: stored.size,
        virtual_size: virtualSize(diskFormat, stored.head, stored.size),
        checksum: stored.checksum,
        os_hash_algo: 'sha512',
        os_hash_value: stored.hash,
        file_path: stored.path,
        ...format,
        updated_at: nowIso(),
      },
      'saving',
    );
    if (!done) {
      await this.store.remove(stored.path);
      throw conflict(`Image ${r.id} could not be found after upload. The image may have been deleted during the upload.`);
    }
  }

  /** The image and a stream of its data, or null data when it has none (queued). */
  async download(ctx: RequestContext, id: string): Promise<{ image: ImageRecord; data: Readable | null }> {
    const r = await visibleImage(this.sql, ctx, id);
    if (r.status === 'deactivated' && !ctx.isAdmin)
      throw forbidden('The requested image has been deactivated. Image data download is forbidden.');
    if (!r.file_path || (r.status !== 'active' && r.status !== 'deactivated')) return { image: r, data: null };
    if (!(await this.store.exists(r.file_path))) throw notFound(`The data of image ${id} is missing from the store.`);
    return { image: r, data: this.store.read(r.file_path) };
  }

  /** Owner or admin: active <-> deactivated (only admins download deactivated data). Idempotent in the target state. */
  async setActive(ctx: RequestContext, id: string, active: boolean): Promise<void> {
    const r = await visibleImage(this.sql, ctx, id);
    requireOwner(ctx, r, active ? 'reactivate' : 'deactivate');
    const from = active ? 'deactivated' : 'active';
    const to = active ? 'active' : 'deactivated';
    if (r.status === to) return;
    if (r.status !== from) throw forbidden(`Not allowed to ${active ? 'reactivate' : 'deactivate'} image in status '${r.status}'`);
    await updateImage(this.sql, id, { status: to, updated_at: nowIso() }, from);
  }
}
