/** Renders a token as Keystone's v3 token body (POST and GET /v3/auth/tokens). */
import type { Sql } from '../db/sql.js';
import { keystoneTime } from '../util/time.js';
import { buildCatalog } from './catalog.js';
import type { TokenScope } from './token-scope.js';
import type { TokenRecord } from './token-store.js';

export async function renderToken(sql: Sql, rec: TokenRecord, scope: TokenScope, withCatalog: boolean): Promise<{ token: Record<string, unknown> }> {
  const token: Record<string, unknown> = {
    methods: rec.methods,
    user: {
      domain: scope.user.domain,
      id: scope.user.id,
      name: scope.user.name,
      password_expires_at: scope.user.passwordExpiresAt ? keystoneTime(scope.user.passwordExpiresAt) : null,
    },
    audit_ids: rec.auditIds,
    expires_at: keystoneTime(rec.expiresAt),
    issued_at: keystoneTime(rec.issuedAt),
  };
  if (scope.project) {
    token.project = { domain: scope.project.domain, id: scope.project.id, name: scope.project.name };
    token.is_domain = false;
  } else if (scope.domain) {
    token.domain = scope.domain;
  }
  if (scope.project || scope.domain) {
    token.roles = scope.roles.map((r) => ({ id: r.id, name: r.name }));
    if (withCatalog) token.catalog = await buildCatalog(sql, scope.project?.id ?? null);
  }
  return { token };
}
