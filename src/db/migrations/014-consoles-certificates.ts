import type { Migration } from '../migrate.js';

/**
 * Console tokens (Nova's console_auth_tokens, kept by nova-consoleauth before Rocky) and the
 * certificates the CA issued to users (nova-cert's certificates table).
 *
 * console_auth_tokens: one row per token handed out by remote-consoles. Only the sha256 hex of
 * the token is kept (`token_hash`), so a DB dump gives nobody a console. A token is bound to one
 * instance and one console (`console_type`: novnc or serial) and to where that console is
 * reached (`host`, `port` for TCP, or `internal_access_path` for a unix socket on the host).
 * `expires_at` is epoch seconds; expired rows are swept by the token store.
 *
 * certificates: what os-certificates issued, newest last; `serial` is the certificate's serial
 * number in hex; `not_after` its expiry (ISO 8601). Private keys are never stored.
 */
export const console014: Migration = {
  id: '014-consoles-certificates',
  up: () => `
CREATE TABLE console_auth_tokens (
  id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, console_type TEXT NOT NULL,
  host TEXT NOT NULL, port INTEGER, internal_access_path TEXT, tls_port INTEGER,
  instance_uuid TEXT NOT NULL, access_url_base TEXT NOT NULL,
  expires_at BIGINT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX console_auth_tokens_instance ON console_auth_tokens (instance_uuid);
CREATE INDEX console_auth_tokens_expires ON console_auth_tokens (expires_at);
CREATE TABLE certificates (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, project_id TEXT NOT NULL, serial TEXT NOT NULL UNIQUE,
  subject TEXT NOT NULL, not_after TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX certificates_user ON certificates (user_id, project_id);
`,
};
