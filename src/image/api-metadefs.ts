/**
 * Metadata definitions (Glance's metadefs catalog), read-only and empty: no namespaces are
 * defined in nova-ts. The dashboard lists them when it builds its metadata editors, so the
 * lists answer (empty) instead of 404; creating definitions is not supported.
 */
import type { Router } from '../http/router.js';

const namespaceSchema = {
  name: 'namespace',
  additionalProperties: false,
  required: ['namespace'],
  properties: {
    namespace: { type: 'string', maxLength: 80, description: 'The unique namespace text.' },
    display_name: { type: 'string', maxLength: 80, description: 'The user friendly name for the namespace.' },
    description: { type: 'string', maxLength: 500, description: 'Provides a user friendly description of the namespace.' },
    visibility: { type: 'string', enum: ['public', 'private'], description: 'Scope of namespace accessibility.' },
    protected: { type: 'boolean', description: 'If true, namespace will not be deletable.' },
    owner: { type: 'string', maxLength: 255, description: 'Owner of the namespace.' },
    created_at: { type: 'string', readOnly: true, format: 'date-time' },
    updated_at: { type: 'string', readOnly: true, format: 'date-time' },
    schema: { type: 'string', readOnly: true },
    self: { type: 'string', readOnly: true },
    resource_type_associations: { type: 'array', items: { type: 'object' } },
    properties: { type: 'object' },
    objects: { type: 'array', items: { type: 'object' } },
    tags: { type: 'array', items: { type: 'object' } },
  },
};

export function mountMetadefs(router: Router): void {
  router.get('/v2/schemas/metadefs/namespace', () => ({ status: 200, body: namespaceSchema }));
  router.get('/v2/schemas/metadefs/namespaces', () => ({
    status: 200,
    body: {
      name: 'namespaces',
      properties: { namespaces: { type: 'array', items: namespaceSchema }, first: { type: 'string' }, next: { type: 'string' }, schema: { type: 'string' } },
      links: [
        { rel: 'first', href: '{first}' },
        { rel: 'next', href: '{next}' },
        { rel: 'describedby', href: '{schema}' },
      ],
    },
  }));
  router.get('/v2/metadefs/namespaces', () => ({
    status: 200,
    body: { namespaces: [], first: '/v2/metadefs/namespaces', schema: '/v2/schemas/metadefs/namespaces' },
  }));
  router.get('/v2/metadefs/resource_types', () => ({ status: 200, body: { resource_types: [] } }));
}
