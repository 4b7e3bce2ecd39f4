import type { Migration } from '../migrate.js';

/**
 * Nova's tables. Instances are soft-deleted: `deleted` is 0 while alive and the row id once
 * deleted (as in Nova), so unique constraints can include it.
 */
export const compute003: Migration = {
  id: '003-compute',
  up: (t) => `
CREATE TABLE flavors (
  id ${t.pk}, flavorid TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE,
  memory_mb INTEGER NOT NULL, vcpus INTEGER NOT NULL, root_gb INTEGER NOT NULL,
  ephemeral_gb INTEGER NOT NULL DEFAULT 0, swap INTEGER NOT NULL DEFAULT 0,
  rxtx_factor REAL NOT NULL DEFAULT 1.0, is_public INTEGER NOT NULL DEFAULT 1,
  disabled INTEGER NOT NULL DEFAULT 0, description TEXT,
  created_at TEXT NOT NULL, updated_at TEXT);
CREATE TABLE flavor_extra_specs (
  flavor_id INTEGER NOT NULL REFERENCES flavors(id) ON DELETE CASCADE, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (flavor_id, key));
CREATE TABLE flavor_projects (
  flavor_id INTEGER NOT NULL REFERENCES flavors(id) ON DELETE CASCADE, project_id TEXT NOT NULL,
  PRIMARY KEY (flavor_id, project_id));

CREATE TABLE key_pairs (
  id ${t.pk}, name TEXT NOT NULL, user_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
  public_key TEXT NOT NULL, type TEXT NOT NULL DEFAULT 'ssh', created_at TEXT NOT NULL,
  UNIQUE (user_id, name));

CREATE TABLE instances (
  id ${t.pk}, uuid TEXT NOT NULL UNIQUE, project_id TEXT NOT NULL, user_id TEXT NOT NULL,
  display_name TEXT NOT NULL, display_description TEXT, hostname TEXT,
  host TEXT, node TEXT, launched_on TEXT, availability_zone TEXT,
  flavor_id INTEGER NOT NULL, flavor TEXT NOT NULL, old_flavor TEXT, new_flavor TEXT,
  image_ref TEXT, kernel_id TEXT, ramdisk_id TEXT, key_name TEXT, key_data TEXT, user_data TEXT,
  config_drive TEXT NOT NULL DEFAULT '', vm_state TEXT NOT NULL, task_state TEXT,
  power_state INTEGER NOT NULL DEFAULT 0, memory_mb INTEGER NOT NULL, vcpus INTEGER NOT NULL,
  root_gb INTEGER NOT NULL, ephemeral_gb INTEGER NOT NULL DEFAULT 0,
  access_ip_v4 TEXT, access_ip_v6 TEXT, auto_disk_config INTEGER NOT NULL DEFAULT 0,
  locked INTEGER NOT NULL DEFAULT 0, locked_by TEXT, locked_reason TEXT,
  progress INTEGER NOT NULL DEFAULT 0, launch_index INTEGER NOT NULL DEFAULT 0,
  reservation_id TEXT NOT NULL, root_device_name TEXT, os_type TEXT,
  security_groups TEXT NOT NULL DEFAULT '[]', requested_networks TEXT NOT NULL DEFAULT '"none"',
  network_info TEXT NOT NULL DEFAULT '[]', block_devices TEXT NOT NULL DEFAULT '[]',
  system_metadata TEXT NOT NULL DEFAULT '{}', scheduler_hints TEXT NOT NULL DEFAULT '{}',
  trusted_image_certificates TEXT, hidden INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, launched_at TEXT, terminated_at TEXT,
  deleted_at TEXT, deleted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX instances_project ON instances (project_id, deleted, created_at, id);
CREATE INDEX instances_created ON instances (deleted, created_at, id);
CREATE INDEX instances_updated ON instances (updated_at);
CREATE INDEX instances_host ON instances (host, deleted);
CREATE INDEX instances_name ON instances (display_name);
CREATE INDEX instances_reservation ON instances (reservation_id);
CREATE TABLE instance_metadata (
  instance_uuid TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (instance_uuid, key));
CREATE TABLE instance_tags (
  instance_uuid TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (instance_uuid, tag));
CREATE INDEX instance_tags_tag ON instance_tags (tag);
CREATE TABLE instance_faults (
  id ${t.pk}, instance_uuid TEXT NOT NULL, code INTEGER NOT NULL, message TEXT NOT NULL,
  details TEXT NOT NULL DEFAULT '', host TEXT, created_at TEXT NOT NULL);
CREATE INDEX instance_faults_uuid ON instance_faults (instance_uuid, id);
CREATE TABLE instance_actions (
  id ${t.pk}, action TEXT NOT NULL, instance_uuid TEXT NOT NULL, request_id TEXT NOT NULL,
  user_id TEXT, project_id TEXT, start_time TEXT NOT NULL, finish_time TEXT, message TEXT,
  updated_at TEXT NOT NULL);
CREATE INDEX instance_actions_uuid ON instance_actions (instance_uuid, start_time);
CREATE INDEX instance_actions_req ON instance_actions (instance_uuid, request_id);
CREATE TABLE instance_action_events (
  id ${t.pk}, action_id INTEGER NOT NULL REFERENCES instance_actions(id) ON DELETE CASCADE,
  event TEXT NOT NULL, start_time TEXT NOT NULL, finish_time TEXT, result TEXT, traceback TEXT,
  host TEXT, details TEXT);
CREATE INDEX instance_action_events_action ON instance_action_events (action_id);

CREATE TABLE migrations (
  id ${t.pk}, uuid TEXT NOT NULL UNIQUE, instance_uuid TEXT NOT NULL, migration_type TEXT NOT NULL,
  source_compute TEXT, dest_compute TEXT, source_node TEXT, dest_node TEXT, dest_host TEXT,
  old_flavor_id INTEGER, new_flavor_id INTEGER, status TEXT NOT NULL, project_id TEXT, user_id TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX migrations_instance ON migrations (instance_uuid, status);

CREATE TABLE quotas (
  project_id TEXT NOT NULL, user_id TEXT NOT NULL DEFAULT '', resource TEXT NOT NULL,
  hard_limit INTEGER NOT NULL, PRIMARY KEY (project_id, user_id, resource));
CREATE TABLE quota_classes (
  class_name TEXT NOT NULL, resource TEXT NOT NULL, hard_limit INTEGER NOT NULL,
  PRIMARY KEY (class_name, resource));

CREATE TABLE services (
  id ${t.pk}, uuid TEXT NOT NULL UNIQUE, host TEXT NOT NULL, "binary" TEXT NOT NULL, topic TEXT,
  report_count INTEGER NOT NULL DEFAULT 0, disabled INTEGER NOT NULL DEFAULT 0, disabled_reason TEXT,
  forced_down INTEGER NOT NULL DEFAULT 0, last_seen_up TEXT, version INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL, updated_at TEXT, deleted INTEGER NOT NULL DEFAULT 0,
  UNIQUE (host, "binary", deleted));

CREATE TABLE compute_nodes (
  id ${t.pk}, uuid TEXT NOT NULL UNIQUE, service_id INTEGER, host TEXT NOT NULL,
  hypervisor_hostname TEXT NOT NULL, hypervisor_type TEXT NOT NULL, hypervisor_version INTEGER NOT NULL,
  host_ip TEXT, cpu_info TEXT NOT NULL DEFAULT '{}',
  vcpus INTEGER NOT NULL, memory_mb INTEGER NOT NULL, local_gb INTEGER NOT NULL,
  cpu_allocation_ratio REAL NOT NULL DEFAULT 4.0, ram_allocation_ratio REAL NOT NULL DEFAULT 1.0,
  disk_allocation_ratio REAL NOT NULL DEFAULT 1.0, reserved_host_cpus INTEGER NOT NULL DEFAULT 0,
  reserved_host_memory_mb INTEGER NOT NULL DEFAULT 512, reserved_host_disk_mb INTEGER NOT NULL DEFAULT 0,
  disk_available_least INTEGER, current_workload INTEGER NOT NULL DEFAULT 0,
  capabilities TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL, updated_at TEXT, deleted INTEGER NOT NULL DEFAULT 0,
  UNIQUE (hypervisor_hostname, deleted));

CREATE TABLE allocations (
  consumer_uuid TEXT NOT NULL, node_uuid TEXT NOT NULL, vcpus INTEGER NOT NULL,
  memory_mb INTEGER NOT NULL, disk_gb INTEGER NOT NULL, project_id TEXT, user_id TEXT,
  created_at TEXT NOT NULL, PRIMARY KEY (consumer_uuid, node_uuid));
CREATE INDEX allocations_node ON allocations (node_uuid);

CREATE TABLE aggregates (
  id ${t.pk}, uuid TEXT NOT NULL UNIQUE, name TEXT NOT NULL, created_at TEXT NOT NULL,
  updated_at TEXT, deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE aggregate_hosts (
  aggregate_id INTEGER NOT NULL REFERENCES aggregates(id) ON DELETE CASCADE, host TEXT NOT NULL,
  PRIMARY KEY (aggregate_id, host));
CREATE TABLE aggregate_metadata (
  aggregate_id INTEGER NOT NULL REFERENCES aggregates(id) ON DELETE CASCADE, key TEXT NOT NULL,
  value TEXT NOT NULL, PRIMARY KEY (aggregate_id, key));
`,
};
