/**
 * The catalog as admins manage it: /v3/services, /v3/endpoints (admin-only) and /v3/regions
 * (readable by any authenticated user, as in Keystone). Endpoint URLs are shown raw, with any
 * `$(project_id)s` substitution left in.
 */
import { conflict, invalid, notFound } from '../../errors.js';
import type { Router } from '../../http/router.js';
import { ctxOf, type ApiRequest } from '../../http/types.js';
import { hexId } from '../../util/ids.js';
import { collection, filters, K, link, member, requireAdmin, type IdentityDeps } from './common.js';

interface ServiceRow {
  id: string;
  type: string;
  name: string;
  description: string;
  enabled: number;
}
interface EndpointRow {
  id: string;
  service_id: string;
  interface: string;
  region_id: string | null;
  url: string;
  enabled: number;
}
interface RegionRow {
  id: string;
  description: string;
  parent_region_id: string | null;
}

const serviceSchema = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string', minLength: 1, maxLength: 255 }, name: { type: 'string', maxLength: 255 }, description: K.description, enabled: K.boolean },
};
const endpointSchema = {
  type: 'object',
  required: ['interface', 'service_id', 'url'],
  properties: {
    interface: { type: 'string', enum: ['public', 'internal', 'admin'] },
    service_id: { type: 'string', minLength: 1, maxLength: 64 },
    url: { type: 'string', minLength: 1, maxLength: 225, pattern: '^[a-zA-Z0-9+.-]+:.+' },
    region_id: { type: ['string', 'null'], maxLength: 255 },
    region: { type: ['string', 'null'], maxLength: 255 },
    enabled: K.boolean,
  },
};
const regionSchema = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 255 }, description: K.description, parent_region_id: { type: ['string', 'null'] } },
};

const serviceView = (req: ApiRequest, s: ServiceRow) => ({
  id: s.id,
  type: s.type,
  name: s.name,
  description: s.description,
  enabled: !!s.enabled,
  links: { self: link(req, `services/${s.id}`) },
});
const endpointView = (req: ApiRequest, e: EndpointRow) => ({
  id: e.id,
  interface: e.interface,
  region_id: e.region_id,
  region: e.region_id,
  service_id: e.service_id,
  url: e.url,
  enabled: !!e.enabled,
  links: { self: link(req, `endpoints/${e.id}`) },
});
const regionView = (req: ApiRequest, r: RegionRow) => ({
  id: r.id,
  description: r.description,
  parent_region_id: r.parent_region_id,
  links: { self: link(req, `regions/${r.id}`) },
});

export function mountCatalogAdmin(router: Router, { sql }: IdentityDeps): void {
  const mustService = async (id: string) => {
    const s = await sql.get<ServiceRow>('SELECT * FROM catalog_services WHERE id = ?', [id]);
    if (!s) throw notFound(`Could not find service: ${id}.`);
    return s;
  };

  router.get('/v3/services', async (req) => {
    requireAdmin(ctxOf(req), 'identity:list_services');
    const f = filters(req, { type: 'type', name: 'name' });
    const rows = await sql.all<ServiceRow>(`SELECT * FROM catalog_services ${f.where} ORDER BY type, id`, f.params);
    return { status: 200, body: collection(req, 'services', rows.map((s) => serviceView(req, s))) };
  }, { auth: true });

  router.post('/v3/services', async (req) => {
    requireAdmin(ctxOf(req), 'identity:create_service');
    const b = member<{ type: string; name?: string; description?: string | null; enabled?: boolean }>(req, 'service', serviceSchema);
    const row: ServiceRow = { id: hexId(), type: b.type, name: b.name ?? '', description: b.description ?? '', enabled: b.enabled === false ? 0 : 1 };
    await sql.run('INSERT INTO catalog_services (id, type, name, description, enabled) VALUES (?, ?, ?, ?, ?)', [row.id, row.type, row.name, row.description, row.enabled]);
    return { status: 201, body: { service: serviceView(req, row) } };
  }, { auth: true });

  router.get('/v3/services/:id', async (req) => {
    requireAdmin(ctxOf(req), 'identity:get_service');
    return { status: 200, body: { service: serviceView(req, await mustService(req.params.id)) } };
  }, { auth: true });

  router.delete('/v3/services/:id', async (req) => {
    requireAdmin(ctxOf(req), 'identity:delete_service');
    const s = await mustService(req.params.id);
    await sql.tx(async (tx) => {
      await tx.run('DELETE FROM catalog_endpoints WHERE service_id = ?', [s.id]);
      await tx.run('DELETE FROM catalog_services WHERE id = ?', [s.id]);
    });
    return { status: 204 };
  }, { auth: true });

  router.get('/v3/endpoints', async (req) => {
    requireAdmin(ctxOf(req), 'identity:list_endpoints');
    const f = filters(req, { interface: 'interface', service_id: 'service_id', region_id: 'region_id' });
    const rows = await sql.all<EndpointRow>(`SELECT * FROM catalog_endpoints ${f.where} ORDER BY service_id, interface, id`, f.params);
    return { status: 200, body: collection(req, 'endpoints', rows.map((e) => endpointView(req, e))) };
  }, { auth: true });

  router.post('/v3/endpoints', async (req) => {
    requireAdmin(ctxOf(req), 'identity:create_endpoint');
    const b = member<{ interface: string; service_id: string; url: string; region_id?: string | null; region?: string | null; enabled?: boolean }>(
      req,
      'endpoint',
      endpointSchema,
    );
    const regionId = b.region_id ?? b.region ?? null;
    if (!(await sql.get('SELECT id FROM catalog_services WHERE id = ?', [b.service_id]))) throw invalid(`Could not find service: ${b.service_id}.`);
    if (regionId !== null && !(await sql.get('SELECT id FROM regions WHERE id = ?', [regionId]))) throw invalid(`Could not find region: ${regionId}.`);
    const row: EndpointRow = { id: hexId(), service_id: b.service_id, interface: b.interface, region_id: regionId, url: b.url, enabled: b.enabled === false ? 0 : 1 };
    await sql.run('INSERT INTO catalog_endpoints (id, service_id, interface, region_id, url, enabled) VALUES (?, ?, ?, ?, ?, ?)', [
      row.id,
      row.service_id,
      row.interface,
      row.region_id,
      row.url,
      row.enabled,
    ]);
    return { status: 201, body: { endpoint: endpointView(req, row) } };
  }, { auth: true });

  router.get('/v3/endpoints/:id', async (req) => {
    requireAdmin(ctxOf(req), 'identity:get_endpoint');
    const e = await sql.get<EndpointRow>('SELECT * FROM catalog_endpoints WHERE id = ?', [req.params.id]);
    if (!e) throw notFound(`Could not find endpoint: ${req.params.id}.`);
    return { status: 200, body: { endpoint: endpointView(req, e) } };
  }, { auth: true });

  router.delete('/v3/endpoints/:id', async (req) => {
    requireAdmin(ctxOf(req), 'identity:delete_endpoint');
    const r = await sql.run('DELETE FROM catalog_endpoints WHERE id = ?', [req.params.id]);
    if (r.changes === 0) throw notFound(`Could not find endpoint: ${req.params.id}.`);
    return { status: 204 };
  }, { auth: true });

  router.get('/v3/regions', async (req) => {
    const f = filters(req, { parent_region_id: 'parent_region_id' });
    const rows = await sql.all<RegionRow>(`SELECT * FROM regions ${f.where} ORDER BY id`, f.params);
    return { status: 200, body: collection(req, 'regions', rows.map((r) => regionView(req, r))) };
  }, { auth: true });

  router.get('/v3/regions/:id', async (req) => {
    const r = await sql.get<RegionRow>('SELECT * FROM regions WHERE id = ?', [req.params.id]);
    if (!r) throw notFound(`Could not find region: ${req.params.id}.`);
    return { status: 200, body: { region: regionView(req, r) } };
  }, { auth: true });

  router.post('/v3/regions', async (req) => {
    requireAdmin(ctxOf(req), 'identity:create_region');
    const b = member<{ id?: string; description?: string | null; parent_region_id?: string | null }>(req, 'region', regionSchema);
    const row: RegionRow = { id: b.id ?? hexId(), description: b.description ?? '', parent_region_id: b.parent_region_id ?? null };
    if (row.parent_region_id && !(await sql.get('SELECT id FROM regions WHERE id = ?', [row.parent_region_id])))
      throw notFound(`Could not find region: ${row.parent_region_id}.`);
    if (await sql.get('SELECT id FROM regions WHERE id = ?', [row.id])) throw conflict(`Conflict occurred attempting to store region - Duplicate ID, ${row.id}.`);
    await sql.run('INSERT INTO regions (id, description, parent_region_id) VALUES (?, ?, ?)', [row.id, row.description, row.parent_region_id]);
    return { status: 201, body: { region: regionView(req, row) } };
  }, { auth: true });
}
