/**
 * Who may see and change an image. Images a caller may not see are NotFound (their existence
 * does not leak); images it sees but may not change are Forbidden.
 */
import type { Sql } from '../db/sql.js';
import { forbidden, notFound } from '../errors.js';
import type { RequestContext } from '../http/types.js';
import type { ImageRecord } from './model.js';
import { findImage, findMember } from './repo.js';

export const imageNotFound = (id: string) => notFound(`No image found with ID ${id}`);

/** Glance's policy refusal for an action on an image the caller can see. */
export const notAuthorized = (action: string) => forbidden(`You are not authorized to complete ${action} action.`);

/**
 * Whether ctx may see the image: admins see all; everyone sees public and community images;
 * the owner project sees its own; a shared image is seen by its members whatever their status.
 */
export async function canSee(sql: Sql, ctx: RequestContext, r: ImageRecord): Promise<boolean> {
  if (ctx.isAdmin || r.visibility === 'public' || r.visibility === 'community') return true;
  if (ctx.projectId !== null && r.owner === ctx.projectId) return true;
  if (r.visibility === 'shared' && ctx.projectId !== null) return (await findMember(sql, r.id, ctx.projectId)) !== undefined;
  return false;
}

/** The live image if ctx may see it; NotFound otherwise. */
export async function visibleImage(sql: Sql, ctx: RequestContext, id: string): Promise<ImageRecord> {
  const r = await findImage(sql, id);
  if (!r || !(await canSee(sql, ctx, r))) throw imageNotFound(id);
  return r;
}

/** True for the owner project's writers and for admins. */
export function isOwner(ctx: RequestContext, r: ImageRecord): boolean {
  return ctx.isAdmin || (ctx.projectId !== null && r.owner === ctx.projectId && !ctx.readOnly);
}

/** Forbidden unless ctx owns the image (or is admin); `action` names Glance's policy rule. */
export function requireOwner(ctx: RequestContext, r: ImageRecord, action: string): void {
  if (!isOwner(ctx, r)) throw notAuthorized(action);
}

/** Forbidden for read-only (reader) tokens. */
export function requireWriter(ctx: RequestContext, action: string): void {
  if (ctx.readOnly && !ctx.isAdmin) throw notAuthorized(action);
}
