/** Block Storage version documents: `/` (300 Multiple Choices, as Cinder) and `/v3/`. No token needed. */
import type { Router } from '../../http/router.js';
import type { ApiRequest } from '../../http/types.js';
import { VOLUME_MAX_VERSION, VOLUME_MIN_VERSION } from './context.js';

function v3(req: ApiRequest) {
  return {
    id: 'v3.0',
    status: 'CURRENT',
    version: VOLUME_MAX_VERSION,
    min_version: VOLUME_MIN_VERSION,
    updated: '2022-08-31T00:00:00Z',
    links: [
      { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
      { rel: 'self', href: `${req.baseUrl}/v3/` },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
  };
}

export function mountVersions(router: Router): void {
  router.get('/', (req) => ({ status: 300, body: { versions: [v3(req)] } }), { auth: false });
  router.get('/v3', (req) => ({ status: 200, body: { versions: [v3(req)] } }), { auth: false });
}
