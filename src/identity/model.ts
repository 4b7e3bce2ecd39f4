/**
 * Identity rows and the lookups every part of the service shares. Booleans are INTEGER 0/1.
 * Role assignments are rows (kind, actor_id, target_id, role_id) with kind UserProject or
 * UserDomain, as Keystone's assignment table has them.
 */
import type { Sql } from '../db/sql.js';
import { notFound } from '../errors.js';

export interface DomainRow {
  id: string;
  name: string;
  description: string;
  enabled: number;
  created_at: string;
}

export interface ProjectRow {
  id: string;
  name: string;
  domain_id: string;
  description: string;
  enabled: number;
  parent_id: string | null;
  tags: string;
  created_at: string;
}

export interface UserRow {
  id: string;
  name: string;
  domain_id: string;
  password_hash: string | null;
  enabled: number;
  default_project_id: string | null;
  email: string | null;
  description: string;
  created_at: string;
  password_expires_at: string | null;
}

export interface RoleRow {
  id: string;
  name: string;
  domain_id: string | null;
  description: string;
}

export type AssignmentKind = 'UserProject' | 'UserDomain';

export interface RoleRef {
  id: string;
  name: string;
}

export const DEFAULT_DOMAIN_ID = 'default';

/**
 * Implied roles, as Keystone's bootstrap creates them: admin implies member, member implies
 * reader. A holder of a role holds every role it implies, transitively.
 */
export const IMPLIED_ROLES: Readonly<Record<string, readonly string[]>> = { admin: ['member'], member: ['reader'] };

/** Role names held through names, including implied ones; direct names keep their order first. */
export function expandRoleNames(names: Iterable<string>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n)) return;
    seen.add(n);
    out.push(n);
  };
  for (const n of names) visit(n);
  for (let i = 0; i < out.length; i++) for (const m of IMPLIED_ROLES[out[i]] ?? []) visit(m);
  return out;
}

/** Direct roles of a user on a project or domain. */
export function directRoles(sql: Sql, userId: string, kind: AssignmentKind, targetId: string): Promise<RoleRef[]> {
  return sql.all<RoleRef>(
    `SELECT r.id, r.name FROM role_assignments a JOIN roles r ON r.id = a.role_id
     WHERE a.kind = ? AND a.actor_id = ? AND a.target_id = ? ORDER BY r.name`,
    [kind, userId, targetId],
  );
}

/** Direct roles plus the roles they imply (those that exist as roles), with ids. */
export async function effectiveRoles(sql: Sql, direct: RoleRef[]): Promise<RoleRef[]> {
  const names = expandRoleNames(direct.map((r) => r.name));
  if (names.length === direct.length) return direct;
  const have = new Set(direct.map((r) => r.name));
  const missing = names.filter((n) => !have.has(n));
  const rows = await sql.all<RoleRef>(`SELECT id, name FROM roles WHERE name IN (${missing.map(() => '?').join(', ')})`, missing);
  const byName = new Map(rows.map((r) => [r.name, r]));
  return [...direct, ...missing.flatMap((n) => (byName.has(n) ? [byName.get(n)!] : []))];
}

export function getDomain(sql: Sql, id: string): Promise<DomainRow | undefined> {
  return sql.get<DomainRow>('SELECT * FROM domains WHERE id = ?', [id]);
}
export function getProject(sql: Sql, id: string): Promise<ProjectRow | undefined> {
  return sql.get<ProjectRow>('SELECT * FROM projects WHERE id = ?', [id]);
}
export function getUser(sql: Sql, id: string): Promise<UserRow | undefined> {
  return sql.get<UserRow>('SELECT * FROM users WHERE id = ?', [id]);
}
export function getRole(sql: Sql, id: string): Promise<RoleRow | undefined> {
  return sql.get<RoleRow>('SELECT * FROM roles WHERE id = ?', [id]);
}

/** Keystone's not-found messages: "Could not find project: X." */
export async function mustDomain(sql: Sql, id: string): Promise<DomainRow> {
  const d = await getDomain(sql, id);
  if (!d) throw notFound(`Could not find domain: ${id}.`);
  return d;
}
export async function mustProject(sql: Sql, id: string): Promise<ProjectRow> {
  const p = await getProject(sql, id);
  if (!p) throw notFound(`Could not find project: ${id}.`);
  return p;
}
export async function mustUser(sql: Sql, id: string): Promise<UserRow> {
  const u = await getUser(sql, id);
  if (!u) throw notFound(`Could not find user: ${id}.`);
  return u;
}
export async function mustRole(sql: Sql, id: string): Promise<RoleRow> {
  const r = await getRole(sql, id);
  if (!r) throw notFound(`Could not find role: ${id}.`);
  return r;
}

/** Domain by id, else by name (undefined when neither matches). */
export async function findDomain(sql: Sql, ref: { id?: string; name?: string }): Promise<DomainRow | undefined> {
  if (ref.id !== undefined) return getDomain(sql, ref.id);
  if (ref.name !== undefined) return sql.get<DomainRow>('SELECT * FROM domains WHERE name = ?', [ref.name]);
  return undefined;
}
