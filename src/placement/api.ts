/**
 * A read-only Placement API (mounted at `/placement`, catalog type `placement`) over the
 * scheduler's own resource tracking: every compute node is a resource provider with VCPU,
 * MEMORY_MB and DISK_GB inventories (total, reserved, allocation ratio from compute_nodes), and
 * every allocations row is one consumer's allocation on one provider. Operators and tools can
 * inspect usage and find leaked allocations the way they would against Nova's Placement; writes
 * stay with the scheduler (claims) and the audit, so nothing here changes state. Admin only,
 * as Placement's default policy. Errors are Placement's {"errors": [...]} bodies.
 *
 * Not tracked: provider generations (always 0: the claims are transactional instead),
 * traits, nested providers and provider aggregates.
 */
import { notFound, invalid } from '../errors.js';
import type { Router } from '../http/router.js';
import type { ApiRequest } from '../http/types.js';
import { requireAdmin } from '../api/policy.js';
import type { Sql } from '../db/sql.js';

import { nodeCapacity, type NodeRow } from '../scheduler/claims.js';

/** The highest Placement microversion whose read shapes these routes follow. */
export const PLACEMENT_MAX_VERSION = '1.39';

interface ProviderRow extends NodeRow {
  uuid: string;
  hypervisor_hostname: string;
}

interface AllocationRow {
  consumer_uuid: string;
  node_uuid: string;
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
  project_id: string | null;
  user_id: string | null;
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Placement's resource class names for our three kinds of resources. */
export function resourcesOf(a: { vcpus: number; memory_mb: number; disk_gb: number }): Record<string, number> {
  const out: Record<string, number> = {};
  if (Number(a.vcpus)) out.VCPU = Number(a.vcpus);
  if (Number(a.memory_mb)) out.MEMORY_MB = Number(a.memory_mb);
  if (Number(a.disk_gb)) out.DISK_GB = Number(a.disk_gb);
  return out;
}

/** The provider's inventories as Placement shows them (max_unit is the whole usable total). */
export function inventoriesOf(p: ProviderRow): Record<string, Record<string, number>> {
  const cap = nodeCapacity(p);
  const inv = (total: number, reserved: number, ratio: number, usable: number) => ({
    total,
    reserved,
    min_unit: 1,
    max_unit: Math.max(1, Math.min(total, usable)),
    step_size: 1,
    allocation_ratio: ratio,
  });
  return {
    VCPU: inv(p.vcpus, p.reserved_host_cpus, p.cpu_allocation_ratio, cap.vcpus),
    MEMORY_MB: inv(p.memory_mb, p.reserved_host_memory_mb, p.ram_allocation_ratio, cap.memory_mb),
    DISK_GB: inv(p.local_gb, Math.ceil(p.reserved_host_disk_mb / 1024), p.disk_allocation_ratio, cap.disk_gb),
  };
}

function providerView(req: ApiRequest, p: ProviderRow) {
  const self = `/resource_providers/${p.uuid}`;
  return {
    uuid: p.uuid,
    name: p.hypervisor_hostname,
    generation: 0,
    parent_provider_uuid: null,
    root_provider_uuid: p.uuid,
    links: ['', '/inventories', '/usages', '/allocations', '/aggregates', '/traits'].map((s) => ({
      rel: s ? s.slice(1) : 'self',
      href: `${self}${s}`,
    })),
  };
}

async function provider(sql: Sql, uuid: string): Promise<ProviderRow> {
  const p = UUID.test(uuid) ? await sql.get<ProviderRow>('SELECT * FROM compute_nodes WHERE uuid = ? AND deleted = 0', [uuid]) : undefined;
  if (!p) throw notFound(`No resource provider with uuid ${uuid} found`);
  return p;
}

function sumUsage(rows: AllocationRow[]): Record<string, number> {
  const t = { vcpus: 0, memory_mb: 0, disk_gb: 0 };
  for (const r of rows) {
    t.vcpus += Number(r.vcpus);
    t.memory_mb += Number(r.memory_mb);
    t.disk_gb += Number(r.disk_gb);
  }
  return { VCPU: t.vcpus, MEMORY_MB: t.memory_mb, DISK_GB: t.disk_gb };
}

export function mountPlacement(router: Router, deps: { sql: Sql }): void {
  const { sql } = deps;
  const admin = (req: ApiRequest) => requireAdmin(req.ctx!, 'placement:read');
  router.get('/', (req) => ({
    status: 200,
    body: { versions: [{ id: 'v1.0', min_version: '1.0', max_version: PLACEMENT_MAX_VERSION, status: 'CURRENT', links: [{ rel: 'self', href: `${req.baseUrl}/` }] }] },
  }), { auth: false });

  router.get('/resource_providers', async (req) => {
    admin(req);
    const where = ['deleted = 0'];
    const args: string[] = [];
    for (const [key, col] of [['name', 'hypervisor_hostname'], ['uuid', 'uuid']] as const) {
      const v = req.query.get(key);
      if (v === null) continue;
      if (key === 'uuid' && !UUID.test(v)) throw invalid(`Invalid query string parameters: '${v}' is not a 'uuid'`);
      where.push(`${col} = ?`);
      args.push(v);
    }
    const rows = await sql.all<ProviderRow>(`SELECT * FROM compute_nodes WHERE ${where.join(' AND ')} ORDER BY id`, args);
    return { status: 200, body: { resource_providers: rows.map((p) => providerView(req, p)) } };
  });
  router.get('/resource_providers/:uuid', async (req) => {
    admin(req);
    return { status: 200, body: providerView(req, await provider(sql, req.params.uuid)) };
  });
  router.get('/resource_providers/:uuid/inventories', async (req) => {
    admin(req);
    const p = await provider(sql, req.params.uuid);
    return { status: 200, body: { inventories: inventoriesOf(p), resource_provider_generation: 0 } };
  });
  router.get('/resource_providers/:uuid/inventories/:rc', async (req) => {
    admin(req);
    const inv = inventoriesOf(await provider(sql, req.params.uuid))[req.params.rc];
    if (!inv) throw notFound(`No inventory of class ${req.params.rc} for ${req.params.uuid}`);
    return { status: 200, body: { ...inv, resource_provider_generation: 0 } };
  });
  router.get('/resource_providers/:uuid/usages', async (req) => {
    admin(req);
    const p = await provider(sql, req.params.uuid);
    const rows = await sql.all<AllocationRow>('SELECT * FROM allocations WHERE node_uuid = ?', [p.uuid]);
    return { status: 200, body: { usages: sumUsage(rows), resource_provider_generation: 0 } };
  });
  router.get('/resource_providers/:uuid/allocations', async (req) => {
    admin(req);
    const p = await provider(sql, req.params.uuid);
    const rows = await sql.all<AllocationRow>('SELECT * FROM allocations WHERE node_uuid = ? ORDER BY consumer_uuid', [p.uuid]);
    const allocations = Object.fromEntries(rows.map((r) => [r.consumer_uuid, { resources: resourcesOf(r) }]));
    return { status: 200, body: { allocations, resource_provider_generation: 0 } };
  });
  router.get('/allocations/:consumer', async (req) => {
    admin(req);
    const rows = await sql.all<AllocationRow>('SELECT * FROM allocations WHERE consumer_uuid = ?', [req.params.consumer]);
    const allocations = Object.fromEntries(rows.map((r) => [r.node_uuid, { generation: 0, resources: resourcesOf(r) }]));
    const owner = rows[0] ? { project_id: rows[0].project_id, user_id: rows[0].user_id, consumer_generation: 0 } : {};
    return { status: 200, body: { allocations, ...owner } };
  });
  router.get('/usages', async (req) => {
    admin(req);
    const project = req.query.get('project_id');
    if (!project) throw invalid("Invalid query string parameters: 'project_id' is a required property");
    const user = req.query.get('user_id');
    const rows = await sql.all<AllocationRow>(
      `SELECT * FROM allocations WHERE project_id = ?${user ? ' AND user_id = ?' : ''}`,
      user ? [project, user] : [project],
    );
    return { status: 200, body: { usages: sumUsage(rows) } };
  });
}
