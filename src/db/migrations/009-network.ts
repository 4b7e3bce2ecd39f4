import type { Migration } from '../migrate.js';

/**
 * The network service (Neutron API subset; nova-network's dataplane). Ids are UUID strings as
 * in Neutron; rows are deleted for real (Neutron keeps no soft-deleted rows).
 * - ip_allocations: one row per fixed IP; the primary key (subnet_id, ip_address) is what makes
 *   IPAM safe under concurrency (a racing insert fails and the allocator tries the next address).
 * - ports.mac_address is unique per network, as Neutron.
 * - sg_port_bindings: the security groups of a port, in order.
 * - network_quotas: per-project limits that differ from the defaults (networks, subnets, ports,
 *   security groups, rules).
 * - subnets keep their allocation pools, DNS servers and host routes as JSON.
 */
export const network009: Migration = {
  id: '009-network',
  up: () => `
CREATE TABLE networks (
  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',
  admin_state_up INTEGER NOT NULL DEFAULT 1, shared INTEGER NOT NULL DEFAULT 0, external INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'ACTIVE', mtu INTEGER NOT NULL DEFAULT 1500, port_security_enabled INTEGER NOT NULL DEFAULT 1,
  tags TEXT NOT NULL DEFAULT '[]', revision_number INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX networks_project ON networks (project_id);
CREATE TABLE subnets (
  id TEXT PRIMARY KEY, network_id TEXT NOT NULL REFERENCES networks (id), project_id TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '', ip_version INTEGER NOT NULL DEFAULT 4,
  cidr TEXT NOT NULL, gateway_ip TEXT, enable_dhcp INTEGER NOT NULL DEFAULT 1,
  allocation_pools TEXT NOT NULL DEFAULT '[]', dns_nameservers TEXT NOT NULL DEFAULT '[]', host_routes TEXT NOT NULL DEFAULT '[]',
  tags TEXT NOT NULL DEFAULT '[]', revision_number INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX subnets_network ON subnets (network_id);
CREATE TABLE ports (
  id TEXT PRIMARY KEY, network_id TEXT NOT NULL REFERENCES networks (id), project_id TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '', mac_address TEXT NOT NULL,
  admin_state_up INTEGER NOT NULL DEFAULT 1, status TEXT NOT NULL DEFAULT 'DOWN',
  device_owner TEXT NOT NULL DEFAULT '', device_id TEXT NOT NULL DEFAULT '', binding_host_id TEXT NOT NULL DEFAULT '',
  port_security_enabled INTEGER NOT NULL DEFAULT 1, tags TEXT NOT NULL DEFAULT '[]',
  revision_number INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  UNIQUE (network_id, mac_address));
CREATE INDEX ports_device ON ports (device_id);
CREATE INDEX ports_host ON ports (binding_host_id);
CREATE INDEX ports_network ON ports (network_id);
CREATE TABLE ip_allocations (
  subnet_id TEXT NOT NULL REFERENCES subnets (id), ip_address TEXT NOT NULL, port_id TEXT NOT NULL REFERENCES ports (id),
  network_id TEXT NOT NULL, PRIMARY KEY (subnet_id, ip_address));
CREATE INDEX ip_allocations_port ON ip_allocations (port_id);
CREATE TABLE security_groups (
  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
  stateful INTEGER NOT NULL DEFAULT 1, tags TEXT NOT NULL DEFAULT '[]',
  revision_number INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX security_groups_project ON security_groups (project_id, name);
CREATE TABLE security_group_rules (
  id TEXT PRIMARY KEY, security_group_id TEXT NOT NULL REFERENCES security_groups (id), project_id TEXT NOT NULL,
  direction TEXT NOT NULL, ethertype TEXT NOT NULL DEFAULT 'IPv4', protocol TEXT,
  port_range_min INTEGER, port_range_max INTEGER, remote_ip_prefix TEXT, remote_group_id TEXT,
  description TEXT NOT NULL DEFAULT '', revision_number INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX security_group_rules_group ON security_group_rules (security_group_id);
CREATE INDEX security_group_rules_remote ON security_group_rules (remote_group_id);
CREATE TABLE sg_port_bindings (
  port_id TEXT NOT NULL REFERENCES ports (id), security_group_id TEXT NOT NULL REFERENCES security_groups (id),
  position INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (port_id, security_group_id));
CREATE INDEX sg_port_bindings_group ON sg_port_bindings (security_group_id);
CREATE TABLE network_quotas (
  project_id TEXT NOT NULL, resource TEXT NOT NULL, hard_limit INTEGER NOT NULL, PRIMARY KEY (project_id, resource));
`,
};
