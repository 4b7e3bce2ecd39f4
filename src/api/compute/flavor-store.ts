/**
 * Flavor rows for the Compute API: lookups that honour visibility (private flavors are seen
 * only by admins and by projects on their access list) and the snapshot embedded in instances.
 */
import { notFound } from '../../errors.js';
import { inList, type Sql } from '../../db/sql.js';
import type { RequestContext } from '../../http/types.js';
import type { FlavorSnapshot } from '../../objects/flavor.js';

export interface FlavorRow {
  id: number;
  flavorid: string;
  name: string;
  memory_mb: number;
  vcpus: number;
  root_gb: number;
  ephemeral_gb: number;
  swap: number;
  rxtx_factor: number;
  is_public: number;
  disabled: number;
  description: string | null;
  created_at: string;
  updated_at: string | null;
}

export const flavorNotFound = (flavorId: string) => notFound(`Flavor ${flavorId} could not be found.`);

/** The flavor by its API id regardless of visibility, or undefined. */
export function getFlavorRow(sql: Sql, flavorId: string): Promise<FlavorRow | undefined> {
  return sql.get<FlavorRow>('SELECT * FROM flavors WHERE flavorid = ?', [flavorId]);
}

/** Whether ctx may see the flavor: public, admin, or the project is on its access list. */
export async function canSeeFlavor(sql: Sql, ctx: RequestContext, row: FlavorRow): Promise<boolean> {
  if (row.is_public || ctx.isAdmin) return true;
  if (!ctx.projectId) return false;
  const hit = await sql.get('SELECT 1 AS x FROM flavor_projects WHERE flavor_id = ? AND project_id = ?', [row.id, ctx.projectId]);
  return hit !== undefined;
}

/** The flavor if ctx may see it; NotFound ("Flavor X could not be found.") otherwise. */
export async function visibleFlavor(sql: Sql, ctx: RequestContext, flavorId: string): Promise<FlavorRow> {
  const row = await getFlavorRow(sql, flavorId);
  if (!row || !(await canSeeFlavor(sql, ctx, row))) throw flavorNotFound(flavorId);
  return row;
}

/** Extra specs of several flavors at once, keyed by internal flavor id. */
export async function extraSpecsOf(sql: Sql, ids: number[]): Promise<Map<number, Record<string, string>>> {
  const out = new Map<number, Record<string, string>>(ids.map((id) => [id, {}]));
  if (ids.length === 0) return out;
  const rows = await sql.all<{ flavor_id: number; key: string; value: string }>(
    `SELECT flavor_id, key, value FROM flavor_extra_specs WHERE flavor_id IN ${inList(ids.length)} ORDER BY key`,
    ids,
  );
  for (const r of rows) out.get(r.flavor_id)![r.key] = r.value;
  return out;
}

/** The plain-JSON copy of a flavor recorded on an instance at build or resize time. */
export async function flavorSnapshot(sql: Sql, row: FlavorRow): Promise<FlavorSnapshot> {
  const specs = (await extraSpecsOf(sql, [row.id])).get(row.id) ?? {};
  return {
    id: row.id,
    flavorid: row.flavorid,
    name: row.name,
    memory_mb: row.memory_mb,
    vcpus: row.vcpus,
    root_gb: row.root_gb,
    ephemeral_gb: row.ephemeral_gb,
    swap: row.swap,
    rxtx_factor: row.rxtx_factor,
    is_public: !!row.is_public,
    description: row.description,
    extra_specs: specs,
  };
}
