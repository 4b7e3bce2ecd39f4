/**
 * /v3/users: admins create, list, update and delete users; a user may read itself and its own
 * projects, and change its own password. Names are unique within a domain. Passwords are
 * stored only as scrypt hashes. Changing a password, disabling or deleting a user revokes
 * every token the user holds.
 */
import { conflict, invalid, unauthorized } from '../../errors.js';
import type { Router } from '../../http/router.js';
import { ctxOf } from '../../http/types.js';
import { hexId } from '../../util/ids.js';
import { mustDomain, mustUser, type ProjectRow, type UserRow } from '../model.js';
import { hashPassword, verifyPassword } from '../password.js';
import { collection, denied, duplicate, filters, isUniqueViolation, K, member, requireAdmin, type IdentityDeps } from './common.js';
import { projectView, userView } from './views.js';

interface UserBody {
  name?: string;
  domain_id?: string;
  password?: string | null;
  enabled?: boolean;
  default_project_id?: string | null;
  email?: string | null;
  description?: string | null;
}

const props = {
  name: K.name255,
  password: { type: ['string', 'null'], maxLength: 4096 },
  enabled: K.boolean,
  default_project_id: { anyOf: [K.id, { type: 'null' }] },
  email: { type: ['string', 'null'], maxLength: 255 },
  description: K.description,
  options: K.options,
};
const createSchema = { type: 'object', required: ['name'], properties: { ...props, domain_id: K.id } };
const updateSchema = { type: 'object', minProperties: 1, properties: { ...props, domain_id: K.id } };
const passwordSchema = {
  type: 'object',
  required: ['password', 'original_password'],
  properties: { password: { type: 'string', maxLength: 4096 }, original_password: { type: 'string', maxLength: 4096 } },
};

export function mountUsers(router: Router, deps: IdentityDeps): void {
  const { sql, auth, tokens } = deps;

  router.get(
    '/v3/users',
    async (req) => {
      requireAdmin(ctxOf(req), 'identity:list_users');
      const f = filters(req, { name: 'name', domain_id: 'domain_id' }, { enabled: 'enabled' });
      const rows = await sql.all<UserRow>(`SELECT * FROM users ${f.where} ORDER BY name, id`, f.params);
      return { status: 200, body: collection(req, 'users', rows.map((u) => userView(req, u))) };
    },
    { auth: true },
  );

  router.post(
    '/v3/users',
    async (req) => {
      const ctx = ctxOf(req);
      requireAdmin(ctx, 'identity:create_user');
      const b = member<UserBody>(req, 'user', createSchema);
      const domainId = b.domain_id ?? ctx.domainId ?? 'default';
      await mustDomain(sql, domainId);
      const row: UserRow = {
        id: hexId(),
        name: b.name!,
        domain_id: domainId,
        password_hash: typeof b.password === 'string' ? await hashPassword(b.password) : null,
        enabled: b.enabled === false ? 0 : 1,
        default_project_id: b.default_project_id ?? null,
        email: b.email ?? null,
        description: b.description ?? '',
        created_at: new Date().toISOString(),
        password_expires_at: null,
      };
      const dup = duplicate('user', `name ${row.name} at domain ID ${domainId}`);
      if (await sql.get('SELECT id FROM users WHERE domain_id = ? AND name = ?', [domainId, row.name])) throw conflict(dup);
      try {
        await sql.run(
          `INSERT INTO users (id, name, domain_id, password_hash, enabled, default_project_id, email, description, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [row.id, row.name, row.domain_id, row.password_hash, row.enabled, row.default_project_id, row.email, row.description, row.created_at],
        );
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict(dup);
        throw e;
      }
      return { status: 201, body: { user: userView(req, row) } };
    },
    { auth: true },
  );

  router.get(
    '/v3/users/:id',
    async (req) => {
      const ctx = ctxOf(req);
      if (!ctx.isAdmin && ctx.userId !== req.params.id) throw denied('identity:get_user');
      return { status: 200, body: { user: userView(req, await mustUser(sql, req.params.id)) } };
    },
    { auth: true },
  );

  router.patch(
    '/v3/users/:id',
    async (req) => {
      requireAdmin(ctxOf(req), 'identity:update_user');
      const b = member<UserBody>(req, 'user', updateSchema);
      const u = await mustUser(sql, req.params.id);
      if (b.domain_id !== undefined && b.domain_id !== u.domain_id) throw invalid('Update of `domain_id` is not allowed.');
      const next: UserRow = {
        ...u,
        name: b.name ?? u.name,
        enabled: b.enabled === undefined ? u.enabled : b.enabled ? 1 : 0,
        default_project_id: b.default_project_id === undefined ? u.default_project_id : b.default_project_id,
        email: b.email === undefined ? u.email : b.email,
        description: b.description === undefined ? u.description : (b.description ?? ''),
        password_hash:
          b.password === undefined ? u.password_hash : typeof b.password === 'string' ? await hashPassword(b.password) : null,
      };
      const dup = duplicate('user', `name ${next.name} at domain ID ${u.domain_id}`);
      if (next.name !== u.name && (await sql.get('SELECT id FROM users WHERE domain_id = ? AND name = ?', [u.domain_id, next.name])))
        throw conflict(dup);
      try {
        await sql.run(
          'UPDATE users SET name = ?, enabled = ?, default_project_id = ?, email = ?, description = ?, password_hash = ? WHERE id = ?',
          [next.name, next.enabled, next.default_project_id, next.email, next.description, next.password_hash, u.id],
        );
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict(dup);
        throw e;
      }
      if (b.password !== undefined || (u.enabled && !next.enabled)) await tokens.revokeUser(u.id);
      auth.clear();
      return { status: 200, body: { user: userView(req, next) } };
    },
    { auth: true },
  );

  router.delete(
    '/v3/users/:id',
    async (req) => {
      requireAdmin(ctxOf(req), 'identity:delete_user');
      const u = await mustUser(sql, req.params.id);
      await sql.tx(async (tx) => {
        await tx.run('DELETE FROM role_assignments WHERE actor_id = ?', [u.id]);
        await tx.run('UPDATE tokens SET revoked = 1 WHERE user_id = ?', [u.id]);
        await tx.run('DELETE FROM users WHERE id = ?', [u.id]);
      });
      auth.clear();
      return { status: 204 };
    },
    { auth: true },
  );

  router.post(
    '/v3/users/:id/password',
    async (req) => {
      const ctx = ctxOf(req);
      if (ctx.userId !== req.params.id) throw denied('identity:change_password');
      const b = member<{ password: string; original_password: string }>(req, 'user', passwordSchema);
      const u = await mustUser(sql, req.params.id);
      if (!(await verifyPassword(b.original_password, u.password_hash))) throw unauthorized();
      await sql.run('UPDATE users SET password_hash = ? WHERE id = ?', [await hashPassword(b.password), u.id]);
      await tokens.revokeUser(u.id);
      auth.clear();
      return { status: 204 };
    },
    { auth: true },
  );

  router.get(
    '/v3/users/:id/projects',
    async (req) => {
      const ctx = ctxOf(req);
      if (!ctx.isAdmin && ctx.userId !== req.params.id) throw denied('identity:list_user_projects');
      await mustUser(sql, req.params.id);
      const f = filters(req, { name: 'p.name', domain_id: 'p.domain_id' }, { enabled: 'p.enabled' });
      const rows = await sql.all<ProjectRow>(
        `SELECT p.* FROM projects p
         WHERE p.id IN (SELECT target_id FROM role_assignments WHERE kind = 'UserProject' AND actor_id = ?)
         ${f.where.replace('WHERE', 'AND')} ORDER BY p.name`,
        [req.params.id, ...f.params],
      );
      return { status: 200, body: collection(req, 'projects', rows.map((p) => projectView(req, p))) };
    },
    { auth: true },
  );
}
