/** What every Identity API module shares: its dependencies, policy checks, bodies and links. */
import type { Sql } from '../../db/sql.js';
import { forbidden } from '../../errors.js';
import type { ApiRequest, RequestContext } from '../../http/types.js';
import { validate } from '../../http/validate.js';
import type { Authenticator } from '../authenticator.js';
import type { TokenStore } from '../token-store.js';

export interface IdentityDeps {
  sql: Sql;
  tokens: TokenStore;
  auth: Authenticator;
}

/** Keystone's policy refusal: "You are not authorized to perform the requested action: X." */
export function denied(action: string): Error {
  return forbidden(`You are not authorized to perform the requested action: ${action}.`);
}

/** 403 unless ctx holds the admin role. */
export function requireAdmin(ctx: RequestContext, action: string): void {
  if (!ctx.isAdmin) throw denied(action);
}

const wrappers = new WeakMap<object, Map<string, object>>();

/**
 * The member object of a request body such as {"project": {...}}, validated against schema
 * (a body without the member is checked as an empty one, as Keystone does). Invalid (400)
 * naming the offending field otherwise.
 */
export function member<T>(req: ApiRequest, key: string, schema: object): T {
  let byKey = wrappers.get(schema);
  if (!byKey) wrappers.set(schema, (byKey = new Map()));
  let wrapper = byKey.get(key);
  if (!wrapper) byKey.set(key, (wrapper = { type: 'object', properties: { [key]: schema } }));
  const body = req.body !== null && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};
  const value = body[key] ?? {};
  validate(wrapper, { [key]: value });
  return value as T;
}

/** The public URL of an Identity API path, e.g. link(req, `projects/${id}`). */
export function link(req: ApiRequest, path: string): string {
  return `${req.baseUrl}/v3/${path}`;
}

/** A Keystone collection: {key: items, links: {self, previous, next}}. */
export function collection(req: ApiRequest, key: string, items: unknown[]): Record<string, unknown> {
  const q = req.query.toString();
  return { [key]: items, links: { self: `${req.baseUrl}${req.path}${q ? '?' + q : ''}`, previous: null, next: null } };
}

/** Keystone's boolean query filters: "0", "false" and "no" (any case) are false, all else true. */
export function boolQuery(v: string): boolean {
  return !['0', 'false', 'no', 'off'].includes(v.toLowerCase());
}

/** Builds a WHERE clause from optional equality filters on query parameters. */
export function filters(req: ApiRequest, columns: Record<string, string>, bools: Record<string, string> = {}): { where: string; params: (string | number)[] } {
  const conds: string[] = [];
  const params: (string | number)[] = [];
  for (const [q, col] of Object.entries(columns)) {
    const v = req.query.get(q);
    if (v === null) continue;
    conds.push(`${col} = ?`);
    params.push(v);
  }
  for (const [q, col] of Object.entries(bools)) {
    const v = req.query.get(q);
    if (v === null) continue;
    conds.push(`${col} = ?`);
    params.push(boolQuery(v) ? 1 : 0);
  }
  return { where: conds.length ? `WHERE ${conds.join(' AND ')}` : '', params };
}

/** Schema pieces as Keystone's parameter types define them. */
export const K = {
  name64: { type: 'string', minLength: 1, maxLength: 64 },
  name255: { type: 'string', minLength: 1, maxLength: 255 },
  id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9-_]+$' },
  description: { type: ['string', 'null'] },
  boolean: { type: 'boolean' },
  tags: {
    type: 'array',
    maxItems: 80,
    uniqueItems: true,
    items: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^,/]*$' },
  },
  options: { type: 'object' },
} as const;

/** Conflict message as Keystone words it. */
export function duplicate(type: string, detail: string): string {
  return `Conflict occurred attempting to store ${type} - Duplicate entry found with ${detail}.`;
}

/** True for a unique-constraint violation from either SQL dialect (a lost race on a name). */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === '23505' || (typeof err?.message === 'string' && err.message.includes('UNIQUE constraint failed'));
}
