/**
 * Policy, in one place: who may do what. A project sees only its own resources (others' are
 * 404, never 403, so their existence does not leak); admin-only APIs answer 403 to others;
 * the reader role is read-only.
 */
import { policyForbidden } from '../errors.js';
import type { RequestContext } from '../http/types.js';

export function isAdmin(ctx: RequestContext): boolean {
  return ctx.isAdmin;
}

/** 403 unless ctx holds the admin role. */
export function requireAdmin(ctx: RequestContext, rule: string): void {
  if (!ctx.isAdmin) throw policyForbidden(rule);
}

/** 403 for read-only (reader) tokens on anything that changes state. */
export function requireWriter(ctx: RequestContext, rule: string): void {
  if (ctx.readOnly && !ctx.isAdmin) throw policyForbidden(rule);
}

/** True when ctx may see a resource owned by projectId (admins see all). */
export function ownsOrAdmin(ctx: RequestContext, projectId: string | null): boolean {
  return ctx.isAdmin || (projectId !== null && ctx.projectId === projectId);
}

/** 403 unless ctx acts in a project (compute APIs need a project-scoped token). */
export function requireProject(ctx: RequestContext): string {
  if (!ctx.projectId) throw policyForbidden('compute:project_scope');
  return ctx.projectId;
}
