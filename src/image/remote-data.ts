/**
 * Image data for a process without the image store (a compute host, a volume host elsewhere):
 * downloads and uploads over the Image API with a service token (and the service auth's fetch:
 * with [service_auth] cafile, https trusting the cloud's CA).
 *
 * - dataPath(id): the image's data as a local file `<cacheDir>/<id>`. Downloaded once (to a
 *   temporary file, md5 checked against the image's checksum, then renamed into place), reused
 *   while present; concurrent callers of one image share one download. Conflict when the
 *   image has no data (not active), NotFound when it is gone, ServiceUnavailable when the
 *   transfer fails or the data does not match its checksum (nothing is left behind).
 * - uploadFile(id, path, format): sets the queued image's disk and container format, then
 *   PUTs the file; the image is active when it resolves.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { conflict, invalid, unavailable } from '../errors.js';
import { apiError } from '../rpc/http-errors.js';
import type { ServiceAuth } from '../rpc/service-auth.js';
import type { ImageMeta } from '../virt/driver.js';

export interface RemoteImageDataDeps {
  auth: ServiceAuth;
  /** Where downloaded images are kept (`<data_dir>/image-cache`). */
  cacheDir: string;
  /** Image metadata (the remote ImageClient's get): the checksum the download must match. */
  get(id: string): Promise<ImageMeta>;
}

const IMAGE_ID = /^[A-Za-z0-9-]{1,64}$/;

export class RemoteImageData {
  private readonly downloads = new Map<string, Promise<string>>();

  constructor(private readonly deps: RemoteImageDataDeps) {}

  async dataPath(id: string): Promise<string> {
    // The id names a file: never let it name one outside the cache.
    if (!IMAGE_ID.test(id)) throw invalid(`Invalid image id ${JSON.stringify(id)}.`);
    let p = this.downloads.get(id);
    if (!p) {
      p = this.fetchOnce(id).finally(() => this.downloads.delete(id));
      this.downloads.set(id, p);
    }
    return p;
  }

  private async fetchOnce(id: string): Promise<string> {
    const meta = await this.deps.get(id);
    const path = join(this.deps.cacheDir, id);
    const have = await stat(path).catch(() => undefined);
    if (have && (meta.size === null || have.size === meta.size)) return path;
    if (!meta.checksum) throw conflict(`Image ${id} is not active: it has no data to read.`);
    await mkdir(this.deps.cacheDir, { recursive: true });
    const tmp = join(this.deps.cacheDir, `.tmp-${id}-${randomBytes(6).toString('hex')}`);
    try {
      const r = await this.send('GET', `/v2/images/${id}/file`, {}, () => undefined);
      if (r.status === 204) throw conflict(`Image ${id} is not active: it has no data to read.`);
      if (r.status !== 200 || !r.body) throw await apiError(r, `Downloading image ${id}`);
      const md5 = createHash('md5');
      const hash = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          md5.update(chunk);
          cb(null, chunk);
        },
      });
      await pipeline(Readable.fromWeb(r.body as WebReadableStream<Uint8Array>), hash, createWriteStream(tmp, { flags: 'wx' })).catch((e: Error) => {
        throw unavailable(`Downloading image ${id} was interrupted: ${e.message}.`);
      });
      const got = md5.digest('hex');
      if (got !== meta.checksum)
        throw unavailable(`The data of image ${id} downloaded from the Image API does not match its checksum (md5 ${got}, expected ${meta.checksum}).`);
      await rename(tmp, path);
      return path;
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  async uploadFile(id: string, path: string, format: { disk_format: string; container_format: string }): Promise<void> {
    const patch = await this.send(
      'PATCH',
      `/v2/images/${encodeURIComponent(id)}`,
      { 'content-type': 'application/openstack-images-v2.1-json-patch' },
      () =>
        JSON.stringify([
          { op: 'replace', path: '/disk_format', value: format.disk_format },
          { op: 'replace', path: '/container_format', value: format.container_format },
        ]),
    );
    if (patch.status !== 200) throw await apiError(patch, `Setting the formats of image ${id}`);
    await patch.body?.cancel();
    const size = (await stat(path)).size;
    const put = await this.send(
      'PUT',
      `/v2/images/${encodeURIComponent(id)}/file`,
      { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      () => Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>,
    );
    if (put.status !== 204) throw await apiError(put, `Uploading image ${id}`);
  }

  /**
   * One request to the Image API with the service token; a 401 (token revoked) logs in again
   * and retries once with a fresh body.
   */
  private async send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: () => string | ReadableStream<Uint8Array> | undefined,
  ): Promise<Response> {
    const { auth } = this.deps;
    for (let attempt = 0; ; attempt++) {
      const token = await auth.token();
      const base = await auth.endpoint('image');
      const b = body();
      let r: Response;
      try {
        r = await auth.fetch(base + path, {
          method,
          headers: { ...headers, 'x-auth-token': token },
          body: b,
          ...(b instanceof ReadableStream ? { duplex: 'half' } : {}),
        } as RequestInit);
      } catch (e) {
        throw unavailable(`Cannot reach the Image API at ${base}: ${auth.failure(e)}.`);
      }
      if (r.status !== 401 || attempt > 0) return r;
      await r.body?.cancel();
      auth.invalidate(token);
    }
  }
}
