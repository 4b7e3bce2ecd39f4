/**
 * The image data store: one file per image under a directory. Writes go to a temporary file
 * that is renamed into place only once complete, so a reader never sees a partial image and a
 * failed write leaves nothing behind. Checksums are computed while the bytes pass.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tooLarge } from '../errors.js';

export interface StoredData {
  path: string;
  size: number;
  /** md5, hex (Glance's `checksum`). */
  checksum: string;
  /** sha512, hex (Glance's `os_hash_value` with `os_hash_algo` sha512). */
  hash: string;
  /** The first bytes of the data (up to 512), for format inspection. */
  head: Buffer;
}

/** A stream that passes bytes through while hashing and counting them, refusing more than max. */
class Hasher extends Transform {
  readonly md5 = createHash('md5');
  readonly sha512 = createHash('sha512');
  size = 0;
  private readonly headChunks: Buffer[] = [];
  private headSize = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    this.size += chunk.length;
    if (this.size > this.max) return cb(tooLarge(`Image exceeds the storage limit of ${this.max} bytes.`));
    this.md5.update(chunk);
    this.sha512.update(chunk);
    if (this.headSize < 512) {
      this.headChunks.push(chunk.subarray(0, 512 - this.headSize));
      this.headSize += Math.min(chunk.length, 512 - this.headSize);
    }
    cb(null, chunk);
  }

  result(path: string): StoredData {
    return { path, size: this.size, checksum: this.md5.digest('hex'), hash: this.sha512.digest('hex'), head: Buffer.concat(this.headChunks) };
  }
}

export class ImageStore {
  constructor(
    readonly dir: string,
    /** Largest image accepted, in bytes (Glance's image_size_cap, 1 TiB). */
    readonly maxSize = 2 ** 40,
  ) {}

  /** Where the data of image id lives once stored. */
  pathOf(id: string): string {
    return join(this.dir, id);
  }

  private tempPath(id: string): string {
    return join(this.dir, `.tmp-${id}-${randomBytes(6).toString('hex')}`);
  }

  /**
   * Writes source to the store as image id. Resolves with the final path and checksums once
   * the file is complete and renamed into place; on any failure the partial file is removed
   * and the error rethrown.
   */
  async write(id: string, source: Readable): Promise<StoredData> {
    await mkdir(this.dir, { recursive: true });
    const tmp = this.tempPath(id);
    const hasher = new Hasher(this.maxSize);
    try {
      await pipeline(source, hasher, createWriteStream(tmp, { flags: 'wx' }));
      const path = this.pathOf(id);
      await rename(tmp, path);
      return hasher.result(path);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Stores an existing local file as image id: hashes it, then moves it in (renaming when on
   * the same filesystem, copying otherwise, in which case the source is left in place).
   */
  async adopt(id: string, source: string): Promise<StoredData> {
    await mkdir(this.dir, { recursive: true });
    const hasher = new Hasher(this.maxSize);
    // Only the hashes are wanted here: the bytes go to a sink that drops them.
    await pipeline(createReadStream(source), hasher, new Writable({ write: (_c, _e, cb) => cb() }));
    const tmp = this.tempPath(id);
    try {
      await rename(source, tmp).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EXDEV') throw e;
        await copyFile(source, tmp);
      });
      const path = this.pathOf(id);
      await rename(tmp, path);
      return hasher.result(path);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  /** Temporary files of writes in progress (or left by a process that died mid-write). */
  async temps(): Promise<{ path: string; imageId: string; mtimeMs: number }[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: { path: string; imageId: string; mtimeMs: number }[] = [];
    for (const name of names) {
      const m = /^\.tmp-(.+)-[0-9a-f]{12}$/.exec(name);
      if (!m) continue;
      const path = join(this.dir, name);
      const st = await stat(path).catch(() => undefined);
      if (st) out.push({ path, imageId: m[1], mtimeMs: st.mtimeMs });
    }
    return out;
  }

  /** The data files in the store (not counting temporary files), by image id. */
  async stored(): Promise<{ imageId: string; mtimeMs: number }[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: { imageId: string; mtimeMs: number }[] = [];
    for (const name of names.filter((n) => !n.startsWith('.'))) {
      const st = await stat(join(this.dir, name)).catch(() => undefined);
      if (st) out.push({ imageId: name, mtimeMs: st.mtimeMs });
    }
    return out;
  }

  /** A stream of the stored file. */
  read(path: string): Readable {
    return createReadStream(path);
  }

  async exists(path: string): Promise<boolean> {
    return stat(path).then(
      () => true,
      () => false,
    );
  }

  /** Removes a stored file. Idempotent. */
  async remove(path: string | null): Promise<void> {
    if (path) await unlink(path).catch(() => undefined);
  }
}
