/**
 * os-services (admin): list the nova services with their liveness, enable/disable them, force
 * a compute service down, delete one. Before 2.53 services are addressed by host and binary
 * (PUT /os-services/enable|disable|disable-log-reason|force-down) and have integer ids; from
 * 2.53 by uuid (PUT /os-services/{uuid}).
 */
import { conflict, invalid, notFound } from '../../errors.js';
import { SchedulerRpcApi } from '../../scheduler/rpcapi.js';
import type { Sql } from '../../db/sql.js';
import type { ApiRequest } from '../../http/types.js';
import { ctxOf } from '../../http/types.js';
import { validate } from '../../http/validate.js';
import { requireAdmin } from '../policy.js';
import { isUuidLike } from '../../util/ids.js';
import { nowIso } from '../../util/time.js';
import { API_PREFIX, type MountFn } from './common.js';
import type { ComputeApiDeps } from './deps.js';
import { booleanLike, toBool } from './flavor-schemas.js';
import { rejectUnknownQuery } from './query.js';
import {
  SERVICE_COLUMNS,
  hostZones,
  isServiceUp,
  listServiceRows,
  novaDbTime,
  serviceDownTime,
  zoneOf,
  type ServiceRow,
} from './service-state.js';

const hostBinary = { host: { type: 'string', minLength: 1, maxLength: 255 }, binary: { type: 'string', minLength: 1, maxLength: 255 } };
const legacySchema = (extra: Record<string, unknown>, required: string[]) => ({
  type: 'object',
  properties: { ...hostBinary, ...extra },
  required: ['host', 'binary', ...required],
  additionalProperties: false,
});
const enableSchema = legacySchema({}, []);
const disableLogSchema = legacySchema({ disabled_reason: { type: 'string', minLength: 1, maxLength: 255 } }, []);
const forceDownSchema = legacySchema({ forced_down: booleanLike }, ['forced_down']);
const updateSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['enabled', 'disabled'] },
    disabled_reason: { type: 'string', minLength: 1, maxLength: 255 },
    forced_down: booleanLike,
  },
  additionalProperties: false,
};

/** Nova shows the later of the row's update and its last heartbeat. */
export function latest(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

async function view(deps: ComputeApiDeps, req: ApiRequest, rows: ServiceRow[]) {
  const zones = await hostZones(deps.sql);
  const down = serviceDownTime(deps.config);
  const now = Date.now();
  return rows.map((s) => {
    const out: Record<string, unknown> = {
      id: req.mv.atLeast('2.53') ? s.uuid : Number(s.id),
      binary: s.binary,
      disabled_reason: s.disabled_reason,
      host: s.host,
      state: isServiceUp(s, down, now) ? 'up' : 'down',
      status: s.disabled ? 'disabled' : 'enabled',
      updated_at: novaDbTime(latest(s.updated_at, s.last_seen_up)),
      zone: zoneOf(s, zones, deps.config.compute.defaultAvailabilityZone),
    };
    if (req.mv.atLeast('2.11')) out.forced_down = !!s.forced_down;
    return out;
  });
}

async function byHostBinary(sql: Sql, host: string, binary: string): Promise<ServiceRow> {
  const row = await sql.get<ServiceRow>(`SELECT ${SERVICE_COLUMNS} FROM services WHERE host = ? AND "binary" = ? AND deleted = 0 AND "binary" LIKE 'nova-%'`, [host, binary]);
  if (!row) throw notFound('Unknown service');
  return row;
}

async function setFields(sql: Sql, id: number, fields: Record<string, string | number | null>): Promise<void> {
  const keys = Object.keys(fields);
  if (keys.length === 0) return;
  await sql.run(`UPDATE services SET ${keys.map((k) => `${k} = ?`).join(', ')}, updated_at = ? WHERE id = ?`, [...Object.values(fields), nowIso(), id]);
}

/** PUT /os-services/{action} before 2.53: act on the service named by host and binary. */
async function legacyUpdate(deps: ComputeApiDeps, req: ApiRequest) {
  const { sql } = deps;
  const action = req.params.id;
  if (action === 'enable' || action === 'disable') {
    const b = validate<{ host: string; binary: string }>(enableSchema, req.body);
    const row = await byHostBinary(sql, b.host, b.binary);
    await setFields(sql, row.id, action === 'enable' ? { disabled: 0, disabled_reason: null } : { disabled: 1 });
    return { service: { binary: b.binary, host: b.host, status: action === 'enable' ? 'enabled' : 'disabled' } };
  }
  if (action === 'disable-log-reason') {
    const b = validate<{ host: string; binary: string; disabled_reason?: string }>(disableLogSchema, req.body);
    if (b.disabled_reason === undefined) throw invalid('Missing disabled reason field');
    const row = await byHostBinary(sql, b.host, b.binary);
    await setFields(sql, row.id, { disabled: 1, disabled_reason: b.disabled_reason });
    return { service: { binary: b.binary, disabled_reason: b.disabled_reason, host: b.host, status: 'disabled' } };
  }
  if (action === 'force-down' && req.mv.atLeast('2.11')) {
    const b = validate<{ host: string; binary: string; forced_down: boolean | string }>(forceDownSchema, req.body);
    const row = await byHostBinary(sql, b.host, b.binary);
    const forced = toBool(b.forced_down);
    await setFields(sql, row.id, { forced_down: forced ? 1 : 0 });
    return { service: { binary: b.binary, host: b.host, forced_down: forced } };
  }
  throw notFound('Unknown action');
}

/** PUT /os-services/{uuid} from 2.53. */
async function update253(deps: ComputeApiDeps, req: ApiRequest) {
  const { sql } = deps;
  const id = req.params.id;
  if (!isUuidLike(id)) throw invalid(`Invalid uuid ${id}`);
  const b = validate<{ status?: 'enabled' | 'disabled'; disabled_reason?: string; forced_down?: boolean | string }>(updateSchema, req.body ?? {});
  if (b.status === undefined && b.forced_down === undefined) throw invalid("At least one of 'status' or 'forced_down' must be specified.");
  if (b.disabled_reason !== undefined && b.status !== 'disabled')
    throw invalid("Specifying 'disabled_reason' with status 'enabled' is invalid.");
  const row = await sql.get<ServiceRow>(`SELECT ${SERVICE_COLUMNS} FROM services WHERE uuid = ? AND deleted = 0 AND "binary" LIKE 'nova-%'`, [id]);
  if (!row) throw notFound(`Service ${id} not found.`);
  if (row.binary !== 'nova-compute')
    throw invalid(`Updating a ${row.binary} service is not supported. Only nova-compute services can be updated.`);
  const fields: Record<string, string | number | null> = {};
  if (b.status === 'enabled') Object.assign(fields, { disabled: 0, disabled_reason: null });
  if (b.status === 'disabled') Object.assign(fields, { disabled: 1, disabled_reason: b.disabled_reason ?? null });
  if (b.forced_down !== undefined) fields.forced_down = toBool(b.forced_down) ? 1 : 0;
  await setFields(sql, row.id, fields);
  const fresh = (await sql.get<ServiceRow>(`SELECT ${SERVICE_COLUMNS} FROM services WHERE id = ?`, [row.id]))!;
  return { service: (await view(deps, req, [fresh]))[0] };
}

export const mountServices: MountFn = (router, deps) => {
  const { sql } = deps;
  const base = `${API_PREFIX}/os-services`;

  router.get(base, async (req) => {
    requireAdmin(ctxOf(req), 'os_compute_api:os-services:list');
    if (req.mv.atLeast('2.75')) rejectUnknownQuery(req, ['host', 'binary']);
    const rows = await listServiceRows(sql, { host: req.query.get('host') ?? undefined, binary: req.query.get('binary') ?? undefined });
    return { status: 200, body: { services: await view(deps, req, rows) } };
  });

  router.put(`${base}/:id`, async (req) => {
    requireAdmin(ctxOf(req), 'os_compute_api:os-services:update');
    const body = req.mv.atLeast('2.53') ? await update253(deps, req) : await legacyUpdate(deps, req);
    await new SchedulerRpcApi(deps.bus).hostsChanged();
    return { status: 200, body };
  });

  router.delete(`${base}/:id`, async (req) => {
    requireAdmin(ctxOf(req), 'os_compute_api:os-services:delete');
    const id = req.params.id;
    let row: ServiceRow | undefined;
    if (req.mv.atLeast('2.53')) {
      if (!isUuidLike(id)) throw invalid(`Invalid uuid ${id}`);
      row = await sql.get<ServiceRow>(`SELECT ${SERVICE_COLUMNS} FROM services WHERE uuid = ? AND deleted = 0`, [id]);
    } else {
      if (!/^\d+$/.test(id)) throw invalid(`Service id in request ${id} is invalid.`);
      row = await sql.get<ServiceRow>(`SELECT ${SERVICE_COLUMNS} FROM services WHERE id = ? AND deleted = 0 AND "binary" LIKE 'nova-%'`, [Number(id)]);
    }
    if (!row) throw notFound(`Service ${id} not found.`);
    const found = row;
    await sql.tx(async (tx) => {
      if (found.binary === 'nova-compute') {
        const n = await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM instances WHERE host = ? AND deleted = 0', [found.host]);
        if (Number(n?.n ?? 0) > 0)
          throw conflict('Unable to delete compute service that is hosting instances. Migrate or delete the instances first.');
        await tx.run('UPDATE compute_nodes SET deleted = id WHERE host = ? AND deleted = 0', [found.host]);
        await tx.run('DELETE FROM aggregate_hosts WHERE host = ?', [found.host]);
      }
      await tx.run('UPDATE services SET deleted = id, updated_at = ? WHERE id = ?', [nowIso(), found.id]);
    });
    await new SchedulerRpcApi(deps.bus).hostsChanged();
    return { status: 204 };
  });
};
