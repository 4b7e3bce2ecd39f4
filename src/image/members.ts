/**
 * Image members: projects a shared image is offered to. The owner adds and removes members;
 * each member accepts or rejects the offer (only accepted images appear in its default list).
 * Members see only their own membership; everyone else who can see the image sees none.
 */
import type { Sql } from '../db/sql.js';
import { conflict, forbidden, notFound, tooLarge } from '../errors.js';
import type { RequestContext } from '../http/types.js';
import { validate } from '../http/validate.js';
import { nowIso } from '../util/time.js';
import { isOwner, notAuthorized, requireOwner, requireWriter, visibleImage } from './access.js';
import { MEMBER_QUOTA, MEMBER_STATUSES, type ImageRecord, type MemberRecord, type MemberStatus } from './model.js';
import { countMembers, deleteMember, findMember, insertMember, listMembers, setMemberStatus } from './repo.js';

// Like Glance, other keys in these bodies are ignored (openstacksdk sends `member` along with `status`).
const createSchema = {
  type: 'object',
  properties: { member: { type: 'string', minLength: 1, maxLength: 255 } },
  required: ['member'],
};
const updateSchema = {
  type: 'object',
  properties: { status: { type: 'string', enum: [...MEMBER_STATUSES] } },
  required: ['status'],
};

const memberNotFound = (imageId: string, memberId: string) => notFound(`${memberId} is not a member of image ${imageId}.`);

export class Members {
  constructor(readonly sql: Sql) {}

  private async sharedImage(ctx: RequestContext, imageId: string): Promise<ImageRecord> {
    const r = await visibleImage(this.sql, ctx, imageId);
    if (r.visibility !== 'shared') throw forbidden('Only shared images have members.');
    return r;
  }

  async list(ctx: RequestContext, imageId: string): Promise<MemberRecord[]> {
    const r = await this.sharedImage(ctx, imageId);
    if (isOwner(ctx, r)) return listMembers(this.sql, imageId);
    const mine = ctx.projectId ? await findMember(this.sql, imageId, ctx.projectId) : undefined;
    return mine ? [mine] : [];
  }

  async show(ctx: RequestContext, imageId: string, memberId: string): Promise<MemberRecord> {
    const r = await this.sharedImage(ctx, imageId);
    const m = await findMember(this.sql, imageId, memberId);
    if (!m || (!isOwner(ctx, r) && memberId !== ctx.projectId)) throw memberNotFound(imageId, memberId);
    return m;
  }

  /** The owner offers the image to a project; the membership starts pending. */
  async add(ctx: RequestContext, imageId: string, body: unknown): Promise<MemberRecord> {
    const { member } = validate<{ member: string }>(createSchema, body);
    const r = await this.sharedImage(ctx, imageId);
    requireOwner(ctx, r, 'add_member');
    const now = nowIso();
    const m: MemberRecord = { image_id: imageId, member_id: member, status: 'pending', created_at: now, updated_at: now };
    await this.sql.tx(async (tx) => {
      if (await findMember(tx, imageId, member)) throw conflict(`Member ${member} is already associated with image ${imageId}.`);
      if ((await countMembers(tx, imageId)) >= MEMBER_QUOTA)
        throw tooLarge(`Maximum number of image members exceeded: an image may have at most ${MEMBER_QUOTA} members.`);
      await insertMember(tx, m);
    });
    return m;
  }

  /** The member (or an admin) accepts, rejects or defers the offer. */
  async setStatus(ctx: RequestContext, imageId: string, memberId: string, body: unknown): Promise<MemberRecord> {
    const { status } = validate<{ status: MemberStatus }>(updateSchema, body);
    requireWriter(ctx, 'modify_member');
    const r = await this.sharedImage(ctx, imageId);
    const m = await findMember(this.sql, imageId, memberId);
    if (!m || (!isOwner(ctx, r) && memberId !== ctx.projectId)) throw memberNotFound(imageId, memberId);
    if (!ctx.isAdmin && memberId !== ctx.projectId) throw notAuthorized('modify_member');
    const now = nowIso();
    await setMemberStatus(this.sql, imageId, memberId, status, now);
    return { ...m, status, updated_at: now };
  }

  async remove(ctx: RequestContext, imageId: string, memberId: string): Promise<void> {
    const r = await this.sharedImage(ctx, imageId);
    const m = await findMember(this.sql, imageId, memberId);
    if (!m || (!isOwner(ctx, r) && memberId !== ctx.projectId)) throw memberNotFound(imageId, memberId);
    requireOwner(ctx, r, 'delete_member');
    await deleteMember(this.sql, imageId, memberId);
  }
}
