/** What a token's holder may read about itself: /v3/auth/catalog, /v3/auth/projects, /v3/auth/domains. */
import { forbidden } from '../../errors.js';
import type { Router } from '../../http/router.js';
import { ctxOf } from '../../http/types.js';
import { buildCatalog } from '../catalog.js';
import type { DomainRow, ProjectRow } from '../model.js';
import { collection, type IdentityDeps } from './common.js';
import { domainView, projectView } from './views.js';

export function mountAuthInfo(router: Router, { sql }: IdentityDeps): void {
  router.get(
    '/v3/auth/catalog',
    async (req) => {
      const ctx = ctxOf(req);
      if (!ctx.projectId && !ctx.domainId) throw forbidden('A project-scoped token is required to produce a service catalog.');
      return { status: 200, body: collection(req, 'catalog', await buildCatalog(sql, ctx.projectId)) };
    },
    { auth: true },
  );

  router.get(
    '/v3/auth/projects',
    async (req) => {
      const rows = await sql.all<ProjectRow>(
        `SELECT p.* FROM projects p JOIN domains d ON d.id = p.domain_id
         WHERE p.enabled = 1 AND d.enabled = 1 AND p.id IN
           (SELECT target_id FROM role_assignments WHERE kind = 'UserProject' AND actor_id = ?)
         ORDER BY p.name`,
        [ctxOf(req).userId],
      );
      return { status: 200, body: collection(req, 'projects', rows.map((p) => projectView(req, p))) };
    },
    { auth: true },
  );

  router.get(
    '/v3/auth/domains',
    async (req) => {
      const rows = await sql.all<DomainRow>(
        `SELECT * FROM domains WHERE enabled = 1 AND id IN
           (SELECT target_id FROM role_assignments WHERE kind = 'UserDomain' AND actor_id = ?)
         ORDER BY name`,
        [ctxOf(req).userId],
      );
      return { status: 200, body: collection(req, 'domains', rows.map((d) => domainView(req, d))) };
    },
    { auth: true },
  );
}
