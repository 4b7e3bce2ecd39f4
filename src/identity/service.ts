/**
 * The Identity service (a Keystone v3 subset), mounted at /identity: its router, the token
 * validation every API request goes through, bootstrap, and the lookups other services need.
 */
import type { Sql } from '../db/sql.js';
import { Router } from '../http/router.js';
import type { RequestContext } from '../http/types.js';
import { mountAuthInfo } from './api/auth-info.js';
import { mountAuthTokens } from './api/auth-tokens.js';
import { mountCatalogAdmin } from './api/catalog-admin.js';
import type { IdentityDeps } from './api/common.js';
import { mountDomains } from './api/domains.js';
import { mountProjects } from './api/projects.js';
import { mountRoleAssignments } from './api/role-assignments.js';
import { mountRoles } from './api/roles.js';
import { mountUsers } from './api/users.js';
import { mountVersions } from './api/versions.js';
import { Authenticator } from './authenticator.js';
import { bootstrap, type BootstrapOptions } from './bootstrap.js';
import { TokenStore } from './token-store.js';

export interface IdentityService {
  router: Router;
  /** Validates a token (cached briefly); Unauthorized when invalid, expired or revoked. */
  authenticate(token: string, requestId: string): Promise<RequestContext>;
  /**
   * Idempotent: the Default domain, roles admin/member/reader, project+user admin (role admin)
   * and demo (role member), and the catalog with public/internal/admin endpoints for every
   * service in opts.services (default: identity, compute, image) under publicUrl; catalog
   * entries of services not served are removed.
   */
  bootstrap(opts: BootstrapOptions): Promise<void>;
  projectExists(id: string): Promise<boolean>;
}

export function createIdentityService(deps: { sql: Sql; tokenTtlSec: number }): IdentityService {
  const { sql } = deps;
  const tokens = new TokenStore(sql, deps.tokenTtlSec);
  const auth = new Authenticator(sql, tokens);
  const d: IdentityDeps = { sql, tokens, auth };

  const router = new Router('keystone', false);
  mountVersions(router);
  mountAuthTokens(router, d);
  mountAuthInfo(router, d);
  mountDomains(router, d);
  mountProjects(router, d);
  mountUsers(router, d);
  mountRoles(router, d);
  mountRoleAssignments(router, d);
  mountCatalogAdmin(router, d);

  return {
    router,
    authenticate: (token, requestId) => auth.authenticate(token, requestId),
    bootstrap: async (opts) => {
      await bootstrap(sql, tokens, opts);
      auth.clear();
    },
    projectExists: async (id) => (await sql.get('SELECT 1 AS x FROM projects WHERE id = ?', [id])) !== undefined,
  };
}
