/**
 * Who sees and changes what in the Network API: admins everything; others their project's
 * resources plus shared networks and those networks' subnets (read-only). Hidden resources
 * are 404s (their existence does not leak); visible but not owned is 403; readers never write.
 */
import type { Sql } from '../db/sql.js';
import { invalid, policyForbidden } from '../errors.js';
import type { RequestContext } from '../http/types.js';
import { getNetwork, getPort, getSubnet, networkNotFound, portNotFound, subnetNotFound, type NetworkRow, type PortRow, type SubnetRow } from './repo.js';

export const owns = (ctx: RequestContext, projectId: string): boolean => ctx.isAdmin || ctx.projectId === projectId;

/** 403 for read-only tokens on anything that changes state. */
export function requireWriter(ctx: RequestContext, rule: string): void {
  if (ctx.readOnly && !ctx.isAdmin) throw policyForbidden(rule);
}

export function requireAdminRule(ctx: RequestContext, rule: string): void {
  if (!ctx.isAdmin) throw policyForbidden(rule);
}

/** The project a new resource belongs to: the body's project_id/tenant_id (admins only) or the caller's. */
export function targetProject(ctx: RequestContext, body: { project_id?: string; tenant_id?: string }): string {
  if (body.project_id !== undefined && body.tenant_id !== undefined && body.project_id !== body.tenant_id)
    throw invalid("'project_id' and 'tenant_id' do not match");
  const given = body.project_id ?? body.tenant_id;
  if (given !== undefined && given !== ctx.projectId && !ctx.isAdmin)
    throw invalid("Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges");
  const project = given ?? ctx.projectId;
  if (!project) throw invalid("'project_id' is required for a request without a project scope");
  return project;
}

export async function visibleNetwork(sql: Sql, ctx: RequestContext, id: string): Promise<NetworkRow> {
  const n = await getNetwork(sql, id);
  if (!owns(ctx, n.project_id) && !n.shared) throw networkNotFound(id);
  return n;
}

/** A network the caller may change (owner or admin). */
export async function ownedNetwork(sql: Sql, ctx: RequestContext, id: string, rule: string): Promise<NetworkRow> {
  const n = await visibleNetwork(sql, ctx, id);
  if (!owns(ctx, n.project_id)) throw policyForbidden(rule);
  return n;
}

export async function visibleSubnet(sql: Sql, ctx: RequestContext, id: string): Promise<SubnetRow> {
  const s = await getSubnet(sql, id);
  if (owns(ctx, s.project_id)) return s;
  const n = await sql.get<{ shared: number }>('SELECT shared FROM networks WHERE id = ?', [s.network_id]);
  if (!n?.shared) throw subnetNotFound(id);
  return s;
}

export async function ownedSubnet(sql: Sql, ctx: RequestContext, id: string, rule: string): Promise<SubnetRow> {
  const s = await visibleSubnet(sql, ctx, id);
  if (!owns(ctx, s.project_id)) throw policyForbidden(rule);
  return s;
}

export async function visiblePort(sql: Sql, ctx: RequestContext, id: string): Promise<PortRow> {
  const p = await getPort(sql, id);
  if (!owns(ctx, p.project_id)) throw portNotFound(id);
  return p;
}

/** SQL condition (and its parameters) limiting networks to the ones ctx may see. */
export function networkScope(ctx: RequestContext, alias = 'networks'): { where: string; params: string[] } {
  if (ctx.isAdmin) return { where: '1 = 1', params: [] };
  return { where: `(${alias}.project_id = ? OR ${alias}.shared = 1)`, params: [ctx.projectId ?? ''] };
}
