/**
 * First-start (and every-start) setup, like `keystone-manage bootstrap` plus DevStack: the
 * Default domain, roles admin/member/reader, projects admin/demo/service, users admin (admin on
 * admin) and demo (member on demo) with the configured passwords, the service user nova (admin
 * on service, when servicePassword is given), and the catalog. Idempotent: it creates what is
 * missing, resets the passwords when they changed, and never deletes anything an admin created.
 */
import type { Sql } from '../db/sql.js';
import { hexId } from '../util/ids.js';
import { DEFAULT_SERVICES, syncCatalog } from './catalog-sync.js';
import { DEFAULT_DOMAIN_ID } from './model.js';
import { hashPassword, verifyPassword } from './password.js';
import type { TokenStore } from './token-store.js';

/** The service user's name (Nova's [service_user] / [keystone_authtoken] user in DevStack). */
export const SERVICE_USER = 'nova';
/** The project of the service user. */
export const SERVICE_PROJECT = 'service';

export interface BootstrapOptions {
  publicUrl: string;
  region: string;
  adminPassword: string;
  demoPassword: string;
  /**
   * Password of the service user `nova` (admin on project `service`) that processes without
   * the DB log in as to move image data over the Image API. Absent: no service user is made.
   */
  servicePassword?: string;
  /** Catalog services the cloud serves (keys of MANAGED_SERVICES); default identity, compute, image. */
  services?: string[];
}

export async function bootstrap(sql: Sql, tokens: TokenStore, opts: BootstrapOptions): Promise<void> {
  const now = new Date().toISOString();
  await sql.run(
    `INSERT INTO domains (id, name, description, enabled, created_at) VALUES (?, 'Default', 'The default domain', 1, ?) ON CONFLICT DO NOTHING`,
    [DEFAULT_DOMAIN_ID, now],
  );
  const roles: Record<string, string> = {};
  for (const name of ['admin', 'member', 'reader']) roles[name] = await ensure(sql, 'roles', { name }, () => ({ id: hexId(), name, description: '' }));
  const projects: Record<string, string> = {};
  for (const [name, description] of [
    ['admin', 'Bootstrap project for initializing the cloud.'],
    ['demo', 'Project for demo users.'],
    ['service', 'Project for service users.'],
  ]) {
    projects[name] = await ensure(sql, 'projects', { domain_id: DEFAULT_DOMAIN_ID, name }, () => ({
      id: hexId(),
      name,
      domain_id: DEFAULT_DOMAIN_ID,
      description,
      created_at: now,
    }));
  }
  await Promise.all([
    ensureUser(sql, tokens, 'admin', opts.adminPassword, roles.admin, projects.admin),
    ensureUser(sql, tokens, 'demo', opts.demoPassword, roles.member, projects.demo),
    opts.servicePassword === undefined ? undefined : ensureUser(sql, tokens, SERVICE_USER, opts.servicePassword, roles.admin, projects.service),
  ]);
  await syncCatalog(sql, opts.publicUrl, opts.region, opts.services ?? DEFAULT_SERVICES);
  await tokens.purgeExpired();
}

/** The id of the row matching key, inserting make() when there is none (races lose quietly). */
async function ensure(sql: Sql, table: string, key: Record<string, string>, make: () => Record<string, string>): Promise<string> {
  const where = Object.keys(key).map((k) => `${k} = ?`).join(' AND ');
  const find = () => sql.get<{ id: string }>(`SELECT id FROM ${table} WHERE ${where}`, Object.values(key));
  const have = await find();
  if (have) return have.id;
  const row = make();
  const cols = Object.keys(row);
  await sql.run(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`, Object.values(row));
  return (await find())!.id;
}

async function ensureUser(sql: Sql, tokens: TokenStore, name: string, password: string, roleId: string, projectId: string): Promise<void> {
  const have = await sql.get<{ id: string; password_hash: string | null }>('SELECT id, password_hash FROM users WHERE domain_id = ? AND name = ?', [
    DEFAULT_DOMAIN_ID,
    name,
  ]);
  let id = have?.id;
  if (!have) {
    id = await ensure(sql, 'users', { domain_id: DEFAULT_DOMAIN_ID, name }, () => ({
      id: hexId(),
      name,
      domain_id: DEFAULT_DOMAIN_ID,
      description: '',
      created_at: new Date().toISOString(),
    }));
  }
  if (!have || !(await verifyPassword(password, have.password_hash))) {
    await sql.run('UPDATE users SET password_hash = ? WHERE id = ?', [await hashPassword(password), id!]);
    if (have) await tokens.revokeUser(id!);
  }
  await sql.run(`INSERT INTO role_assignments (kind, actor_id, target_id, role_id) VALUES ('UserProject', ?, ?, ?) ON CONFLICT DO NOTHING`, [
    id!,
    projectId,
    roleId,
  ]);
}
