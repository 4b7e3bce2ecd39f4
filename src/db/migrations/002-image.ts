import type { Migration } from '../migrate.js';

export const image002: Migration = {
  id: '002-image',
  up: () => `
CREATE TABLE images (
  id TEXT PRIMARY KEY, name TEXT, owner TEXT, status TEXT NOT NULL, visibility TEXT NOT NULL,
  protected INTEGER NOT NULL DEFAULT 0, os_hidden INTEGER NOT NULL DEFAULT 0,
  disk_format TEXT, container_format TEXT, size BIGINT, virtual_size BIGINT,
  checksum TEXT, os_hash_algo TEXT, os_hash_value TEXT,
  min_disk INTEGER NOT NULL DEFAULT 0, min_ram INTEGER NOT NULL DEFAULT 0,
  properties TEXT NOT NULL DEFAULT '{}', file_path TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, deleted_at TEXT);
CREATE INDEX images_owner ON images (owner, deleted);
CREATE INDEX images_created ON images (deleted, created_at, id);
CREATE INDEX images_name ON images (name);
CREATE TABLE image_tags (image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE, tag TEXT NOT NULL,
  PRIMARY KEY (image_id, tag));
CREATE TABLE image_members (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE, member_id TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending', created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (image_id, member_id));
CREATE INDEX image_members_member ON image_members (member_id);
`,
};
