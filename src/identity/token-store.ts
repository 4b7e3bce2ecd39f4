/**
 * Persistence of issued tokens. A token is stored only under the SHA-256 of its id, with its
 * scope, methods, audit ids and expiry; tokens survive restarts. Revocation marks the row;
 * expired rows are purged now and then.
 */
import type { Sql } from '../db/sql.js';
import { newAuditId, newTokenId, tokenHash } from './token-id.js';

export interface TokenRecord {
  userId: string;
  projectId: string | null;
  domainId: string | null;
  methods: string[];
  /** This token's audit id first, then the audit id of the token it was derived from. */
  auditIds: string[];
  issuedAt: string;
  expiresAt: string;
}

interface TokenRow {
  user_id: string;
  project_id: string | null;
  domain_id: string | null;
  methods: string;
  audit_id: string;
  audit_chain: string;
  issued_at: string;
  expires_at: string;
  revoked: number;
}

export interface IssueRequest {
  userId: string;
  projectId: string | null;
  domainId: string | null;
  methods: string[];
  /** Set when re-scoping: the new token keeps its expiry and audit chain. */
  parent?: TokenRecord;
}

export class TokenStore {
  private issuedSincePurge = 0;

  constructor(
    private readonly sql: Sql,
    private readonly ttlSec: number,
  ) {}

  /** Stores a new token and returns its id (the only copy of it) with its record. */
  async issue(req: IssueRequest): Promise<{ id: string; record: TokenRecord }> {
    const id = newTokenId();
    const now = new Date();
    const own = new Date(now.getTime() + this.ttlSec * 1000).toISOString();
    const expiresAt = req.parent && req.parent.expiresAt < own ? req.parent.expiresAt : own;
    const auditId = newAuditId();
    const chain = req.parent ? [req.parent.auditIds[req.parent.auditIds.length - 1]] : [];
    const record: TokenRecord = {
      userId: req.userId,
      projectId: req.projectId,
      domainId: req.domainId,
      methods: req.methods,
      auditIds: [auditId, ...chain],
      issuedAt: now.toISOString(),
      expiresAt,
    };
    await this.sql.run(
      `INSERT INTO tokens (token_hash, user_id, project_id, domain_id, methods, audit_id, audit_chain, issued_at, expires_at, revoked)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
      [tokenHash(id), req.userId, req.projectId, req.domainId, JSON.stringify(req.methods), auditId, JSON.stringify(chain), record.issuedAt, expiresAt],
    );
    if (++this.issuedSincePurge >= 1000) {
      this.issuedSincePurge = 0;
      await this.purgeExpired();
    }
    return { id, record };
  }

  /** The record of a token that exists, is not revoked and has not expired; else null. */
  async find(id: string): Promise<TokenRecord | null> {
    const row = await this.sql.get<TokenRow>('SELECT * FROM tokens WHERE token_hash = ?', [tokenHash(id)]);
    if (!row || row.revoked || row.expires_at <= new Date().toISOString()) return null;
    return {
      userId: row.user_id,
      projectId: row.project_id,
      domainId: row.domain_id,
      methods: JSON.parse(row.methods) as string[],
      auditIds: [row.audit_id, ...(JSON.parse(row.audit_chain) as string[])],
      issuedAt: row.issued_at,
      expiresAt: row.expires_at,
    };
  }

  /** Revokes one token. Idempotent. */
  async revoke(id: string): Promise<void> {
    await this.sql.run('UPDATE tokens SET revoked = 1 WHERE token_hash = ?', [tokenHash(id)]);
  }

  /** Revokes every token of a user (password change, disable, delete). */
  async revokeUser(userId: string): Promise<void> {
    await this.sql.run('UPDATE tokens SET revoked = 1 WHERE user_id = ? AND revoked = 0', [userId]);
  }

  /** Deletes rows that expired more than a minute ago. */
  async purgeExpired(): Promise<void> {
    await this.sql.run('DELETE FROM tokens WHERE expires_at < ?', [new Date(Date.now() - 60_000).toISOString()]);
  }
}
