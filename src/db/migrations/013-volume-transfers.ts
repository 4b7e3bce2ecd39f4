import type { Migration } from '../migrate.js';

/**
 * Volume transfers (Cinder's os-volume-transfer / volume-transfers): a volume offered by its
 * project (`project_id`) to whoever presents the auth key. Only a salted hash of the key is
 * kept (`salt`, `crypt_hash`, sha256 hex). Accepting one records `accepted` and
 * `destination_project_id` and soft-deletes the row; so does deleting it.
 */
export const volume013: Migration = {
  id: '013-volume-transfers',
  up: () => `
CREATE TABLE volume_transfers (
  id TEXT PRIMARY KEY, volume_id TEXT NOT NULL, project_id TEXT NOT NULL, name TEXT,
  salt TEXT NOT NULL, crypt_hash TEXT NOT NULL, no_snapshots INTEGER NOT NULL DEFAULT 0,
  accepted INTEGER NOT NULL DEFAULT 0, destination_project_id TEXT,
  created_at TEXT NOT NULL, updated_at TEXT, deleted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX volume_transfers_volume ON volume_transfers (volume_id, deleted);
`,
};
