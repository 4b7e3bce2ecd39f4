import type { Migration } from '../migrate.js';

/**
 * Server groups (os-server-groups): one row per group with its single policy (Nova keeps one
 * policy per group since 2.64; older requests' one-item `policies` list maps onto it) and its
 * rules as JSON (`{"max_server_per_host": N}`, anti-affinity only). Members are instance uuids;
 * readers join live instances (deleted = 0), so deleting an instance needs no cleanup here.
 * Groups are soft-deleted (deleted = id) like instances; their member rows are removed.
 */
export const compute007: Migration = {
  id: '007-server-groups',
  up: (t) => `
CREATE TABLE server_groups (
  id ${t.pk}, uuid TEXT NOT NULL UNIQUE, name TEXT NOT NULL, project_id TEXT NOT NULL, user_id TEXT NOT NULL,
  policy TEXT NOT NULL, rules TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL, updated_at TEXT, deleted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX server_groups_project ON server_groups (project_id, deleted);
CREATE TABLE server_group_members (
  group_uuid TEXT NOT NULL, instance_uuid TEXT NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY (group_uuid, instance_uuid));
CREATE INDEX server_group_members_instance ON server_group_members (instance_uuid);
`,
};
