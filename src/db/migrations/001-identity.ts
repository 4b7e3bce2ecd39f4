import type { Migration } from '../migrate.js';

export const identity001: Migration = {
  id: '001-identity',
  up: () => `
CREATE TABLE domains (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',
  enabled INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL);
CREATE TABLE projects (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, domain_id TEXT NOT NULL REFERENCES domains(id),
  description TEXT NOT NULL DEFAULT '', enabled INTEGER NOT NULL DEFAULT 1, parent_id TEXT,
  tags TEXT NOT NULL DEFAULT '[]', created_at TEXT NOT NULL, UNIQUE (domain_id, name));
CREATE TABLE users (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, domain_id TEXT NOT NULL REFERENCES domains(id),
  password_hash TEXT, enabled INTEGER NOT NULL DEFAULT 1, default_project_id TEXT,
  email TEXT, description TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL,
  password_expires_at TEXT, UNIQUE (domain_id, name));
CREATE TABLE roles (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, domain_id TEXT, description TEXT NOT NULL DEFAULT '');
CREATE TABLE role_assignments (
  actor_id TEXT NOT NULL, target_id TEXT NOT NULL, role_id TEXT NOT NULL REFERENCES roles(id),
  kind TEXT NOT NULL, PRIMARY KEY (kind, actor_id, target_id, role_id));
CREATE INDEX role_assignments_target ON role_assignments (target_id);
CREATE TABLE tokens (
  token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, project_id TEXT, domain_id TEXT,
  methods TEXT NOT NULL, audit_id TEXT NOT NULL, audit_chain TEXT NOT NULL DEFAULT '[]',
  issued_at TEXT NOT NULL, expires_at TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX tokens_user ON tokens (user_id);
CREATE INDEX tokens_expires ON tokens (expires_at);
CREATE TABLE regions (id TEXT PRIMARY KEY, description TEXT NOT NULL DEFAULT '', parent_region_id TEXT);
CREATE TABLE catalog_services (
  id TEXT PRIMARY KEY, type TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
  enabled INTEGER NOT NULL DEFAULT 1);
CREATE TABLE catalog_endpoints (
  id TEXT PRIMARY KEY, service_id TEXT NOT NULL REFERENCES catalog_services(id) ON DELETE CASCADE,
  interface TEXT NOT NULL, region_id TEXT, url TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1);
`,
};
