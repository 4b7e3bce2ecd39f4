/**
 * POST /volumes/{id}/action: os-extend (while available), os-reset_status (admin),
 * os-set_bootable, os-update_readonly_flag, and the older attach actions (os-reserve,
 * os-unreserve, os-attach, os-detach, os-begin_detaching, os-roll_detaching, admin
 * os-force_detach; see ../legacy-attach.ts), admin os-force_delete (any status). Unknown
 * actions are 400 as Cinder says them.
 */
import { json } from '../../db/sql.js';
import { invalid, isNovaError } from '../../errors.js';
import { requireAdmin, requireWriter } from '../../api/policy.js';
import type { Router } from '../../http/router.js';
import { validate } from '../../http/validate.js';
import { nowIso } from '../../util/time.js';
import { VOLUME_STATUSES } from '../types.js';
import { deleteVolume, extendVolume } from '../volume-ops.js';
import { beginDetaching, rollDetaching } from '../attachments.js';
import { attachVolume, detachVolume, forceDetach, reserveVolume, unreserveVolume } from '../legacy-attach.js';
import { parseBool, route, type ApiDeps } from './context.js';
import { visibleVolume } from './volume-access.js';

const extendSchema = {
  type: 'object', required: ['new_size'], additionalProperties: false,
  properties: { new_size: { oneOf: [{ type: 'integer', minimum: 1, maximum: 2147483647 }, { type: 'string', pattern: '^[1-9][0-9]{0,9}$' }] } },
};
const resetSchema = {
  type: 'object', additionalProperties: false, minProperties: 1,
  properties: {
    status: { type: 'string', enum: [...VOLUME_STATUSES] },
    attach_status: { type: 'string', enum: ['attached', 'detached'] },
    migration_status: { type: ['string', 'null'] },
  },
};
const bootableSchema = {
  type: 'object', required: ['bootable'], additionalProperties: false,
  properties: { bootable: { type: ['boolean', 'string'] } },
};
const readonlySchema = {
  type: 'object', required: ['readonly'], additionalProperties: false,
  properties: { readonly: { type: ['boolean', 'string'] } },
};

const attachSchema = {
  type: 'object', required: ['mountpoint'], additionalProperties: false,
  properties: {
    instance_uuid: { oneOf: [{ type: 'string', format: 'uuid-like' }, { type: 'null' }] }, host_name: { type: ['string', 'null'], maxLength: 255 },
    mountpoint: { type: 'string', minLength: 1, maxLength: 255 }, mode: { type: 'string', enum: ['rw', 'ro'] },
  },
};
const detachSchema = {
  type: ['object', 'null'], additionalProperties: false,
  properties: { attachment_id: { oneOf: [{ type: 'string', format: 'uuid-like' }, { type: 'null' }] } },
};
const forceDetachSchema = {
  type: ['object', 'null'], additionalProperties: false,
  properties: { attachment_id: { oneOf: [{ type: 'string', format: 'uuid-like' }, { type: 'null' }] }, connector: { type: ['object', 'null'] } },
};
const emptySchema = { type: ['object', 'null'], additionalProperties: false, properties: {} };

/** A status Conflict from the attachment state machine as Cinder's 400 InvalidVolume. */
function asInvalidVolume(e: unknown): unknown {
  return isNovaError(e) && e.kind === 'Conflict' ? invalid(`Invalid volume: ${e.message}`) : e;
}

export function mountVolumeActions(router: Router, deps: ApiDeps): void {
  route(router, 'POST', '/volumes/:id/action', async (req, c) => {
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length !== 1)
      throw invalid('Invalid input received: the action body must hold exactly one action, e.g. {"os-extend": {"new_size": 2}}.');
    const [action, args] = Object.entries(body as Record<string, unknown>)[0];
    const v = await visibleVolume(deps.sql, c, req.params.id);
    const now = nowIso();
    switch (action) {
      case 'os-extend': {
        requireWriter(c.ctx, 'volume:extend');
        const a = validate<{ new_size: number | string }>(extendSchema, args);
        await extendVolume(deps, v.id, Number(a.new_size));
        return { status: 202 };
      }
      case 'os-reset_status': {
        requireAdmin(c.ctx, 'volume_extension:volume_admin_actions:reset_status');
        const a = validate<{ status?: string; attach_status?: string }>(resetSchema, args);
        await deps.sql.run('UPDATE volumes SET status = COALESCE(?, status), attach_status = COALESCE(?, attach_status), updated_at = ? WHERE id = ?', [
          a.status ?? null, a.attach_status ?? null, now, v.id,
        ]);
        return { status: 202 };
      }
      case 'os-set_bootable': {
        requireWriter(c.ctx, 'volume_extension:volume_actions:set_bootable');
        const a = validate<{ bootable: boolean | string }>(bootableSchema, args);
        const bootable = parseBool(a.bootable, 'bootable');
        await deps.sql.run('UPDATE volumes SET bootable = ?, updated_at = ? WHERE id = ?', [bootable ? 1 : 0, now, v.id]);
        return { status: 200 };
      }
      case 'os-update_readonly_flag': {
        requireWriter(c.ctx, 'volume_extension:volume_actions:update_readonly_flag');
        const a = validate<{ readonly: boolean | string }>(readonlySchema, args);
        const ro = parseBool(a.readonly, 'readonly');
        if (!['available', 'in-use'].includes(v.status))
          throw invalid(`Invalid volume: Volume ${v.id} status must be available or in-use to change its read-only flag, but current status is: ${v.status}.`);
        const meta = { ...json<Record<string, string>>(v.metadata, {}), readonly: ro ? 'True' : 'False' };
        await deps.sql.run('UPDATE volumes SET metadata = ?, updated_at = ? WHERE id = ?', [JSON.stringify(meta), now, v.id]);
        return { status: 202 };
      }
      case 'os-reserve':
      case 'os-unreserve':
      case 'os-begin_detaching':
      case 'os-roll_detaching': {
        requireWriter(c.ctx, `volume_extension:volume_actions:${action.slice(3)}`);
        validate(emptySchema, args);
        const op = { 'os-reserve': reserveVolume, 'os-unreserve': unreserveVolume, 'os-begin_detaching': beginDetaching, 'os-roll_detaching': rollDetaching }[action];
        await op(deps.sql, v.id).catch((e: unknown) => {
          throw asInvalidVolume(e);
        });
        return { status: 202 };
      }
      case 'os-attach': {
        requireWriter(c.ctx, 'volume_extension:volume_actions:attach');
        const a = validate<{ instance_uuid?: string | null; host_name?: string | null; mountpoint: string; mode?: 'rw' | 'ro' }>(attachSchema, args);
        await attachVolume(deps.sql, v.id, a);
        return { status: 202 };
      }
      case 'os-detach': {
        requireWriter(c.ctx, 'volume_extension:volume_actions:detach');
        const a = validate<{ attachment_id?: string | null } | null>(detachSchema, args);
        await detachVolume(deps.sql, v.id, a?.attachment_id);
        return { status: 202 };
      }
      case 'os-force_detach': {
        requireAdmin(c.ctx, 'volume_extension:volume_admin_actions:force_detach');
        const a = validate<{ attachment_id?: string | null } | null>(forceDetachSchema, args);
        await forceDetach(deps.sql, v.id, a?.attachment_id);
        return { status: 202 };
      }
      case 'os-force_delete': {
        requireAdmin(c.ctx, 'volume_extension:volume_admin_actions:force_delete');
        validate(emptySchema, args);
        await deleteVolume(deps, v.id, { force: true });
        return { status: 202 };
      }
      default:
        throw invalid(`There is no such action: ${action}`);
    }
  });
}
