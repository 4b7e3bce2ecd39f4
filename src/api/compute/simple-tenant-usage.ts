/**
 * os-simple-tenant-usage: what each project's servers consumed over a period, in server-hours
 * and in VCPU-, MB- and GB-hours. GET /os-simple-tenant-usage lists every project (admins only);
 * GET /os-simple-tenant-usage/{tenant_id} shows one project (admins, or members of it).
 *
 * The period is [start, end] (query parameters in Nova's three naive UTC formats; each defaults
 * to now; end is clipped to now). A server counts when it was launched before the end and had
 * not ended (terminated_at, else deleted_at) before the start; its hours are its life clipped to
 * the period. Sizes come from the flavor snapshot kept on the instance, so a deleted flavor or a
 * later resize does not rewrite history. Servers that never launched consumed nothing and are
 * left out (Nova would fail to render their missing started_at).
 *
 * Paging (2.40+): `limit`/`marker` walk server usages, ordered by project then instance uuid,
 * marker = an instance uuid; a full page adds `tenant_usages_links` / `tenant_usage_links`.
 * Before 2.40 at most MAX_LIMIT servers are counted, as Nova's max_limit does.
 */
import { invalid, notFound, policyForbidden } from '../../errors.js';
import { flavorOf } from '../../db/instances.js';
import type { Sql, SqlValue } from '../../db/sql.js';
import type { ApiRequest } from '../../http/types.js';
import { ctxOf } from '../../http/types.js';
import { API_PREFIX, MAX_LIMIT, nextLinks, pageParams, type MountFn } from './common.js';

const RULE = 'os_compute_api:os-simple-tenant-usage';

/** The instance columns usage needs. */
interface UsageRow {
  uuid: string;
  project_id: string;
  display_name: string;
  flavor: string;
  vm_state: string;
  launched_at: string;
  ended_at: string | null;
}

export interface ServerUsage {
  ended_at: string | null;
  flavor: string;
  hours: number;
  instance_id: string;
  local_gb: number;
  memory_mb: number;
  name: string;
  started_at: string;
  state: string;
  tenant_id: string;
  uptime: number;
  vcpus: number;
}

export interface TenantUsage {
  server_usages?: ServerUsage[];
  start: string;
  stop: string;
  tenant_id: string;
  total_hours: number;
  total_local_gb_usage: number;
  total_memory_mb_usage: number;
  total_vcpus_usage: number;
}

/** Nova's accepted forms: CCYY-MM-DDThh:mm:ss[.NNNNNN] and CCYY-MM-DD hh:mm:ss.NNNNNN (UTC). */
const FORMATS = [
  /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?$/,
  /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})\.(\d{1,6})$/,
];

/**
 * A period bound as epoch milliseconds; `now` when absent or empty. 400 with Nova's message
 * for any other form (time zones included) and for impossible dates (2024-02-30).
 */
export function parseUsageTime(raw: string | null, now: number): number {
  if (!raw) return now;
  for (const re of FORMATS) {
    const m = re.exec(raw);
    if (!m) continue;
    const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
    const ms = Math.floor(Number(`0.${m[7] ?? '0'}`) * 1000);
    const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
    const back = new Date(t);
    if (back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && back.getUTCHours() === h && back.getUTCMinutes() === mi && back.getUTCSeconds() === s)
      return t;
  }
  throw invalid('Invalid datetime string: Datetime is in invalid format');
}

/** Nova's naive UTC rendering of a datetime: 2012-10-08T20:10:44.587000. */
export function usageTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

/** Hours of [launched, ended ?? stop] that fall within [start, stop]; 0 when disjoint. */
export function hoursFor(launched: number, ended: number | null, start: number, stop: number): number {
  if (ended !== null && ended < start) return 0;
  if (launched > stop) return 0;
  const from = Math.max(launched, start);
  const to = ended !== null ? Math.min(stop, ended) : stop;
  return Math.max(0, to - from) / 3_600_000;
}

interface Window {
  start: number;
  stop: number;
  detailed: boolean;
}

/** start/end/detailed from the query; 400 for bad dates or start not before end. */
function windowOf(req: ApiRequest, now: number): Window {
  const start = parseUsageTime(req.query.get('start'), now);
  let stop = parseUsageTime(req.query.get('end'), now);
  if (start > stop || (start === stop && req.query.get('start') && req.query.get('end')))
    throw invalid('Invalid start time. The start time cannot occur after the end time.');
  if (stop > now) stop = now;
  return { start, stop, detailed: req.query.get('detailed') === '1' };
}

/** The servers alive at some point of the window, ordered by (project, uuid), one page of them. */
async function activeInWindow(sql: Sql, w: Window, project: string | null, limit: number, marker: string | null): Promise<UsageRow[]> {
  const where = [
    'launched_at IS NOT NULL',
    'launched_at < ?',
    `(COALESCE(terminated_at, deleted_at) IS NULL OR COALESCE(terminated_at, deleted_at) > ?)`,
  ];
  const params: SqlValue[] = [new Date(w.stop).toISOString(), new Date(w.start).toISOString()];
  if (project !== null) {
    where.push('project_id = ?');
    params.push(project);
  }
  if (marker !== null) {
    const m = await sql.get<{ project_id: string; uuid: string }>('SELECT project_id, uuid FROM instances WHERE uuid = ?', [marker]);
    if (!m) throw invalid(`Marker ${marker} could not be found.`);
    where.push('(project_id > ? OR (project_id = ? AND uuid > ?))');
    params.push(m.project_id, m.project_id, m.uuid);
  }
  params.push(limit);
  return sql.all<UsageRow>(
    `SELECT uuid, project_id, display_name, flavor, vm_state, launched_at, COALESCE(terminated_at, deleted_at) AS ended_at
       FROM instances WHERE ${where.join(' AND ')} ORDER BY project_id, uuid LIMIT ?`,
    params,
  );
}

/** One server's usage over the window, sized by its flavor snapshot. */
function serverUsage(r: UsageRow, w: Window, now: number): ServerUsage {
  const launched = Date.parse(r.launched_at);
  const ended = r.ended_at ? Date.parse(r.ended_at) : null;
  const f = flavorOf(r);
  return {
    ended_at: ended !== null ? usageTime(ended) : null,
    flavor: f?.name ?? '',
    hours: hoursFor(launched, ended, w.start, w.stop),
    instance_id: r.uuid,
    local_gb: (f?.root_gb ?? 0) + (f?.ephemeral_gb ?? 0),
    memory_mb: f?.memory_mb ?? 0,
    name: r.display_name,
    started_at: usageTime(launched),
    state: ended !== null ? 'terminated' : r.vm_state,
    tenant_id: r.project_id,
    uptime: Math.max(0, Math.floor(((ended ?? now) - launched) / 1000)),
    vcpus: f?.vcpus ?? 0,
  };
}

/** Per-project totals over the given server usages, in first-seen project order. */
export function summarize(usages: ServerUsage[], w: Window): TenantUsage[] {
  const byProject = new Map<string, TenantUsage>();
  for (const u of usages) {
    let t = byProject.get(u.tenant_id);
    if (!t) {
      t = {
        ...(w.detailed ? { server_usages: [] } : {}),
        start: usageTime(w.start),
        stop: usageTime(w.stop),
        tenant_id: u.tenant_id,
        total_hours: 0,
        total_local_gb_usage: 0,
        total_memory_mb_usage: 0,
        total_vcpus_usage: 0,
      };
      byProject.set(u.tenant_id, t);
    }
    t.total_hours += u.hours;
    t.total_local_gb_usage += u.local_gb * u.hours;
    t.total_memory_mb_usage += u.memory_mb * u.hours;
    t.total_vcpus_usage += u.vcpus * u.hours;
    t.server_usages?.push(u);
  }
  return [...byProject.values()];
}

/** limit/marker at 2.40+, else Nova's fixed max_limit and no marker. */
function paging(req: ApiRequest) {
  return req.mv.atLeast('2.40') ? pageParams(req) : { limit: MAX_LIMIT, marker: null };
}

export const mountSimpleTenantUsage: MountFn = (router, deps) => {
  const base = `${API_PREFIX}/os-simple-tenant-usage`;

  router.get(base, async (req) => {
    // `/os-simple-tenant-usage/` is a show with an empty tenant id, which Nova's routes do not match.
    if (req.path.endsWith('/')) throw notFound('The resource could not be found.');
    if (!ctxOf(req).isAdmin) throw policyForbidden(`${RULE}:list`);
    const now = Date.now();
    const w = windowOf(req, now);
    const { limit, marker } = paging(req);
    const usages = (await activeInWindow(deps.sql, w, null, limit, marker)).map((r) => serverUsage(r, w, now));
    const body: Record<string, unknown> = { tenant_usages: summarize(usages, w) };
    if (req.mv.atLeast('2.40')) {
      const next = nextLinks(req, 'os-simple-tenant-usage', usages.map((u) => ({ id: u.instance_id })), limit);
      if (next) body.tenant_usages_links = next;
    }
    return { status: 200, body };
  });

  router.get(`${base}/:tenant_id`, async (req) => {
    const ctx = ctxOf(req);
    const project = req.params.tenant_id;
    if (!ctx.isAdmin && ctx.projectId !== project) throw policyForbidden(`${RULE}:show`);
    const now = Date.now();
    const w = { ...windowOf(req, now), detailed: true };
    const { limit, marker } = paging(req);
    const usages = (await activeInWindow(deps.sql, w, project, limit, marker)).map((r) => serverUsage(r, w, now));
    const body: Record<string, unknown> = { tenant_usage: summarize(usages, w)[0] ?? {} };
    if (req.mv.atLeast('2.40')) {
      const next = nextLinks(req, `os-simple-tenant-usage/${encodeURIComponent(project)}`, usages.map((u) => ({ id: u.instance_id })), limit);
      if (next) body.tenant_usage_links = next;
    }
    return { status: 200, body };
  });
};
