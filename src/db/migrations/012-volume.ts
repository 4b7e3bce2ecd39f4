import type { Migration } from '../migrate.js';

/**
 * Block storage (the Cinder v3 subset) and the compute side's block device mappings.
 * - volumes: one row per volume; `status` is Cinder's status machine (creating, available,
 *   reserved, attaching, in-use, detaching, deleting, extending, error, error_deleting,
 *   error_extending, ...); `path`/`format` locate its file in the store of the volume `host`;
 *   `error` keeps the last failure in words for the user. Soft-deleted (deleted = 1).
 * - volume_attachments: Cinder's attachments (v3 attachments API and Nova's use of it):
 *   status reserved -> attaching -> attached -> detached; `connector` (what the compute host
 *   sent) and `connection_info` (how it reaches the volume) as JSON.
 * - volume_snapshots, volume_types (extra_specs JSON), volume_quotas (per project, resource).
 * - block_device_mappings: Nova's BDMs per instance (boot volume, attached volumes, and the
 *   image-to-volume requests of boot from volume), soft-deleted.
 */
export const volume012: Migration = {
  id: '012-volume',
  up: (t) => `
CREATE TABLE volume_types (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, is_public INTEGER NOT NULL DEFAULT 1,
  extra_specs TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, updated_at TEXT, deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE volumes (
  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, user_id TEXT NOT NULL, name TEXT, description TEXT,
  size INTEGER NOT NULL, status TEXT NOT NULL, attach_status TEXT NOT NULL DEFAULT 'detached',
  volume_type_id TEXT, availability_zone TEXT NOT NULL, bootable INTEGER NOT NULL DEFAULT 0,
  multiattach INTEGER NOT NULL DEFAULT 0, source_volid TEXT, snapshot_id TEXT, image_id TEXT,
  volume_image_metadata TEXT NOT NULL DEFAULT '{}', metadata TEXT NOT NULL DEFAULT '{}',
  host TEXT, path TEXT, format TEXT NOT NULL DEFAULT 'qcow2', error TEXT,
  created_at TEXT NOT NULL, updated_at TEXT, deleted_at TEXT, deleted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX volumes_project ON volumes (project_id, deleted);
CREATE INDEX volumes_status ON volumes (status);
CREATE TABLE volume_attachments (
  id TEXT PRIMARY KEY, volume_id TEXT NOT NULL, instance_uuid TEXT NOT NULL, attached_host TEXT,
  mountpoint TEXT, attach_mode TEXT NOT NULL DEFAULT 'rw', status TEXT NOT NULL,
  connector TEXT, connection_info TEXT, created_at TEXT NOT NULL, updated_at TEXT,
  attach_time TEXT, detach_time TEXT, deleted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX volume_attachments_volume ON volume_attachments (volume_id, deleted);
CREATE INDEX volume_attachments_instance ON volume_attachments (instance_uuid, deleted);
CREATE TABLE volume_snapshots (
  id TEXT PRIMARY KEY, volume_id TEXT NOT NULL, project_id TEXT NOT NULL, user_id TEXT NOT NULL,
  name TEXT, description TEXT, size INTEGER NOT NULL, status TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}', path TEXT, error TEXT,
  created_at TEXT NOT NULL, updated_at TEXT, deleted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX volume_snapshots_volume ON volume_snapshots (volume_id, deleted);
CREATE TABLE volume_quotas (
  project_id TEXT NOT NULL, resource TEXT NOT NULL, hard_limit INTEGER NOT NULL,
  PRIMARY KEY (project_id, resource));
CREATE TABLE block_device_mappings (
  id ${t.pk}, uuid TEXT NOT NULL UNIQUE, instance_uuid TEXT NOT NULL,
  source_type TEXT NOT NULL, destination_type TEXT NOT NULL, boot_index INTEGER, device_name TEXT,
  volume_id TEXT, attachment_id TEXT, image_id TEXT, snapshot_id TEXT, volume_size INTEGER,
  delete_on_termination INTEGER NOT NULL DEFAULT 0, tag TEXT, connection_info TEXT,
  created_at TEXT NOT NULL, updated_at TEXT, deleted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX bdm_instance ON block_device_mappings (instance_uuid, deleted);
CREATE INDEX bdm_volume ON block_device_mappings (volume_id, deleted);
`,
};
