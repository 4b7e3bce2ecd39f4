/**
 * Volume transfers: /os-volume-transfer (every version) and /volume-transfers (3.55+, which
 * also takes no_snapshots): create (the auth key is in this answer only), list, detail, show,
 * delete, accept. A transfer is its project's (admins see all); accept is open to any project
 * with the key. Views: no_snapshots from 3.55; source/destination project and accepted from 3.57.
 */
import { invalid } from '../../errors.js';
import { requireWriter } from '../../api/policy.js';
import type { Router } from '../../http/router.js';
import { validate } from '../../http/validate.js';
import { acceptTransfer, createTransfer, deleteTransfer, getTransfer, transferNotFound, type TransferRow } from '../transfers.js';
import { cinderTime, links } from '../views.js';
import { element, parseBool, route, type ApiDeps, type Call } from './context.js';
import { visibleVolume } from './volume-access.js';

const createSchema = {
  type: 'object', required: ['transfer'], additionalProperties: false,
  properties: {
    transfer: {
      type: 'object', required: ['volume_id'], additionalProperties: false,
      properties: {
        volume_id: { type: 'string', format: 'uuid-like' }, name: { type: ['string', 'null'], maxLength: 255 },
        no_snapshots: { type: ['boolean', 'string'] },
      },
    },
  },
};
const acceptSchema = {
  type: 'object', required: ['accept'], additionalProperties: false,
  properties: { accept: { type: 'object', required: ['auth_key'], additionalProperties: false, properties: { auth_key: { type: 'string', minLength: 1, maxLength: 255 } } } },
};

function view(c: Call, collection: string, t: TransferRow, detail: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { id: t.id, name: t.name, volume_id: t.volume_id, links: links(c, collection, t.id) };
  if (!detail) return out;
  out.created_at = cinderTime(t.created_at);
  if (c.mv.atLeast('3.55')) out.no_snapshots = !!t.no_snapshots;
  if (c.mv.atLeast('3.57')) {
    out.source_project_id = t.project_id;
    out.destination_project_id = t.destination_project_id;
    out.accepted = !!t.accepted;
  }
  return out;
}

export function mountTransfers(router: Router, deps: ApiDeps): void {
  const { sql } = deps;
  for (const [collection, minVersion] of [['os-volume-transfer', undefined], ['volume-transfers', '3.55']] as const) {
    const visible = async (c: Call, id: string) => {
      const t = await getTransfer(sql, id);
      if (t.project_id !== c.projectId && !c.isAdmin) throw transferNotFound(id);
      return t;
    };
    const list = async (c: Call, q: URLSearchParams, detail: boolean) => {
      const all = c.isAdmin && q.has('all_tenants') && parseBool(q.get('all_tenants') || 'true', 'all_tenants');
      const rows = await sql.all<TransferRow>(
        `SELECT * FROM volume_transfers WHERE deleted = 0 ${all ? '' : 'AND project_id = ?'} ORDER BY created_at DESC, id`,
        all ? [] : [c.projectId],
      );
      return { status: 200, body: { transfers: rows.map((t) => view(c, collection, t, detail)) } };
    };
    route(router, 'POST', `/${collection}`, async (req, c) => {
      requireWriter(c.ctx, 'volume:create_transfer');
      const b = validate<{ transfer: { volume_id: string; name?: string | null; no_snapshots?: boolean | string } }>(createSchema, req.body).transfer;
      if (b.no_snapshots !== undefined && !c.mv.atLeast('3.55')) throw invalid("Invalid input for field/attribute transfer. Additional properties are not allowed ('no_snapshots' was unexpected)");
      const v = await visibleVolume(sql, c, b.volume_id);
      const noSnapshots = b.no_snapshots !== undefined && parseBool(b.no_snapshots, 'no_snapshots');
      const { transfer, authKey } = await createTransfer(sql, { volume_id: v.id, name: b.name, no_snapshots: noSnapshots });
      return { status: 202, body: { transfer: { ...view(c, collection, transfer, true), auth_key: authKey } } };
    }, minVersion);
    route(router, 'GET', `/${collection}`, (req, c) => list(c, req.query, false), minVersion);
    route(router, 'GET', `/${collection}/detail`, (req, c) => list(c, req.query, true), minVersion);
    route(router, 'GET', `/${collection}/:id`, async (req, c) => ({ status: 200, body: { transfer: view(c, collection, await visible(c, req.params.id), true) } }), minVersion);
    route(router, 'DELETE', `/${collection}/:id`, async (req, c) => {
      requireWriter(c.ctx, 'volume:delete_transfer');
      const t = await visible(c, req.params.id);
      await deleteTransfer(sql, t.id);
      return { status: 202 };
    }, minVersion);
    route(router, 'POST', `/${collection}/:id/accept`, async (req, c) => {
      requireWriter(c.ctx, 'volume:accept_transfer');
      element(req.body, 'accept');
      const a = validate<{ accept: { auth_key: string } }>(acceptSchema, req.body).accept;
      const t = await acceptTransfer(sql, req.params.id, a.auth_key, { project_id: c.projectId, user_id: c.ctx.userId });
      return { status: 202, body: { transfer: view(c, collection, t, false) } };
    }, minVersion);
  }
}
