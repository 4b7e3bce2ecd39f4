/**
 * POST /v3/auth/tokens semantics, below HTTP: who the caller proves to be (methods password
 * and token) and which scope the new token gets (a project, a domain, or none). Every failure
 * to prove identity or reach the scope is Unauthorized with Keystone's one generic message, so
 * that answers never reveal whether a user, project or domain exists.
 */
import type { Sql } from '../db/sql.js';
import { invalid, unauthorized } from '../errors.js';
import { findDomain, getUser, type DomainRow, type ProjectRow, type UserRow } from './model.js';
import { verifyPassword } from './password.js';
import { resolveScope } from './token-scope.js';
import type { TokenRecord, TokenStore } from './token-store.js';

export interface NameOrId {
  id?: string;
  name?: string;
  domain?: { id?: string; name?: string };
}

export interface AuthRequest {
  identity: {
    methods: string[];
    password?: { user: NameOrId & { password: string } };
    token?: { id: string };
  };
  scope?: 'unscoped' | { project?: NameOrId; domain?: { id?: string; name?: string }; system?: unknown };
}

export interface Proven {
  user: UserRow;
  methods: string[];
  /** The token a token-method request presented (the new token derives from it). */
  parent?: TokenRecord;
}

export interface Scope {
  projectId: string | null;
  domainId: string | null;
}

/** Keystone's ValidationError wording. */
export function expecting(attribute: string, target: string): Error {
  return invalid(
    `Expecting to find ${attribute} in ${target}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`,
  );
}

const SUPPORTED = new Set(['password', 'token']);

/** Checks every method in the request; all must name the same, enabled user. */
export async function prove(sql: Sql, store: TokenStore, req: AuthRequest): Promise<Proven> {
  const methods = [...new Set(req.identity.methods)];
  for (const m of methods) {
    if (!SUPPORTED.has(m)) throw unauthorized('Attempted to authenticate with an unsupported method.');
    if (!req.identity[m as 'password' | 'token']) throw expecting(m, 'identity');
  }
  let user: UserRow | undefined;
  let parent: TokenRecord | undefined;
  const outMethods: string[] = [];
  if (req.identity.token && methods.includes('token')) {
    parent = (await store.find(req.identity.token.id)) ?? undefined;
    if (!parent) throw unauthorized();
    await resolveScope(sql, parent);
    user = await getUser(sql, parent.userId);
    outMethods.push(...parent.methods);
  }
  if (req.identity.password && methods.includes('password')) {
    const u = await passwordUser(sql, req.identity.password.user);
    if (user && user.id !== u.id) throw unauthorized();
    user = u;
  }
  for (const m of methods) if (!outMethods.includes(m)) outMethods.push(m);
  if (!user || !user.enabled) throw unauthorized();
  const domain = await findDomain(sql, { id: user.domain_id });
  if (!domain?.enabled) throw unauthorized();
  return { user, methods: outMethods, parent };
}

async function passwordUser(sql: Sql, ref: NameOrId & { password: string }): Promise<UserRow> {
  let user: UserRow | undefined;
  if (ref.id !== undefined) {
    user = await getUser(sql, ref.id);
  } else if (ref.name !== undefined) {
    if (!ref.domain || (ref.domain.id === undefined && ref.domain.name === undefined)) throw expecting('domain', 'user');
    const domain = await findDomain(sql, ref.domain);
    if (domain) user = await sql.get<UserRow>('SELECT * FROM users WHERE domain_id = ? AND name = ?', [domain.id, ref.name]);
  } else {
    throw expecting('id or name', 'user');
  }
  // Always derive once, so that unknown users answer as slowly as wrong passwords.
  const ok = await verifyPassword(ref.password, user?.password_hash);
  if (!user || !ok) throw unauthorized();
  return user;
}

/**
 * The scope of the new token. Without a scope the user's default project is used when the
 * user holds a role there, else the token is unscoped; "unscoped" asks for no scope at all.
 */
export async function chooseScope(sql: Sql, user: UserRow, scope: AuthRequest['scope']): Promise<Scope> {
  if (scope === 'unscoped') return { projectId: null, domainId: null };
  if (scope === undefined) {
    if (!user.default_project_id) return { projectId: null, domainId: null };
    const p = await sql.get<ProjectRow & { domain_enabled: number }>(
      'SELECT p.*, d.enabled AS domain_enabled FROM projects p JOIN domains d ON d.id = p.domain_id WHERE p.id = ?',
      [user.default_project_id],
    );
    const usable = p && p.enabled && p.domain_enabled && (await hasRole(sql, user.id, 'UserProject', p.id));
    return usable ? { projectId: p.id, domainId: null } : { projectId: null, domainId: null };
  }
  const n = Number(!!scope.project) + Number(!!scope.domain) + Number(scope.system !== undefined);
  if (n > 1) throw invalid('Specify a project, domain or system scope, not more than one.');
  if (scope.system !== undefined) throw unauthorized();
  if (scope.project) {
    const p = await findProject(sql, scope.project);
    if (!p || !p.enabled) throw unauthorized();
    const d = await findDomain(sql, { id: p.domain_id });
    if (!d?.enabled || !(await hasRole(sql, user.id, 'UserProject', p.id))) throw unauthorized();
    return { projectId: p.id, domainId: null };
  }
  if (scope.domain) {
    if (scope.domain.id === undefined && scope.domain.name === undefined) throw expecting('id or name', 'domain');
    const d = await findDomain(sql, scope.domain);
    if (!d?.enabled || !(await hasRole(sql, user.id, 'UserDomain', d.id))) throw unauthorized();
    return { projectId: null, domainId: d.id };
  }
  return { projectId: null, domainId: null };
}

async function findProject(sql: Sql, ref: NameOrId): Promise<ProjectRow | undefined> {
  if (ref.id !== undefined) return sql.get<ProjectRow>('SELECT * FROM projects WHERE id = ?', [ref.id]);
  if (ref.name === undefined) throw expecting('id or name', 'project');
  if (!ref.domain || (ref.domain.id === undefined && ref.domain.name === undefined)) throw expecting('domain', 'project');
  const d: DomainRow | undefined = await findDomain(sql, ref.domain);
  if (!d) return undefined;
  return sql.get<ProjectRow>('SELECT * FROM projects WHERE domain_id = ? AND name = ?', [d.id, ref.name]);
}

async function hasRole(sql: Sql, userId: string, kind: 'UserProject' | 'UserDomain', targetId: string): Promise<boolean> {
  const row = await sql.get('SELECT 1 AS x FROM role_assignments WHERE kind = ? AND actor_id = ? AND target_id = ? LIMIT 1', [kind, userId, targetId]);
  return row !== undefined;
}
