/**
 * The Compute API version documents: GET / lists the versions, GET /v2.1 (and the legacy /v2)
 * describes one. No token is needed, as in Nova.
 */
import type { ApiRequest } from '../../http/types.js';
import { COMPUTE_MAX_VERSION, COMPUTE_MIN_VERSION } from '../../http/microversion.js';
import type { MountFn } from './common.js';

type VersionId = 'v2.0' | 'v2.1';

const INFO: Record<VersionId, { status: string; version: string; min_version: string; updated: string; path: string; media: string }> = {
  'v2.0': { status: 'SUPPORTED', version: '', min_version: '', updated: '2011-01-21T11:33:21Z', path: 'v2/', media: 'version=2' },
  'v2.1': {
    status: 'CURRENT',
    version: COMPUTE_MAX_VERSION,
    min_version: COMPUTE_MIN_VERSION,
    updated: '2013-07-23T11:33:21Z',
    path: 'v2.1/',
    media: 'version=2.1',
  },
};

/** The entry of one version in the GET / list (self link only, no media types). */
export function versionSummary(req: ApiRequest, id: VersionId) {
  const v = INFO[id];
  return {
    id,
    status: v.status,
    version: v.version,
    min_version: v.min_version,
    updated: v.updated,
    links: [{ rel: 'self', href: `${req.baseUrl}/${v.path}` }],
  };
}

/** The full document of one version (GET /v2.1). */
export function versionDocument(req: ApiRequest, id: VersionId) {
  const v = INFO[id];
  return {
    ...versionSummary(req, id),
    links: [
      { rel: 'self', href: `${req.baseUrl}/${v.path}` },
      { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' },
    ],
    'media-types': [{ base: 'application/json', type: `application/vnd.openstack.compute+json;${v.media}` }],
  };
}

export const mountVersions: MountFn = (router) => {
  const open = { auth: false } as const;
  router.get('/', (req) => ({ status: 200, body: { versions: [versionSummary(req, 'v2.0'), versionSummary(req, 'v2.1')] } }), open);
  router.get('/v2.1', (req) => ({ status: 200, body: { version: versionDocument(req, 'v2.1') } }), open);
  router.get('/v2', (req) => ({ status: 200, body: { version: versionDocument(req, 'v2.0') } }), open);
};
