/**
 * /v3/projects: admins create, list, update and delete projects; a user may read the project
 * its token is scoped to. Names are unique within a domain. A project whose parent is its
 * domain reports that domain as parent_id, as Keystone does.
 */
import { conflict, forbidden, invalid, notFound } from '../../errors.js';
import type { Router } from '../../http/router.js';
import { ctxOf } from '../../http/types.js';
import { hexId } from '../../util/ids.js';
import { mustDomain, mustProject, type ProjectRow } from '../model.js';
import { collection, duplicate, filters, isUniqueViolation, K, member, requireAdmin, denied, type IdentityDeps } from './common.js';
import { projectView } from './views.js';

interface ProjectBody {
  name?: string;
  description?: string | null;
  domain_id?: string;
  parent_id?: string | null;
  enabled?: boolean;
  is_domain?: boolean;
  tags?: string[];
}

const props = {
  name: K.name64,
  description: K.description,
  enabled: K.boolean,
  tags: K.tags,
  options: K.options,
};
const createSchema = {
  type: 'object',
  required: ['name'],
  properties: { ...props, domain_id: K.id, parent_id: { anyOf: [K.id, { type: 'null' }] }, is_domain: K.boolean },
};
const updateSchema = { type: 'object', minProperties: 1, properties: { ...props, domain_id: K.id, parent_id: {}, is_domain: {} } };

export function mountProjects(router: Router, deps: IdentityDeps): void {
  const { sql, auth } = deps;

  router.get(
    '/v3/projects',
    async (req) => {
      requireAdmin(ctxOf(req), 'identity:list_projects');
      if (req.query.get('is_domain') === 'true') return { status: 200, body: collection(req, 'projects', []) };
      const f = filters(req, { name: 'name', domain_id: 'domain_id', parent_id: 'parent_id' }, { enabled: 'enabled' });
      const rows = await sql.all<ProjectRow>(`SELECT * FROM projects ${f.where} ORDER BY name, id`, f.params);
      return { status: 200, body: collection(req, 'projects', rows.map((p) => projectView(req, p))) };
    },
    { auth: true },
  );

  router.post(
    '/v3/projects',
    async (req) => {
      const ctx = ctxOf(req);
      requireAdmin(ctx, 'identity:create_project');
      const b = member<ProjectBody>(req, 'project', createSchema);
      if (b.is_domain) throw invalid('Creating a project that acts as a domain is not supported.');
      let domainId = b.domain_id ?? ctx.domainId ?? 'default';
      let parentId: string | null = null;
      if (b.parent_id && b.parent_id !== domainId) {
        const parent = await sql.get<ProjectRow>('SELECT * FROM projects WHERE id = ?', [b.parent_id]);
        if (!parent) throw notFound(`Could not find project: ${b.parent_id}.`);
        if (b.domain_id !== undefined && b.domain_id !== parent.domain_id)
          throw invalid('Cannot create project, the parent is in a different domain.');
        domainId = parent.domain_id;
        parentId = parent.id;
      }
      await mustDomain(sql, domainId);
      const row: ProjectRow = {
        id: hexId(),
        name: b.name!,
        domain_id: domainId,
        description: b.description ?? '',
        enabled: b.enabled === false ? 0 : 1,
        parent_id: parentId,
        tags: JSON.stringify(b.tags ?? []),
        created_at: new Date().toISOString(),
      };
      const dup = duplicate('project', `name ${row.name} at domain ID ${domainId}`);
      if (await sql.get('SELECT id FROM projects WHERE domain_id = ? AND name = ?', [domainId, row.name])) throw conflict(dup);
      try {
        await sql.run(
          `INSERT INTO projects (id, name, domain_id, description, enabled, parent_id, tags, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          [row.id, row.name, row.domain_id, row.description, row.enabled, row.parent_id, row.tags, row.created_at],
        );
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict(dup);
        throw e;
      }
      return { status: 201, body: { project: projectView(req, row) } };
    },
    { auth: true },
  );

  router.get(
    '/v3/projects/:id',
    async (req) => {
      const ctx = ctxOf(req);
      if (!ctx.isAdmin && ctx.projectId !== req.params.id) throw denied('identity:get_project');
      return { status: 200, body: { project: projectView(req, await mustProject(sql, req.params.id)) } };
    },
    { auth: true },
  );

  router.patch(
    '/v3/projects/:id',
    async (req) => {
      requireAdmin(ctxOf(req), 'identity:update_project');
      const b = member<ProjectBody>(req, 'project', updateSchema);
      const p = await mustProject(sql, req.params.id);
      if (b.domain_id !== undefined && b.domain_id !== p.domain_id) throw invalid('Update of `domain_id` is not allowed.');
      if (b.parent_id !== undefined && (b.parent_id ?? p.domain_id) !== (p.parent_id ?? p.domain_id))
        throw forbidden('Update of `parent_id` is not allowed.');
      if (b.is_domain !== undefined && b.is_domain !== false) throw invalid('Update of `is_domain` is not allowed.');
      const next: ProjectRow = {
        ...p,
        name: b.name ?? p.name,
        description: b.description === undefined ? p.description : (b.description ?? ''),
        enabled: b.enabled === undefined ? p.enabled : b.enabled ? 1 : 0,
        tags: b.tags === undefined ? p.tags : JSON.stringify(b.tags),
      };
      const dup = duplicate('project', `name ${next.name} at domain ID ${p.domain_id}`);
      if (next.name !== p.name && (await sql.get('SELECT id FROM projects WHERE domain_id = ? AND name = ?', [p.domain_id, next.name])))
        throw conflict(dup);
      try {
        await sql.run('UPDATE projects SET name = ?, description = ?, enabled = ?, tags = ? WHERE id = ?', [
          next.name,
          next.description,
          next.enabled,
          next.tags,
          p.id,
        ]);
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict(dup);
        throw e;
      }
      if (next.enabled !== p.enabled || next.name !== p.name) auth.clear();
      return { status: 200, body: { project: projectView(req, next) } };
    },
    { auth: true },
  );

  router.delete(
    '/v3/projects/:id',
    async (req) => {
      requireAdmin(ctxOf(req), 'identity:delete_project');
      const p = await mustProject(sql, req.params.id);
      await sql.tx(async (tx) => {
        if (await tx.get('SELECT id FROM projects WHERE parent_id = ? LIMIT 1', [p.id]))
          throw forbidden(`Cannot delete the project ${p.id} since it is not a leaf in the hierarchy.`);
        await tx.run(`DELETE FROM role_assignments WHERE kind = 'UserProject' AND target_id = ?`, [p.id]);
        await tx.run('UPDATE tokens SET revoked = 1 WHERE project_id = ?', [p.id]);
        await tx.run('UPDATE users SET default_project_id = NULL WHERE default_project_id = ?', [p.id]);
        await tx.run('DELETE FROM projects WHERE id = ?', [p.id]);
      });
      auth.clear();
      return { status: 204 };
    },
    { auth: true },
  );
}
