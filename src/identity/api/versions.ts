/** Version discovery: GET /identity (300 Multiple Choices) and GET /identity/v3, as Keystone. */
import type { Router } from '../../http/router.js';
import type { ApiRequest } from '../../http/types.js';

function v3(req: ApiRequest) {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${req.baseUrl}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

export function mountVersions(router: Router): void {
  router.get('/', (req) => ({ status: 300, body: { versions: { values: [v3(req)] } } }), { body: 'none' });
  router.get('/v3', (req) => ({ status: 200, body: { version: v3(req) } }), { body: 'none' });
}
