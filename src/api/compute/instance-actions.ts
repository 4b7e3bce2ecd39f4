/**
 * os-instance-actions: the actions recorded on a server (also after it is deleted) and the
 * events of one action. Events are shown to admins, and to owners from 2.51 (without
 * traceback); hostId from 2.62 (host for admins); details from 2.84 (admins); paging and
 * changes-since from 2.58, changes-before from 2.66.
 */
import { invalid, notFound } from '../../errors.js';
import type { SqlValue } from '../../db/sql.js';
import { ctxOf, type ApiRequest } from '../../http/types.js';
import { API_PREFIX, changesWindow, pageParams, timeParam, type MountFn } from './common.js';
import { loadServer } from './server-access.js';
import { hostId, usecTime } from './server-view.js';

interface ActionRow {
  id: number;
  action: string;
  instance_uuid: string;
  request_id: string;
  user_id: string | null;
  project_id: string | null;
  start_time: string;
  finish_time: string | null;
  message: string | null;
  updated_at: string;
}

function actionView(req: ApiRequest, a: ActionRow): Record<string, unknown> {
  const v: Record<string, unknown> = {
    action: a.action,
    instance_uuid: a.instance_uuid,
    message: a.message,
    project_id: a.project_id,
    request_id: a.request_id,
    start_time: usecTime(a.start_time),
    user_id: a.user_id,
  };
  if (req.mv.atLeast('2.58')) v.updated_at = usecTime(a.updated_at);
  return v;
}

/** A time query parameter, or null when absent. */
const timeQuery = (req: ApiRequest, name: string): string | null => {
  const raw = req.query.get(name);
  return raw === null ? null : timeParam(name, raw);
};

export const mountInstanceActions: MountFn = (router, deps) => {
  const P = `${API_PREFIX}/servers/:id/os-instance-actions`;

  router.get(P, async (req) => {
    const row = await loadServer(deps.sql, ctxOf(req), req.params.id, { readDeleted: true });
    const where = ['instance_uuid = ?'];
    const params: SqlValue[] = [row.uuid];
    let limit = -1;
    if (req.mv.atLeast('2.58')) {
      const page = pageParams(req);
      limit = page.limit;
      const since = timeQuery(req, 'changes-since');
      const before = req.mv.atLeast('2.66') ? timeQuery(req, 'changes-before') : null;
      changesWindow(where, params, since, before);
      if (page.marker !== null) {
        const m = await deps.sql.get<ActionRow>('SELECT * FROM instance_actions WHERE instance_uuid = ? AND request_id = ?', [row.uuid, page.marker]);
        if (!m) throw invalid(`Marker ${page.marker} could not be found.`);
        {
      where.push('(start_time < ? OR (start_time = ? AND id < ?))');
      params.push(m.start_time, m.start_time, m.id);
    }
      }
    }
    const rows = await deps.sql.all<ActionRow>(
      `SELECT * FROM instance_actions WHERE ${where.join(' AND ')} ORDER BY start_time DESC, id DESC${limit >= 0 ? ` LIMIT ${limit}` : ''}`,
      params,
    );
    const body: Record<string, unknown> = { instanceActions: rows.map((a) => actionView(req, a)) };
    if (limit > 0 && rows.length === limit) {
      const q = new URLSearchParams(req.query);
      q.set('limit', String(limit));
      q.set('marker', rows[rows.length - 1].request_id);
      body.links = [{ rel: 'next', href: `${req.baseUrl}/v2.1/servers/${row.uuid}/os-instance-actions?${q.toString()}` }];
    }
    return { status: 200, body };
  });

  router.get(`${P}/:requestId`, async (req) => {
    const ctx = ctxOf(req);
    const row = await loadServer(deps.sql, ctx, req.params.id, { readDeleted: true });
    const a = await deps.sql.get<ActionRow>(
      'SELECT * FROM instance_actions WHERE instance_uuid = ? AND request_id = ? ORDER BY id DESC LIMIT 1',
      [row.uuid, req.params.requestId],
    );
    if (!a) throw notFound(`Action for request_id ${req.params.requestId} on instance ${row.uuid} not found`);
    const v = actionView(req, a);
    if (ctx.isAdmin || req.mv.atLeast('2.51')) {
      const events = await deps.sql.all<{ event: string; start_time: string; finish_time: string | null; result: string | null; traceback: string | null; host: string | null; details: string | null }>(
        'SELECT * FROM instance_action_events WHERE action_id = ? ORDER BY start_time DESC, id DESC',
        [a.id],
      );
      v.events = events.map((e) => {
        const ev: Record<string, unknown> = {
          event: e.event,
          start_time: usecTime(e.start_time),
          finish_time: usecTime(e.finish_time),
          result: e.result,
        };
        if (ctx.isAdmin) ev.traceback = e.traceback;
        if (req.mv.atLeast('2.62')) {
          ev.hostId = hostId(row.project_id, e.host);
          if (ctx.isAdmin) ev.host = e.host ?? '';
        }
        if (req.mv.atLeast('2.84') && ctx.isAdmin) ev.details = e.details;
        return ev;
      });
    }
    return { status: 200, body: { instanceAction: v } };
  });
};
