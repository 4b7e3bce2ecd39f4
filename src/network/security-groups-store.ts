/**
 * Security groups in the database: the project's `default` group, name resolution for ports
 * and servers, a port's group bindings, and which hosts a change reaches. No request context
 * here: callers have checked policy and visibility. None of these notify the agents; the
 * caller does (notifyAgents) once its change is committed.
 */
import { randomUUID } from 'node:crypto';
import { NovaError } from '../errors.js';
import { inList, type Sql } from '../db/sql.js';
import { nowIso } from '../util/time.js';
import type { RuleFields } from './security-group-rules-validate.js';

export interface GroupRow {
  id: string;
  project_id: string;
  name: string;
  description: string;
  stateful: number;
  tags: string;
  revision_number: number;
  created_at: string;
  updated_at: string;
}

/** A stored rule: the validated fields plus identity and bookkeeping. */
export interface RuleRow extends RuleFields {
  id: string;
  security_group_id: string;
  project_id: string;
  revision_number: number;
  created_at: string;
  updated_at: string;
}

export const DEFAULT_GROUP = 'default';


export const groupNotFound = (id: string) =>
  new NovaError('NotFound', `Security group ${id} does not exist`, { neutronType: 'SecurityGroupNotFound' });

/**
 * Serialises check-then-insert sections on one key inside tx. SQLite transactions are already
 * exclusive (BEGIN IMMEDIATE); PostgreSQL takes a transaction-scoped advisory lock.
 */
export async function lockKey(tx: Sql, key: string): Promise<void> {
  if (tx.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock(hashtext(?))', [key]);
}

/** Inserts a rule row (fields already validated). */
export async function insertRule(
  tx: Sql,
  r: Omit<RuleRow, 'id' | 'revision_number' | 'created_at' | 'updated_at'> & { id?: string },
): Promise<string> {
  const id = r.id ?? randomUUID();
  const ts = nowIso();
  await tx.run(
    `INSERT INTO security_group_rules (id, security_group_id, project_id, direction, ethertype, protocol, port_range_min,
       port_range_max, remote_ip_prefix, remote_group_id, description, revision_number, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
    [id, r.security_group_id, r.project_id, r.direction, r.ethertype, r.protocol, r.port_range_min, r.port_range_max,
      r.remote_ip_prefix, r.remote_group_id, r.description, ts, ts],
  );
  return id;
}

/** Inserts a group with Neutron's egress rules (IPv4 and IPv6 to anywhere); `default` also admits its own members. */
export async function insertGroup(tx: Sql, g: { project_id: string; name: string; description: string }): Promise<string> {
  const id = randomUUID();
  const ts = nowIso();
  await tx.run(
    `INSERT INTO security_groups (id, project_id, name, description, stateful, tags, revision_number, created_at, updated_at)
     VALUES (?, ?, ?, ?, 1, '[]', 0, ?, ?)`,
    [id, g.project_id, g.name, g.description, ts, ts],
  );
  const base = { security_group_id: id, project_id: g.project_id, protocol: null, port_range_min: null, port_range_max: null,
    remote_ip_prefix: null, description: '' };
  for (const ethertype of ['IPv4', 'IPv6'] as const) {
    if (g.name === DEFAULT_GROUP) await insertRule(tx, { ...base, direction: 'ingress', ethertype, remote_group_id: id });
    await insertRule(tx, { ...base, direction: 'egress', ethertype, remote_group_id: null });
  }
  return id;
}

async function findDefault(sql: Sql, projectId: string): Promise<string | undefined> {
  const row = await sql.get<{ id: string }>(
    'SELECT id FROM security_groups WHERE project_id = ? AND name = ? ORDER BY created_at, id LIMIT 1',
    [projectId, DEFAULT_GROUP],
  );
  return row?.id;
}

/**
 * The id of the project's `default` group, created (with Neutron's four default rules) the
 * first time it is needed. Concurrent callers for one project get the same single group.
 */
export async function ensureDefaultSecurityGroup(sql: Sql, projectId: string): Promise<string> {
  const existing = await findDefault(sql, projectId);
  if (existing) return existing;
  return sql.tx(async (tx) => {
    await lockKey(tx, `security-group-default:${projectId}`);
    const again = await findDefault(tx, projectId);
    if (again) return again;
    return insertGroup(tx, { project_id: projectId, name: DEFAULT_GROUP, description: 'Default security group' });
  });
}

/**
 * Resolves security group names or ids within projectId to ids, in order, without duplicates.
 * An empty list means the project's default group. An unknown name is a 404 naming it; a
 * name several groups share is a 409 asking for an id.
 */
export async function resolveSecurityGroups(sql: Sql, projectId: string, namesOrIds: string[]): Promise<string[]> {
  if (namesOrIds.length === 0) return [await ensureDefaultSecurityGroup(sql, projectId)];
  const wanted = [...new Set(namesOrIds)];
  const rows = await sql.all<{ id: string; name: string }>(
    `SELECT id, name FROM security_groups WHERE project_id = ? AND (id IN ${inList(wanted.length)} OR name IN ${inList(wanted.length)})`,
    [projectId, ...wanted, ...wanted],
  );
  const out: string[] = [];
  for (const key of wanted) {
    let id = rows.find((r) => r.id === key)?.id;
    if (!id) {
      const named = rows.filter((r) => r.name === key);
      if (named.length > 1)
        throw new NovaError('Conflict', `Multiple security groups are named '${key}' in this project; use the ID of the one you mean.`, {
          neutronType: 'DuplicateSecurityGroupName',
        });
      id = named[0]?.id;
      if (!id && key === DEFAULT_GROUP) id = await ensureDefaultSecurityGroup(sql, projectId);
    }
    if (!id)
      throw new NovaError('NotFound', `Security group ${key} not found: no security group of this project has that name or ID.`, {
        neutronType: 'SecurityGroupNotFound',
      });
    if (!out.includes(id)) out.push(id);
  }
  return out;
}

/** Replaces the port's group bindings with ids, in that order. Idempotent. */
export async function setPortSecurityGroups(sql: Sql, portId: string, ids: string[]): Promise<void> {
  await sql.tx(async (tx) => {
    await tx.run('DELETE FROM sg_port_bindings WHERE port_id = ?', [portId]);
    let position = 0;
    for (const id of new Set(ids))
      await tx.run('INSERT INTO sg_port_bindings (port_id, security_group_id, position) VALUES (?, ?, ?)', [portId, id, position++]);
  });
}

/** Each port's group ids in binding order; every asked port is a key (an empty list when it has none). */
export async function portSecurityGroupIds(sql: Sql, portIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(portIds.map((id) => [id, []]));
  if (portIds.length === 0) return out;
  const rows = await sql.all<{ port_id: string; security_group_id: string }>(
    `SELECT port_id, security_group_id FROM sg_port_bindings WHERE port_id IN ${inList(portIds.length)} ORDER BY port_id, position`,
    portIds,
  );
  for (const r of rows) out.get(r.port_id)?.push(r.security_group_id);
  return out;
}

/**
 * The hosts whose agents must re-read their state after a change to group groupId (its rules
 * or its members): hosts of the ports in the group and of the ports in groups whose rules name
 * it as remote_group_id.
 */
export async function groupsOfPortsAffectedBy(sql: Sql, groupId: string): Promise<string[]> {
  const rows = await sql.all<{ host: string }>(
    `SELECT DISTINCT p.binding_host_id AS host FROM ports p JOIN sg_port_bindings b ON b.port_id = p.id
     WHERE p.binding_host_id <> '' AND (b.security_group_id = ?
       OR b.security_group_id IN (SELECT security_group_id FROM security_group_rules WHERE remote_group_id = ?))`,
    [groupId, groupId],
  );
  return rows.map((r) => r.host).sort();
}

/**
 * The hosts to notify when the given ports change (created, deleted, new IPs or groups): the
 * ports' own hosts and those of ports whose rules admit the ports' groups by remote_group_id.
 * Call it before deleting the ports (their bindings are gone afterwards).
 */
export async function hostsAffectedByPorts(sql: Sql, portIds: string[]): Promise<string[]> {
  if (portIds.length === 0) return [];
  const rows = await sql.all<{ host: string }>(
    `SELECT DISTINCT p.binding_host_id AS host FROM ports p WHERE p.binding_host_id <> '' AND (p.id IN ${inList(portIds.length)}
       OR p.id IN (SELECT b.port_id FROM sg_port_bindings b JOIN security_group_rules r ON r.security_group_id = b.security_group_id
         WHERE r.remote_group_id IN (SELECT security_group_id FROM sg_port_bindings WHERE port_id IN ${inList(portIds.length)})))`,
    [...portIds, ...portIds],
  );
  return rows.map((r) => r.host).sort();
}
