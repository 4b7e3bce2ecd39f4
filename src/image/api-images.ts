/** Routes of images, their tags, data and actions (`/v2/images...`). */
import { NovaError, methodNotAllowed } from '../errors.js';
import { imageNotFound } from './access.js';
import type { Router } from '../http/router.js';
import { ctxOf, type ApiRequest } from '../http/types.js';
import type { Images } from './images.js';
import { listImages, queryParams } from './list-query.js';
import { PATCH_TYPES, parsePatch } from './patch.js';
import { imageView } from './view.js';

const mediaType = (req: ApiRequest): string => String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
const unsupported = (msg: string) => new NovaError('UnsupportedMediaType', msg);

/** `first` and `next` links: the request's own query without (or with a new) marker. */
function pageLinks(req: ApiRequest, nextMarker: string | null): { first: string; next?: string } {
  const q = new URLSearchParams(req.query);
  q.delete('marker');
  const qs = q.toString();
  const out: { first: string; next?: string } = { first: `/v2/images${qs ? `?${qs}` : ''}` };
  if (nextMarker) {
    q.set('marker', nextMarker);
    out.next = `/v2/images?${q.toString()}`;
  }
  return out;
}

export function mountImages(router: Router, images: Images): void {
  router.get('/v2/images', async (req) => {
    if (req.path.endsWith('/')) throw imageNotFound('');
    const page = await listImages(images.sql, ctxOf(req), queryParams(req.query));
    const links = pageLinks(req, page.nextMarker);
    return { status: 200, body: { images: page.images.map(imageView), ...links, schema: '/v2/schemas/images' } };
  });

  // `DELETE /v2/images/` (an empty id) is a 404 as in Glance; the collection itself has no DELETE.
  router.delete('/v2/images', async (req) => {
    if (req.path.endsWith('/')) throw imageNotFound('');
    throw methodNotAllowed();
  });

  router.post('/v2/images', async (req) => {
    const r = await images.create(ctxOf(req), req.body);
    return { status: 201, body: imageView(r), headers: { location: `${req.baseUrl}/v2/images/${r.id}` } };
  });

  router.get('/v2/images/:id', async (req) => ({ status: 200, body: imageView(await images.show(ctxOf(req), req.params.id)) }));

  router.patch(
    '/v2/images/:id',
    async (req) => {
      if (!PATCH_TYPES.includes(mediaType(req)))
        throw unsupported(`Unsupported Content-Type for PATCH: use ${PATCH_TYPES[0]}.`);
      const ops = parsePatch(req.body, mediaType(req));
      return { status: 200, body: imageView(await images.update(ctxOf(req), req.params.id, ops)) };
    },
    { jsonTypes: PATCH_TYPES },
  );

  router.delete('/v2/images/:id', async (req) => {
    await images.delete(ctxOf(req), req.params.id);
    return { status: 204 };
  });

  router.put(
    '/v2/images/:id/file',
    async (req) => {
      if (mediaType(req) !== 'application/octet-stream') {
        req.raw.resume();
        throw unsupported('Content-Type must be application/octet-stream to upload image data.');
      }
      await images.upload(ctxOf(req), req.params.id, req.raw);
      return { status: 204 };
    },
    { body: 'raw' },
  );

  router.get('/v2/images/:id/file', async (req) => {
    const { image, data } = await images.download(ctxOf(req), req.params.id);
    if (!data) return { status: 204 };
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'content-length': String(image.size ?? 0) };
    if (image.checksum) headers['content-md5'] = image.checksum;
    return { status: 200, headers, stream: data };
  });

  router.put(
    '/v2/images/:id/tags/:tag',
    async (req) => {
      await images.addTag(ctxOf(req), req.params.id, req.params.tag);
      return { status: 204 };
    },
    { body: 'none' },
  );
  router.delete('/v2/images/:id/tags/:tag', async (req) => {
    await images.removeTag(ctxOf(req), req.params.id, req.params.tag);
    return { status: 204 };
  });

  router.post(
    '/v2/images/:id/actions/deactivate',
    async (req) => {
      await images.setActive(ctxOf(req), req.params.id, false);
      return { status: 204 };
    },
    { body: 'none' },
  );
  router.post(
    '/v2/images/:id/actions/reactivate',
    async (req) => {
      await images.setActive(ctxOf(req), req.params.id, true);
      return { status: 204 };
    },
    { body: 'none' },
  );
}
