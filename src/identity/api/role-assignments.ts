/**
 * Role grants on projects and domains (PUT/HEAD/GET/DELETE .../users/{u}/roles/{r}), the roles
 * of a user on one target, and GET /v3/role_assignments. All admin-only. Any change evicts
 * cached token contexts, so a removed role stops working on the next request.
 */
import { invalid, notFound } from '../../errors.js';
import type { Router } from '../../http/router.js';
import { ctxOf, type ApiRequest } from '../../http/types.js';
import { expandRoleNames, mustDomain, mustProject, mustRole, mustUser, type AssignmentKind, type RoleRow } from '../model.js';
import { boolQuery, collection, link, requireAdmin, type IdentityDeps } from './common.js';
import { roleView } from './views.js';

interface Target {
  kind: AssignmentKind;
  /** URL segment: projects or domains. */
  segment: 'projects' | 'domains';
}

const TARGETS: Target[] = [
  { kind: 'UserProject', segment: 'projects' },
  { kind: 'UserDomain', segment: 'domains' },
];

interface AssignmentRow {
  kind: AssignmentKind;
  actor_id: string;
  target_id: string;
  role_id: string;
  role_name: string;
}

export function mountRoleAssignments(router: Router, deps: IdentityDeps): void {
  const { sql, auth } = deps;

  for (const t of TARGETS) {
    const base = `/v3/${t.segment}/:target/users/:user/roles`;
    /** Checks role, user and target exist (404 naming the missing one). */
    const resolve = async (req: ApiRequest, withRole: boolean) => {
      if (withRole) await mustRole(sql, req.params.role);
      await mustUser(sql, req.params.user);
      if (t.kind === 'UserProject') await mustProject(sql, req.params.target);
      else await mustDomain(sql, req.params.target);
    };
    const key = (req: ApiRequest) => [t.kind, req.params.user, req.params.target, req.params.role];

    router.put(
      `${base}/:role`,
      async (req) => {
        requireAdmin(ctxOf(req), 'identity:create_grant');
        await resolve(req, true);
        await sql.run(
          `INSERT INTO role_assignments (kind, actor_id, target_id, role_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
          key(req),
        );
        auth.clear();
        return { status: 204 };
      },
      { auth: true, body: 'none' },
    );

    router.get(
      `${base}/:role`,
      async (req) => {
        requireAdmin(ctxOf(req), 'identity:check_grant');
        await resolve(req, true);
        const row = await sql.get('SELECT 1 AS x FROM role_assignments WHERE kind = ? AND actor_id = ? AND target_id = ? AND role_id = ?', key(req));
        if (!row) throw notAssigned(req);
        return { status: 204 };
      },
      { auth: true },
    );

    router.delete(
      `${base}/:role`,
      async (req) => {
        requireAdmin(ctxOf(req), 'identity:revoke_grant');
        await resolve(req, true);
        const r = await sql.run('DELETE FROM role_assignments WHERE kind = ? AND actor_id = ? AND target_id = ? AND role_id = ?', key(req));
        if (r.changes === 0) throw notAssigned(req);
        auth.clear();
        return { status: 204 };
      },
      { auth: true },
    );

    router.get(
      base,
      async (req) => {
        requireAdmin(ctxOf(req), 'identity:list_grants');
        await resolve(req, false);
        const rows = await sql.all<RoleRow>(
          `SELECT r.* FROM roles r JOIN role_assignments a ON a.role_id = r.id
           WHERE a.kind = ? AND a.actor_id = ? AND a.target_id = ? ORDER BY r.name`,
          [t.kind, req.params.user, req.params.target],
        );
        return { status: 200, body: collection(req, 'roles', rows.map((r) => roleView(req, r))) };
      },
      { auth: true },
    );
  }

  router.get(
    '/v3/role_assignments',
    async (req) => {
      requireAdmin(ctxOf(req), 'identity:list_role_assignments');
      const q = req.query;
      const projectId = q.get('scope.project.id');
      const domainId = q.get('scope.domain.id');
      if (projectId !== null && domainId !== null) throw invalid('Specify one of domain or project.');
      if (q.has('group.id') || q.has('scope.system')) return { status: 200, body: collection(req, 'role_assignments', []) };
      const conds: string[] = [];
      const params: string[] = [];
      const eq = (col: string, v: string | null) => {
        if (v === null) return;
        conds.push(`${col} = ?`);
        params.push(v);
      };
      eq('a.actor_id', q.get('user.id'));
      if (projectId !== null) {
        eq('a.kind', 'UserProject');
        eq('a.target_id', projectId);
      }
      if (domainId !== null) {
        eq('a.kind', 'UserDomain');
        eq('a.target_id', domainId);
      }
      const effective = q.has('effective') && boolQuery(q.get('effective') || 'true');
      const roleId = q.get('role.id');
      if (!effective) eq('a.role_id', roleId);
      const rows = await sql.all<AssignmentRow>(
        `SELECT a.kind, a.actor_id, a.target_id, a.role_id, r.name AS role_name
         FROM role_assignments a JOIN roles r ON r.id = a.role_id
         ${conds.length ? 'WHERE ' + conds.join(' AND ') : ''} ORDER BY a.kind, a.target_id, a.actor_id, r.name`,
        params,
      );
      let items = rows.map((a) => ({ a, prior: null as string | null }));
      if (effective) items = await expandImplied(items);
      if (effective && roleId !== null) items = items.filter((i) => i.a.role_id === roleId);
      const names = q.has('include_names') && boolQuery(q.get('include_names') || 'true') ? await nameTable(items.map((i) => i.a)) : null;
      return { status: 200, body: collection(req, 'role_assignments', items.map((i) => view(req, i.a, i.prior, names))) };
    },
    { auth: true },
  );

  /** Adds, after each assignment, the roles it implies (marked with the prior role). */
  async function expandImplied(items: { a: AssignmentRow; prior: string | null }[]) {
    const roles = await sql.all<{ id: string; name: string }>('SELECT id, name FROM roles');
    const byName = new Map(roles.map((r) => [r.name, r]));
    const out: typeof items = [];
    const seen = new Set<string>();
    for (const i of items) {
      for (const n of expandRoleNames([i.a.role_name])) {
        const r = byName.get(n);
        if (!r) continue;
        const k = `${i.a.kind}|${i.a.actor_id}|${i.a.target_id}|${r.id}`;
        if (seen.has(k)) continue;
        seen.add(k);
        out.push(r.id === i.a.role_id ? i : { a: { ...i.a, role_id: r.id, role_name: r.name }, prior: i.a.role_id });
      }
    }
    return out;
  }

  async function nameTable(rows: AssignmentRow[]) {
    const domains = new Map((await sql.all<{ id: string; name: string }>('SELECT id, name FROM domains')).map((d) => [d.id, d.name]));
    const users = new Map<string, { name: string; domain_id: string }>();
    const projects = new Map<string, { name: string; domain_id: string }>();
    for (const a of rows) {
      if (!users.has(a.actor_id)) {
        const u = await sql.get<{ name: string; domain_id: string }>('SELECT name, domain_id FROM users WHERE id = ?', [a.actor_id]);
        if (u) users.set(a.actor_id, u);
      }
      if (a.kind === 'UserProject' && !projects.has(a.target_id)) {
        const p = await sql.get<{ name: string; domain_id: string }>('SELECT name, domain_id FROM projects WHERE id = ?', [a.target_id]);
        if (p) projects.set(a.target_id, p);
      }
    }
    return { domains, users, projects };
  }

  function view(req: ApiRequest, a: AssignmentRow, prior: string | null, names: Awaited<ReturnType<typeof nameTable>> | null) {
    const segment = a.kind === 'UserProject' ? 'projects' : 'domains';
    const links: Record<string, string> = { assignment: link(req, `${segment}/${a.target_id}/users/${a.actor_id}/roles/${prior ?? a.role_id}`) };
    if (prior) links.prior_role = link(req, `roles/${prior}`);
    const dom = (id: string) => ({ id, name: names?.domains.get(id) ?? '' });
    const role: Record<string, unknown> = { id: a.role_id };
    const user: Record<string, unknown> = { id: a.actor_id };
    const target: Record<string, unknown> = { id: a.target_id };
    if (names) {
      role.name = a.role_name;
      const u = names.users.get(a.actor_id);
      if (u) Object.assign(user, { name: u.name, domain: dom(u.domain_id) });
      if (a.kind === 'UserProject') {
        const p = names.projects.get(a.target_id);
        if (p) Object.assign(target, { name: p.name, domain: dom(p.domain_id) });
      } else {
        target.name = names.domains.get(a.target_id) ?? '';
      }
    }
    return { role, user, scope: { [a.kind === 'UserProject' ? 'project' : 'domain']: target }, links };
  }

  function notAssigned(req: ApiRequest) {
    return notFound(
      `Could not find role assignment with role: ${req.params.role}, user or group: ${req.params.user}, project, domain, or system: ${req.params.target}.`,
    );
  }
}
