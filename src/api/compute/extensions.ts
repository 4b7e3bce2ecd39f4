/** GET /extensions and /extensions/{alias}: the frozen list of v2.1 extensions (informational). */
import { notFound } from '../../errors.js';
import { API_PREFIX, type MountFn } from './common.js';
import { EXTENSIONS } from './extension-list.js';

const view = ([alias, name, description]: readonly [string, string, string]) => ({
  alias,
  description,
  links: [],
  name,
  namespace: 'http://docs.openstack.org/compute/ext/fake_xml',
  updated: '2014-12-03T00:00:00Z',
});

export const mountExtensions: MountFn = (router) => {
  router.get(`${API_PREFIX}/extensions`, () => ({ status: 200, body: { extensions: EXTENSIONS.map(view) } }));
  router.get(`${API_PREFIX}/extensions/:alias`, (req) => {
    const e = EXTENSIONS.find(([alias]) => alias === req.params.alias);
    if (!e) throw notFound('The resource could not be found.');
    return { status: 200, body: { extension: view(e) } };
  });
};
