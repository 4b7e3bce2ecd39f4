/** Renderers of identity entities in Keystone's v3 shapes, with self links. */
import type { ApiRequest } from '../../http/types.js';
import { keystoneTime } from '../../util/time.js';
import type { DomainRow, ProjectRow, RoleRow, UserRow } from '../model.js';
import { link } from './common.js';

export function domainView(req: ApiRequest, d: DomainRow) {
  return {
    id: d.id,
    name: d.name,
    description: d.description,
    enabled: !!d.enabled,
    tags: [],
    options: {},
    links: { self: link(req, `domains/${d.id}`) },
  };
}

export function projectView(req: ApiRequest, p: ProjectRow) {
  return {
    id: p.id,
    name: p.name,
    domain_id: p.domain_id,
    description: p.description,
    enabled: !!p.enabled,
    parent_id: p.parent_id ?? p.domain_id,
    is_domain: false,
    tags: JSON.parse(p.tags || '[]') as string[],
    options: {},
    links: { self: link(req, `projects/${p.id}`) },
  };
}

export function userView(req: ApiRequest, u: UserRow) {
  const v: Record<string, unknown> = {
    id: u.id,
    name: u.name,
    domain_id: u.domain_id,
    enabled: !!u.enabled,
    password_expires_at: u.password_expires_at ? keystoneTime(u.password_expires_at) : null,
    options: {},
    links: { self: link(req, `users/${u.id}`) },
  };
  if (u.default_project_id) v.default_project_id = u.default_project_id;
  if (u.email) v.email = u.email;
  if (u.description) v.description = u.description;
  return v;
}

export function roleView(req: ApiRequest, r: RoleRow) {
  return {
    id: r.id,
    name: r.name,
    domain_id: r.domain_id,
    description: r.description || null,
    options: {},
    links: { self: link(req, `roles/${r.id}`) },
  };
}
