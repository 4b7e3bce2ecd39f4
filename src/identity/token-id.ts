import { createHash, randomBytes } from 'node:crypto';

/**
 * Token ids are opaque bearer secrets: 32 random bytes, base64url (43 characters). Only their
 * SHA-256 is stored, so a copy of the database does not hand out working tokens.
 */
export function newTokenId(): string {
  return randomBytes(32).toString('base64url');
}

/** The key a token is stored under: hex SHA-256 of its id. */
export function tokenHash(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** Keystone-style audit id: 16 random bytes, base64url without padding (22 characters). */
export function newAuditId(): string {
  return randomBytes(16).toString('base64url');
}
