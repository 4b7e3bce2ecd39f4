/**
 * The live view of a token: its user, scope and effective roles as they are now. A token stops
 * being valid as soon as its user, the user's domain, its project (or the project's domain) or
 * its domain is disabled or deleted, or its user holds no role on its scope any more.
 */
import type { Sql } from '../db/sql.js';
import { unauthorized } from '../errors.js';
import { directRoles, effectiveRoles, type RoleRef } from './model.js';
import type { TokenRecord } from './token-store.js';

export interface NamedRef {
  id: string;
  name: string;
}

export interface TokenScope {
  user: NamedRef & { domain: NamedRef; passwordExpiresAt: string | null };
  project: (NamedRef & { domain: NamedRef }) | null;
  domain: NamedRef | null;
  /** Effective roles (direct ones, then implied ones); empty for unscoped tokens. */
  roles: RoleRef[];
}

interface Row {
  user_name: string;
  user_enabled: number;
  user_domain_id: string;
  user_domain_name: string;
  user_domain_enabled: number;
  password_expires_at: string | null;
  project_name: string | null;
  project_enabled: number | null;
  project_domain_id: string | null;
  project_domain_name: string | null;
  project_domain_enabled: number | null;
  domain_name: string | null;
  domain_enabled: number | null;
}

/** Resolves a stored token's scope; Unauthorized when the token is no longer usable. */
export async function resolveScope(sql: Sql, rec: TokenRecord): Promise<TokenScope> {
  const row = await sql.get<Row>(
    `SELECT u.name AS user_name, u.enabled AS user_enabled, u.domain_id AS user_domain_id,
            ud.name AS user_domain_name, ud.enabled AS user_domain_enabled, u.password_expires_at,
            p.name AS project_name, p.enabled AS project_enabled, p.domain_id AS project_domain_id,
            pd.name AS project_domain_name, pd.enabled AS project_domain_enabled,
            d.name AS domain_name, d.enabled AS domain_enabled
     FROM users u JOIN domains ud ON ud.id = u.domain_id
     LEFT JOIN projects p ON p.id = ? LEFT JOIN domains pd ON pd.id = p.domain_id
     LEFT JOIN domains d ON d.id = ?
     WHERE u.id = ?`,
    [rec.projectId ?? '', rec.domainId ?? '', rec.userId],
  );
  if (!row || !row.user_enabled || !row.user_domain_enabled) throw unauthorized();
  const scope: TokenScope = {
    user: {
      id: rec.userId,
      name: row.user_name,
      domain: { id: row.user_domain_id, name: row.user_domain_name },
      passwordExpiresAt: row.password_expires_at,
    },
    project: null,
    domain: null,
    roles: [],
  };
  if (rec.projectId) {
    if (!row.project_enabled || !row.project_domain_enabled) throw unauthorized();
    scope.project = { id: rec.projectId, name: row.project_name!, domain: { id: row.project_domain_id!, name: row.project_domain_name! } };
    scope.roles = await directRoles(sql, rec.userId, 'UserProject', rec.projectId);
  } else if (rec.domainId) {
    if (!row.domain_enabled) throw unauthorized();
    scope.domain = { id: rec.domainId, name: row.domain_name! };
    scope.roles = await directRoles(sql, rec.userId, 'UserDomain', rec.domainId);
  }
  if (rec.projectId || rec.domainId) {
    if (scope.roles.length === 0) throw unauthorized();
    scope.roles = await effectiveRoles(sql, scope.roles);
  }
  return scope;
}
