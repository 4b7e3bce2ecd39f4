/** Version documents, JSON schemas and discovery answers of the Image API. */
import type { Router } from '../http/router.js';
import type { ApiRequest } from '../http/types.js';
import { imageSchema, imagesSchema, memberSchema, membersSchema } from './schemas.js';

/** Newest first: v2.7 brings os_hidden and the multihash (os_hash_algo/os_hash_value) this API serves. */
const VERSIONS = ['2.7', '2.6', '2.5', '2.4', '2.3', '2.2', '2.1', '2.0'];

export function versionsDoc(req: ApiRequest) {
  return {
    versions: VERSIONS.map((v, i) => ({
      id: `v${v}`,
      status: i === 0 ? 'CURRENT' : 'SUPPORTED',
      links: [{ rel: 'self', href: `${req.baseUrl}/v2/` }],
    })),
  };
}

export function mountMeta(router: Router): void {
  // Like Glance: the root answers 300 Multiple Choices, /versions 200; neither needs a token.
  router.get('/', (req) => ({ status: 300, body: versionsDoc(req) }), { auth: false });
  router.get('/versions', (req) => ({ status: 200, body: versionsDoc(req) }), { auth: false });
  router.get('/v2', (req) => ({ status: 300, body: versionsDoc(req) }), { auth: false });

  router.get('/v2/schemas/image', () => ({ status: 200, body: imageSchema }));
  router.get('/v2/schemas/images', () => ({ status: 200, body: imagesSchema }));
  router.get('/v2/schemas/member', () => ({ status: 200, body: memberSchema }));
  router.get('/v2/schemas/members', () => ({ status: 200, body: membersSchema }));

  // No interoperable import: images are created and their data uploaded with PUT /file.
  router.get('/v2/info/import', () => ({
    status: 200,
    body: {
      'import-methods': { description: 'Import methods available.', type: 'array', value: [] },
    },
  }));
  router.get('/v2/info/stores', () => ({
    status: 200,
    body: { stores: [{ id: 'file', description: 'Local file store', default: true }] },
  }));
}
