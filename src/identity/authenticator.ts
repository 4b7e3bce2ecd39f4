/**
 * Token validation on the hot path of every API request. Validated contexts are cached in
 * memory for a few seconds (never past the token's expiry), bounded in size; concurrent
 * misses for one token share a single database lookup. Changes made through this service that
 * can invalidate tokens evict at once (evict / clear); changes made by another process are seen
 * within CACHE_TTL_MS.
 */
import type { Sql } from '../db/sql.js';
import { unauthorized } from '../errors.js';
import type { RequestContext } from '../http/types.js';
import { resolveScope } from './token-scope.js';
import type { TokenStore } from './token-store.js';

const CACHE_TTL_MS = 5_000;
const CACHE_MAX = 10_000;

interface Entry {
  ctx: RequestContext;
  until: number;
}

export class Authenticator {
  private readonly cache = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<RequestContext>>();
  /** Bumped by clear(); lookups begun before a clear do not fill the cache. */
  private generation = 0;

  constructor(
    private readonly sql: Sql,
    private readonly store: TokenStore,
  ) {}

  /** The caller's context for a token; Unauthorized when invalid, expired or revoked. */
  async authenticate(token: string, requestId: string): Promise<RequestContext> {
    const hit = this.cache.get(token);
    if (hit) {
      if (hit.until > Date.now()) return { ...hit.ctx, requestId };
      this.cache.delete(token);
    }
    let p = this.pending.get(token);
    if (!p) {
      p = this.load(token).finally(() => this.pending.delete(token));
      this.pending.set(token, p);
    }
    return { ...(await p), requestId };
  }

  /** Forgets one token (it was revoked). */
  evict(token: string): void {
    this.generation++;
    this.cache.delete(token);
    this.pending.delete(token);
  }

  /** Forgets every token (users, projects, domains or assignments changed). */
  clear(): void {
    this.generation++;
    this.cache.clear();
    this.pending.clear();
  }

  private async load(token: string): Promise<RequestContext> {
    const gen = this.generation;
    const rec = await this.store.find(token);
    if (!rec) throw unauthorized();
    const scope = await resolveScope(this.sql, rec);
    const roles = scope.roles.map((r) => r.name);
    const ctx: RequestContext = {
      requestId: '',
      token,
      userId: scope.user.id,
      userName: scope.user.name,
      userDomainId: scope.user.domain.id,
      projectId: scope.project?.id ?? null,
      projectName: scope.project?.name ?? null,
      projectDomainId: scope.project?.domain.id ?? null,
      domainId: scope.domain?.id ?? null,
      roles,
      isAdmin: roles.includes('admin'),
      readOnly: roles.every((r) => r === 'reader'),
      expiresAt: rec.expiresAt,
    };
    if (gen === this.generation) {
      if (this.cache.size >= CACHE_MAX) {
        // Maps iterate in insertion order: drop the oldest tenth.
        let n = CACHE_MAX / 10;
        for (const k of this.cache.keys()) {
          this.cache.delete(k);
          if (--n <= 0) break;
        }
      }
      this.cache.set(token, { ctx, until: Math.min(Date.now() + CACHE_TTL_MS, Date.parse(rec.expiresAt)) });
    }
    return ctx;
  }
}
