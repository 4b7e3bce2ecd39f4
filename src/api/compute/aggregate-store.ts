/**
 * Host aggregates in the DB (tables of 003-compute): the aggregate row, its hosts and its
 * metadata. An aggregate's availability zone is its `availability_zone` metadata key, which is
 * what the services, availability-zone and scheduler readers join on (aggregates.deleted = 0).
 * Deleted aggregates are soft-deleted (deleted = id) and lose their host and metadata rows.
 */
import { conflict, invalid, notFound } from '../../errors.js';
import { inList, type Sql } from '../../db/sql.js';

export const AZ_KEY = 'availability_zone';

export interface AggregateRow {
  id: number;
  uuid: string;
  name: string;
  created_at: string;
  updated_at: string | null;
}

export interface Aggregate extends AggregateRow {
  hosts: string[];
  metadata: Record<string, string>;
}

export const aggregateNotFound = (id: string | number) => notFound(`Aggregate ${id} could not be found.`);

/** Nova accepts only integer aggregate ids in the path: 400 otherwise. */
export function aggregateId(raw: string): number {
  if (!/^-?\d+$/.test(raw)) throw invalid('Invalid input received: id must be an integer');
  return Number(raw);
}

async function withDetails(sql: Sql, rows: AggregateRow[]): Promise<Aggregate[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => Number(r.id));
  const out = new Map(rows.map((r) => [Number(r.id), { ...r, id: Number(r.id), hosts: [] as string[], metadata: {} as Record<string, string> }]));
  for (const h of await sql.all<{ aggregate_id: number; host: string }>(
    `SELECT aggregate_id, host FROM aggregate_hosts WHERE aggregate_id IN ${inList(ids.length)} ORDER BY host`,
    ids,
  ))
    out.get(Number(h.aggregate_id))!.hosts.push(h.host);
  for (const m of await sql.all<{ aggregate_id: number; key: string; value: string }>(
    `SELECT aggregate_id, key, value FROM aggregate_metadata WHERE aggregate_id IN ${inList(ids.length)} ORDER BY key`,
    ids,
  ))
    out.get(Number(m.aggregate_id))!.metadata[m.key] = m.value;
  return [...out.values()];
}

/** Every live aggregate, by id, with hosts and metadata. */
export async function listAggregates(sql: Sql): Promise<Aggregate[]> {
  const rows = await sql.all<AggregateRow>('SELECT id, uuid, name, created_at, updated_at FROM aggregates WHERE deleted = 0 ORDER BY id');
  return withDetails(sql, rows);
}

/** One live aggregate; NotFound (404) otherwise. */
export async function getAggregate(sql: Sql, id: number): Promise<Aggregate> {
  const row = await sql.get<AggregateRow>('SELECT id, uuid, name, created_at, updated_at FROM aggregates WHERE id = ? AND deleted = 0', [id]);
  if (!row) throw aggregateNotFound(id);
  return (await withDetails(sql, [row]))[0];
}

/** Conflict (409) when another live aggregate (not `exceptId`) already has this name. */
export async function checkNameFree(sql: Sql, name: string, exceptId?: number): Promise<void> {
  const row = await sql.get<{ id: number }>('SELECT id FROM aggregates WHERE name = ? AND deleted = 0 AND id <> ?', [name, exceptId ?? -1]);
  if (row) throw conflict(`Aggregate ${name} already exists.`);
}

/**
 * Availability zones of the other live aggregates (not `aggregateId`) holding any of `hosts`
 * that differ from `zone`: a host belongs to one zone only, so any such zone is a conflict.
 */
export async function conflictingZones(sql: Sql, aggregateId: number, hosts: string[], zone: string): Promise<string[]> {
  if (hosts.length === 0) return [];
  const rows = await sql.all<{ value: string }>(
    `SELECT DISTINCT m.value AS value FROM aggregate_hosts h
       JOIN aggregates a ON a.id = h.aggregate_id AND a.deleted = 0
       JOIN aggregate_metadata m ON m.aggregate_id = a.id AND m.key = '${AZ_KEY}'
     WHERE a.id <> ? AND h.host IN ${inList(hosts.length)} ORDER BY m.value`,
    [aggregateId, ...hosts],
  );
  return rows.map((r) => r.value).filter((v) => v !== zone);
}

/** Live instances on any of hosts (a zone cannot be renamed under them). */
export async function instancesOnHosts(sql: Sql, hosts: string[]): Promise<number> {
  if (hosts.length === 0) return 0;
  const r = await sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM instances WHERE deleted = 0 AND host IN ${inList(hosts.length)}`, hosts);
  return Number(r?.n ?? 0);
}

/** True when host runs a live nova-compute service. */
export async function isComputeHost(sql: Sql, host: string): Promise<boolean> {
  const r = await sql.get(`SELECT 1 AS ok FROM services WHERE host = ? AND "binary" = 'nova-compute' AND deleted = 0`, [host]);
  return !!r;
}

/** Sets (string) and removes (null) metadata keys of an aggregate; removing an absent key is a no-op. */
export async function writeMetadata(sql: Sql, id: number, changes: Record<string, string | null>): Promise<void> {
  for (const [k, v] of Object.entries(changes)) {
    await sql.run('DELETE FROM aggregate_metadata WHERE aggregate_id = ? AND key = ?', [id, k]);
    if (v !== null) await sql.run('INSERT INTO aggregate_metadata (aggregate_id, key, value) VALUES (?, ?, ?)', [id, k, v]);
  }
}
