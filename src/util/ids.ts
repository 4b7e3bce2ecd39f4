import { randomUUID, randomBytes, createHash } from 'node:crypto';

export const uuid = (): string => randomUUID();
/** An id in Keystone's style: 32 lowercase hex characters, no dashes. */
export const hexId = (): string => randomBytes(16).toString('hex');
export const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
export const isUuidLike = (s: unknown): s is string => typeof s === 'string' && UUID_RE.test(s);
