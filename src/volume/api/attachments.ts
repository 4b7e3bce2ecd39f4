/**
 * The v3 attachments API (3.27+; os-complete 3.44; mode 3.54): create (reserve), list, detail,
 * show, update with the host's connector (answers connection_info), complete, delete. The
 * state machine is src/volume/attachments.ts; a volume that cannot take the attachment is 400,
 * as Cinder answers it.
 */
import type { AttachmentRow } from '../types.js';
import { invalid, isNovaError } from '../../errors.js';
import { requireWriter } from '../../api/policy.js';
import type { Router } from '../../http/router.js';
import { validate } from '../../http/validate.js';
import * as att from '../attachments.js';
import { getAttachment } from '../repo.js';
import { attachmentView } from '../views.js';
import { route, type ApiDeps, type Call } from './context.js';
import { visibleVolume } from './volume-access.js';

const connector = { type: ['object', 'null'], required: ['host'], properties: { host: { type: 'string', minLength: 1, maxLength: 255 } } };
const createSchema = {
  type: 'object', required: ['attachment'], additionalProperties: false,
  properties: {
    attachment: {
      type: 'object', required: ['volume_uuid', 'instance_uuid'], additionalProperties: false,
      properties: {
        volume_uuid: { type: 'string', format: 'uuid-like' }, instance_uuid: { type: 'string', format: 'uuid-like' },
        connector, mode: { type: 'string', enum: ['rw', 'ro'] },
      },
    },
  },
};
const updateSchema = {
  type: 'object', required: ['attachment'], additionalProperties: false,
  properties: { attachment: { type: 'object', required: ['connector'], additionalProperties: false, properties: { connector: { ...connector, type: 'object' } } } },
};

/** Conflicts of the state machine are Cinder's 400 InvalidVolume here. */
async function asInvalid<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (isNovaError(e) && e.kind === 'Conflict') throw invalid(`Invalid volume: ${e.message}`);
    throw e;
  }
}

export function mountAttachments(router: Router, deps: ApiDeps): void {
  const { sql } = deps;
  const visible = async (c: Call, id: string): Promise<AttachmentRow> => {
    const a = await getAttachment(sql, id);
    await visibleVolume(sql, c, a.volume_id).catch(() => {
      throw invalid(`Volume attachment could not be found with filter: attachment_id = ${id}.`);
    });
    return a;
  };
  route(router, 'POST', '/attachments', async (req, c) => {
    requireWriter(c.ctx, 'volume:attachment_create');
    const b = validate<{ attachment: { volume_uuid: string; instance_uuid: string; connector?: Record<string, any> | null; mode?: 'rw' | 'ro' } }>(
      createSchema,
      req.body,
    ).attachment;
    if (b.mode && !c.mv.atLeast('3.54')) throw invalid("Invalid input: 'mode' of an attachment needs microversion 3.54 or later.");
    const v = await visibleVolume(sql, c, b.volume_uuid);
    const a = await asInvalid(
      att.createAttachment(sql, { volume_id: v.id, instance_uuid: b.instance_uuid, mode: b.mode, connector: (b.connector as any) ?? null }),
    );
    return { status: 200, body: { attachment: attachmentView(a, true) } };
  }, '3.27');
  const list = async (c: Call, q: URLSearchParams, detail: boolean) => {
    const params: string[] = [];
    let where = 'a.deleted = 0';
    if (!(c.isAdmin && q.has('all_tenants'))) {
      where += ' AND v.project_id = ?';
      params.push(c.projectId);
    }
    for (const [p, col] of [['volume_id', 'a.volume_id'], ['instance_id', 'a.instance_uuid'], ['status', 'a.status']]) {
      const v = q.get(p);
      if (v !== null) {
        where += ` AND ${col} = ?`;
        params.push(v);
      }
    }
    const rows = await sql.all<AttachmentRow>(`SELECT a.* FROM volume_attachments a JOIN volumes v ON v.id = a.volume_id WHERE ${where} ORDER BY a.created_at, a.id`, params);
    return { status: 200, body: { attachments: rows.map((r) => attachmentView(r, detail)) } };
  };
  route(router, 'GET', '/attachments', (req, c) => list(c, req.query, false), '3.27');
  route(router, 'GET', '/attachments/detail', (req, c) => list(c, req.query, true), '3.27');
  route(router, 'GET', '/attachments/:id', async (req, c) => ({ status: 200, body: { attachment: attachmentView(await visible(c, req.params.id), true) } }), '3.27');
  route(router, 'PUT', '/attachments/:id', async (req, c) => {
    requireWriter(c.ctx, 'volume:attachment_update');
    const b = validate<{ attachment: { connector: Record<string, any> } }>(updateSchema, req.body).attachment;
    const a = await visible(c, req.params.id);
    const mountpoint = typeof b.connector.mountpoint === 'string' ? b.connector.mountpoint : null;
    await asInvalid(att.updateAttachment(sql, { attachment_id: a.id, connector: b.connector as any, mountpoint }));
    return { status: 200, body: { attachment: attachmentView(await getAttachment(sql, a.id), true) } };
  }, '3.27');
  route(router, 'POST', '/attachments/:id/action', async (req, c) => {
    requireWriter(c.ctx, 'volume:attachment_complete');
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Object.keys(body).length !== 1 || !('os-complete' in body))
      throw invalid('Invalid input received: the only attachment action is {"os-complete": null}.');
    const a = await visible(c, req.params.id);
    await asInvalid(att.completeAttachment(sql, a.id));
    return { status: 204 };
  }, '3.44');
  route(router, 'DELETE', '/attachments/:id', async (req, c) => {
    requireWriter(c.ctx, 'volume:attachment_delete');
    const a = await visible(c, req.params.id);
    const remaining = await att.deleteAttachment(sql, a.id);
    return { status: 200, body: { attachments: remaining.map((r) => attachmentView(r, false)) } };
  }, '3.27');
}
