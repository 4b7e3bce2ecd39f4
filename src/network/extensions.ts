/**
 * Version discovery and the extensions this Network API really implements (clients decide
 * what to send by these aliases, so nothing is listed that is not true).
 */
import { NovaError } from '../errors.js';
import type { Router } from '../http/router.js';
import type { ApiRequest } from '../http/types.js';

const UPDATED = '2024-01-01T00:00:00-00:00';

const EXTENSIONS: [alias: string, name: string, description: string][] = [
  ['security-group', 'security-group', 'The security groups extension.'],
  ['quotas', 'Quota management support', 'Expose functions for quotas management per project'],
  ['quota_details', 'Quota details management support', 'Expose functions for quotas usage statistics per project'],
  ['binding', 'Port Binding', 'Expose port bindings of a virtual port to external application'],
  ['port-security', 'Port Security', 'Provides port security'],
  ['network-mtu', 'Network MTU', 'Provides MTU attribute for a network resource.'],
  ['external-net', 'Neutron external network', 'Adds external network attribute to network resource.'],
  ['project-id', 'project_id field enabled', 'Extension that indicates that project_id field is enabled.'],
  ['standard-attr-description', 'standard-attr-description', 'Extension to add descriptions to standard attributes'],
  ['standard-attr-revisions', 'Resource revision numbers', 'This extension will display the revision number of neutron resources.'],
  ['standard-attr-timestamp', 'Resource timestamps', 'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.'],
  ['pagination', 'Pagination support', 'Extension that indicates that pagination is enabled.'],
  ['sorting', 'Sorting support', 'Extension that indicates that sorting is enabled.'],
  ['filter-validation', 'Filter parameters validation', 'Provides validation on filter parameters.'],
];

const view = ([alias, name, description]: (typeof EXTENSIONS)[number]) => ({ alias, name, description, updated: UPDATED, links: [] });

const RESOURCES = ['network', 'subnet', 'port', 'security_group', 'security_group_rule', 'quota'];

function versions(req: ApiRequest) {
  return { versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ href: `${req.baseUrl}/v2.0/`, rel: 'self' }] }] };
}

export function mountExtensions(router: Router): void {
  router.get('/', (req) => ({ status: 200, body: versions(req) }), { auth: false });
  router.get('/v2.0', (req) => ({
    status: 200,
    body: {
      resources: RESOURCES.map((r) => {
        const collection = r === 'quota' ? 'quotas' : `${r}s`;
        return { name: r, collection, links: [{ href: `${req.baseUrl}/v2.0/${collection}`, rel: 'self' }] };
      }),
    },
  }), { auth: false });
  router.get('/v2.0/extensions', () => ({ status: 200, body: { extensions: EXTENSIONS.map(view) } }));
  router.get('/v2.0/extensions/:alias', (req) => {
    const ext = EXTENSIONS.find((e) => e[0] === req.params.alias);
    if (!ext) throw new NovaError('NotFound', `Extension with alias ${req.params.alias} does not exist`, { neutronType: 'HTTPNotFound' });
    return { status: 200, body: { extension: view(ext) } };
  });
}
