/**
 * /v3/roles: admins list, create, read and delete roles. Role names are unique. Deleting a
 * role deletes its assignments (tokens that depended on them stop working at once).
 */
import { conflict } from '../../errors.js';
import type { Router } from '../../http/router.js';
import { ctxOf } from '../../http/types.js';
import { hexId } from '../../util/ids.js';
import { mustRole, type RoleRow } from '../model.js';
import { collection, duplicate, filters, isUniqueViolation, K, member, requireAdmin, type IdentityDeps } from './common.js';
import { roleView } from './views.js';

const createSchema = {
  type: 'object',
  required: ['name'],
  properties: { name: K.name255, description: { type: ['string', 'null'], maxLength: 255 }, domain_id: { anyOf: [K.id, { type: 'null' }] }, options: K.options },
};
const updateSchema = { type: 'object', minProperties: 1, properties: createSchema.properties };

export function mountRoles(router: Router, deps: IdentityDeps): void {
  const { sql, auth } = deps;

  router.get(
    '/v3/roles',
    async (req) => {
      requireAdmin(ctxOf(req), 'identity:list_roles');
      const f = filters(req, { name: 'name', domain_id: 'domain_id' });
      const rows = await sql.all<RoleRow>(`SELECT * FROM roles ${f.where} ORDER BY name`, f.params);
      return { status: 200, body: collection(req, 'roles', rows.map((r) => roleView(req, r))) };
    },
    { auth: true },
  );

  router.post(
    '/v3/roles',
    async (req) => {
      requireAdmin(ctxOf(req), 'identity:create_role');
      const b = member<{ name: string; description?: string | null; domain_id?: string | null }>(req, 'role', createSchema);
      const row: RoleRow = { id: hexId(), name: b.name, domain_id: b.domain_id ?? null, description: b.description ?? '' };
      const dup = duplicate('role', `name ${row.name}`);
      if (await sql.get('SELECT id FROM roles WHERE name = ?', [row.name])) throw conflict(dup);
      try {
        await sql.run('INSERT INTO roles (id, name, domain_id, description) VALUES (?, ?, ?, ?)', [row.id, row.name, row.domain_id, row.description]);
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict(dup);
        throw e;
      }
      return { status: 201, body: { role: roleView(req, row) } };
    },
    { auth: true },
  );

  router.get(
    '/v3/roles/:id',
    async (req) => {
      requireAdmin(ctxOf(req), 'identity:get_role');
      return { status: 200, body: { role: roleView(req, await mustRole(sql, req.params.id)) } };
    },
    { auth: true },
  );

  router.patch(
    '/v3/roles/:id',
    async (req) => {
      requireAdmin(ctxOf(req), 'identity:update_role');
      const b = member<{ name?: string; description?: string | null }>(req, 'role', updateSchema);
      const r = await mustRole(sql, req.params.id);
      const next: RoleRow = { ...r, name: b.name ?? r.name, description: b.description === undefined ? r.description : (b.description ?? '') };
      const dup = duplicate('role', `name ${next.name}`);
      if (next.name !== r.name && (await sql.get('SELECT id FROM roles WHERE name = ?', [next.name]))) throw conflict(dup);
      try {
        await sql.run('UPDATE roles SET name = ?, description = ? WHERE id = ?', [next.name, next.description, r.id]);
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict(dup);
        throw e;
      }
      auth.clear();
      return { status: 200, body: { role: roleView(req, next) } };
    },
    { auth: true },
  );

  router.delete(
    '/v3/roles/:id',
    async (req) => {
      requireAdmin(ctxOf(req), 'identity:delete_role');
      const r = await mustRole(sql, req.params.id);
      await sql.tx(async (tx) => {
        await tx.run('DELETE FROM role_assignments WHERE role_id = ?', [r.id]);
        await tx.run('DELETE FROM roles WHERE id = ?', [r.id]);
      });
      auth.clear();
      return { status: 204 };
    },
    { auth: true },
  );
}
