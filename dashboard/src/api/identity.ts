/**
 * Keystone v3 for the dashboard: password login (unscoped first, then scoped to one of the
 * user's projects from GET /v3/auth/projects), re-scoping with the token method (the project
 * switcher: the password is never kept), logout, and the service catalog's endpoints.
 */
import { request } from './http';

/** The identity API is found before any catalog: it is served at /identity on this origin. */
export const IDENTITY_URL = '/identity/v3';

export interface Ref {
  id: string;
  name: string;
}

export interface CatalogEndpoint {
  id: string;
  interface: string;
  region_id: string | null;
  url: string;
}

export interface CatalogEntry {
  id: string;
  type: string;
  name: string;
  endpoints: CatalogEndpoint[];
}

/** The body of a token (POST /v3/auth/tokens). */
export interface TokenBody {
  expires_at: string;
  user: Ref & { domain: Ref };
  project?: Ref & { domain: Ref };
  roles?: Ref[];
  catalog?: CatalogEntry[];
}

export interface Token {
  id: string;
  body: TokenBody;
}

export interface Project {
  id: string;
  name: string;
  domain_id: string;
  description?: string;
  enabled?: boolean;
}

async function issue(auth: unknown): Promise<Token> {
  const r = await request<{ token: TokenBody }>(`${IDENTITY_URL}/auth/tokens`, { method: 'POST', body: { auth }, anonymous: true });
  const id = r.headers.get('x-subject-token');
  if (!id) throw new Error('The identity service answered without a token (no X-Subject-Token header).');
  return { id, body: r.body.token };
}

/** Password login without a scope (then pick a project with scopeToProject). */
export function passwordLogin(user: string, password: string, domain: string): Promise<Token> {
  return issue({
    identity: { methods: ['password'], password: { user: { name: user, password, domain: { name: domain } } } },
    scope: 'unscoped',
  });
}

/** A project-scoped token derived from any valid token of the same user. */
export function scopeToProject(token: string, projectId: string): Promise<Token> {
  return issue({ identity: { methods: ['token'], token: { id: token } }, scope: { project: { id: projectId } } });
}

/** The projects the holder of token has a role on. */
export async function myProjects(token: string): Promise<Project[]> {
  const r = await request<{ projects: Project[] }>(`${IDENTITY_URL}/auth/projects`, { headers: { 'x-auth-token': token }, anonymous: true });
  return r.body.projects.filter((p) => p.enabled !== false);
}

/** Revokes a token (logout); failures are ignored (the token may already be gone). */
export async function revoke(token: string): Promise<void> {
  try {
    await request(`${IDENTITY_URL}/auth/tokens`, { method: 'DELETE', headers: { 'x-auth-token': token, 'x-subject-token': token }, anonymous: true });
  } catch {
    /* expired or already revoked */
  }
}

/**
 * The public endpoint of a service type from the catalog, without a trailing slash; null when
 * the cloud does not offer it. The dashboard is served by the same listener as the APIs, so an
 * endpoint on another origin (the catalog says 127.0.0.1, the browser came by another name) is
 * reached by its path on this origin: the browser would refuse a cross-origin call.
 */
export function endpointOf(catalog: CatalogEntry[] | undefined, ...types: string[]): string | null {
  for (const type of types) {
    const entry = catalog?.find((e) => e.type === type);
    const ep = entry?.endpoints.find((e) => e.interface === 'public') ?? entry?.endpoints[0];
    if (!ep) continue;
    const u = new URL(ep.url, location.href);
    const base = u.origin === location.origin ? u.href : `${location.origin}${u.pathname}${u.search}`;
    return base.replace(/\/+$/, '');
  }
  return null;
}
