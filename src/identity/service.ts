import type { Sql } from '../db/sql.js';
import { Router } from '../http/router.js';
import type { RequestContext } from '../http/types.js';
import { notImplemented } from '../errors.js';

export interface IdentityService {
  router: Router;
  /** Validates a token (cached briefly); Unauthorized when invalid, expired or revoked. */
  authenticate(token: string, requestId: string): Promise<RequestContext>;
  /**
   * Idempotent: the Default domain, roles admin/member/reader, project+user admin (role admin)
   * and demo (role member), and the catalog with public/internal/admin endpoints for every
   * service under publicUrl.
   */
  bootstrap(opts: { publicUrl: string; region: string; adminPassword: string; demoPassword: string }): Promise<void>;
  projectExists(id: string): Promise<boolean>;
}

export function createIdentityService(_deps: { sql: Sql; tokenTtlSec: number }): IdentityService {
  return {
    router: new Router('keystone', false),
    authenticate: async () => {
      throw notImplemented('identity');
    },
    bootstrap: async () => undefined,
    projectExists: async () => false,
  };
}
