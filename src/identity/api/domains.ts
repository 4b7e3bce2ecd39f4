/**
 * /v3/domains: admins create, list, update and delete domains; a user may read the domain of
 * its token's scope or of its project. A domain must be disabled before it can be deleted;
 * deleting it deletes its projects and users with their role assignments.
 */
import { conflict, forbidden } from '../../errors.js';
import type { Router } from '../../http/router.js';
import { ctxOf } from '../../http/types.js';
import { hexId } from '../../util/ids.js';
import { mustDomain, type DomainRow } from '../model.js';
import { collection, denied, duplicate, filters, isUniqueViolation, K, member, requireAdmin, type IdentityDeps } from './common.js';
import { domainView } from './views.js';

interface DomainBody {
  name?: string;
  description?: string | null;
  enabled?: boolean;
  explicit_domain_id?: string;
}

const props = { name: K.name64, description: K.description, enabled: K.boolean, tags: K.tags, options: K.options };
const createSchema = { type: 'object', required: ['name'], properties: { ...props, explicit_domain_id: K.id } };
const updateSchema = { type: 'object', minProperties: 1, properties: props };

export function mountDomains(router: Router, deps: IdentityDeps): void {
  const { sql, auth } = deps;

  router.get(
    '/v3/domains',
    async (req) => {
      requireAdmin(ctxOf(req), 'identity:list_domains');
      const f = filters(req, { name: 'name' }, { enabled: 'enabled' });
      const rows = await sql.all<DomainRow>(`SELECT * FROM domains ${f.where} ORDER BY name`, f.params);
      return { status: 200, body: collection(req, 'domains', rows.map((d) => domainView(req, d))) };
    },
    { auth: true },
  );

  router.post(
    '/v3/domains',
    async (req) => {
      requireAdmin(ctxOf(req), 'identity:create_domain');
      const b = member<DomainBody>(req, 'domain', createSchema);
      const row: DomainRow = {
        id: b.explicit_domain_id ?? hexId(),
        name: b.name!,
        description: b.description ?? '',
        enabled: b.enabled === false ? 0 : 1,
        created_at: new Date().toISOString(),
      };
      const dup = duplicate('domain', `name ${row.name}`);
      if (await sql.get('SELECT id FROM domains WHERE name = ? OR id = ?', [row.name, row.id])) throw conflict(dup);
      try {
        await sql.run('INSERT INTO domains (id, name, description, enabled, created_at) VALUES (?, ?, ?, ?, ?)', [
          row.id,
          row.name,
          row.description,
          row.enabled,
          row.created_at,
        ]);
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict(dup);
        throw e;
      }
      return { status: 201, body: { domain: domainView(req, row) } };
    },
    { auth: true },
  );

  router.get(
    '/v3/domains/:id',
    async (req) => {
      const ctx = ctxOf(req);
      const id = req.params.id;
      if (!ctx.isAdmin && ctx.domainId !== id && ctx.projectDomainId !== id) throw denied('identity:get_domain');
      return { status: 200, body: { domain: domainView(req, await mustDomain(sql, id)) } };
    },
    { auth: true },
  );

  router.patch(
    '/v3/domains/:id',
    async (req) => {
      requireAdmin(ctxOf(req), 'identity:update_domain');
      const b = member<DomainBody>(req, 'domain', updateSchema);
      const d = await mustDomain(sql, req.params.id);
      const next: DomainRow = {
        ...d,
        name: b.name ?? d.name,
        description: b.description === undefined ? d.description : (b.description ?? ''),
        enabled: b.enabled === undefined ? d.enabled : b.enabled ? 1 : 0,
      };
      const dup = duplicate('domain', `name ${next.name}`);
      if (next.name !== d.name && (await sql.get('SELECT id FROM domains WHERE name = ?', [next.name]))) throw conflict(dup);
      try {
        await sql.run('UPDATE domains SET name = ?, description = ?, enabled = ? WHERE id = ?', [next.name, next.description, next.enabled, d.id]);
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict(dup);
        throw e;
      }
      auth.clear();
      return { status: 200, body: { domain: domainView(req, next) } };
    },
    { auth: true },
  );

  router.delete(
    '/v3/domains/:id',
    async (req) => {
      requireAdmin(ctxOf(req), 'identity:delete_domain');
      const d = await mustDomain(sql, req.params.id);
      if (d.enabled) throw forbidden('Cannot delete a domain that is enabled, please disable it first.');
      await sql.tx(async (tx) => {
        const inDomain = `SELECT id FROM users WHERE domain_id = ?`;
        const projects = `SELECT id FROM projects WHERE domain_id = ?`;
        await tx.run(`DELETE FROM role_assignments WHERE actor_id IN (${inDomain}) OR target_id IN (${projects}) OR target_id = ?`, [d.id, d.id, d.id]);
        await tx.run(`UPDATE tokens SET revoked = 1 WHERE user_id IN (${inDomain}) OR project_id IN (${projects}) OR domain_id = ?`, [d.id, d.id, d.id]);
        await tx.run('DELETE FROM users WHERE domain_id = ?', [d.id]);
        await tx.run('UPDATE projects SET parent_id = NULL WHERE domain_id = ?', [d.id]);
        await tx.run('DELETE FROM projects WHERE domain_id = ?', [d.id]);
        await tx.run('DELETE FROM domains WHERE id = ?', [d.id]);
      });
      auth.clear();
      return { status: 204 };
    },
    { auth: true },
  );
}
