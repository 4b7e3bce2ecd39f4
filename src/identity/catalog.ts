/**
 * The service catalog as tokens carry it: every enabled service with its enabled endpoints.
 * Endpoint URLs may hold Keystone's substitutions `$(project_id)s` / `%(project_id)s` (and the
 * tenant_id spellings); they are filled in for a project-scoped token, and endpoints that
 * cannot be filled in are left out, as Keystone does.
 */
import type { Sql } from '../db/sql.js';

export interface CatalogEndpoint {
  id: string;
  interface: string;
  region_id: string | null;
  url: string;
  region: string | null;
}

export interface CatalogEntry {
  endpoints: CatalogEndpoint[];
  id: string;
  type: string;
  name: string;
}

interface Row {
  service_id: string;
  type: string;
  name: string;
  endpoint_id: string | null;
  interface: string | null;
  region_id: string | null;
  url: string | null;
}

const SUBST = /[$%]\((project_id|tenant_id)\)s/g;
const HAS_SUBST = /[$%]\((project_id|tenant_id)\)s/;

/** Fills in URL substitutions; null when the URL needs a project and there is none. */
export function substituteUrl(url: string, projectId: string | null): string | null {
  if (!HAS_SUBST.test(url)) return url;
  return projectId === null ? null : url.replace(SUBST, projectId);
}

/** The catalog for a token scoped to projectId (null for a domain-scoped token). */
export async function buildCatalog(sql: Sql, projectId: string | null): Promise<CatalogEntry[]> {
  const rows = await sql.all<Row>(
    `SELECT s.id AS service_id, s.type, s.name, e.id AS endpoint_id, e.interface, e.region_id, e.url
     FROM catalog_services s LEFT JOIN catalog_endpoints e ON e.service_id = s.id AND e.enabled = 1
     WHERE s.enabled = 1 ORDER BY s.type, s.id, e.interface, e.id`,
  );
  const out: CatalogEntry[] = [];
  const byId = new Map<string, CatalogEntry>();
  for (const r of rows) {
    let entry = byId.get(r.service_id);
    if (!entry) {
      entry = { endpoints: [], id: r.service_id, type: r.type, name: r.name };
      byId.set(r.service_id, entry);
      out.push(entry);
    }
    if (r.endpoint_id === null) continue;
    const url = substituteUrl(r.url!, projectId);
    if (url === null) continue;
    entry.endpoints.push({ id: r.endpoint_id, interface: r.interface!, region_id: r.region_id, url, region: r.region_id });
  }
  return out;
}
