/**
 * Flavor access (admin): GET /flavors/{id}/os-flavor-access and the flavor actions
 * addTenantAccess / removeTenantAccess. Public flavors have no access list: listing answers
 * 404, adding answers 409 from 2.7 (earlier versions accepted it silently, as Nova did).
 */
import { conflict, invalid, notFound } from '../../errors.js';
import type { Sql } from '../../db/sql.js';
import { ctxOf } from '../../http/types.js';
import { validate } from '../../http/validate.js';
import { requireAdmin } from '../policy.js';
import type { ComputeApiDeps } from './deps.js';
import { API_PREFIX, type MountFn } from './common.js';
import { getFlavorRow, flavorNotFound, type FlavorRow } from './flavor-store.js';

const tenantSchema = (action: string) => ({
  type: 'object',
  properties: {
    [action]: {
      type: 'object',
      properties: { tenant: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-_]*$' } },
      required: ['tenant'],
      additionalProperties: false,
    },
  },
  required: [action],
  additionalProperties: false,
});
const addSchema = tenantSchema('addTenantAccess');
const removeSchema = tenantSchema('removeTenantAccess');

async function accessList(sql: Sql, row: FlavorRow) {
  const rows = await sql.all<{ project_id: string }>('SELECT project_id FROM flavor_projects WHERE flavor_id = ? ORDER BY project_id', [row.id]);
  return { flavor_access: rows.map((r) => ({ flavor_id: row.flavorid, tenant_id: r.project_id })) };
}

/** Nova asks Keystone whether the project exists and refuses unknown ones with 400. */
async function verifyProject(deps: ComputeApiDeps, projectId: string): Promise<void> {
  if (!(await deps.identity.projectExists(projectId))) throw invalid(`Project ID ${projectId} is not a valid project.`);
}

export const mountFlavorAccess: MountFn = (router, deps) => {
  const { sql } = deps;

  router.get(`${API_PREFIX}/flavors/:id/os-flavor-access`, async (req) => {
    requireAdmin(ctxOf(req), 'os_compute_api:os-flavor-access');
    const row = await getFlavorRow(sql, req.params.id);
    if (!row) throw flavorNotFound(req.params.id);
    if (row.is_public) throw notFound('Access list not available for public flavors.');
    return { status: 200, body: await accessList(sql, row) };
  });

  router.post(`${API_PREFIX}/flavors/:id/action`, async (req) => {
    const ctx = ctxOf(req);
    const body = req.body as Record<string, unknown> | undefined;
    const action = body && typeof body === 'object' ? Object.keys(body)[0] : undefined;
    if (action === 'addTenantAccess') {
      requireAdmin(ctx, 'os_compute_api:os-flavor-access:add_tenant_access');
      const { tenant } = validate<{ addTenantAccess: { tenant: string } }>(addSchema, body).addTenantAccess;
      const row = await getFlavorRow(sql, req.params.id);
      if (!row) throw flavorNotFound(req.params.id);
      await verifyProject(deps, tenant);
      if (row.is_public) {
        if (req.mv.atLeast('2.7')) throw conflict('Can not add access to a public flavor.');
      }
      await sql.tx(async (tx) => {
        if (await tx.get('SELECT 1 AS x FROM flavor_projects WHERE flavor_id = ? AND project_id = ?', [row.id, tenant]))
          throw conflict(`Flavor access already exists for flavor ${row.flavorid} and project ${tenant} combination.`);
        await tx.run('INSERT INTO flavor_projects (flavor_id, project_id) VALUES (?, ?)', [row.id, tenant]);
      });
      return { status: 200, body: await accessList(sql, row) };
    }
    if (action === 'removeTenantAccess') {
      requireAdmin(ctx, 'os_compute_api:os-flavor-access:remove_tenant_access');
      const { tenant } = validate<{ removeTenantAccess: { tenant: string } }>(removeSchema, body).removeTenantAccess;
      const row = await getFlavorRow(sql, req.params.id);
      if (!row) throw flavorNotFound(req.params.id);
      await verifyProject(deps, tenant);
      const res = await sql.run('DELETE FROM flavor_projects WHERE flavor_id = ? AND project_id = ?', [row.id, tenant]);
      if (res.changes === 0) throw notFound(`Flavor access not found for ${row.flavorid} / ${tenant} combination.`);
      return { status: 200, body: await accessList(sql, row) };
    }
    throw invalid('There is no such action: ' + (action ?? ''));
  });
};
