/**
 * How every Block Storage v3 route is registered: both URL forms (`/v3/{project_id}/...` and,
 * as Cinder 3.67+ allows, `/v3/...`), the project check (the URL's project must be the token's
 * unless admin), Cinder's microversion negotiation (`OpenStack-API-Version: volume 3.x`) and
 * the answered version headers.
 */
import type { Sql } from '../../db/sql.js';
import { invalid, notAcceptable, notFound, policyForbidden } from '../../errors.js';
import { Microversion } from '../../http/microversion.js';
import type { Router } from '../../http/router.js';
import { ctxOf, type ApiRequest, type ApiResponse, type RequestContext } from '../../http/types.js';
import type { VolumeOpsDeps } from '../volume-ops.js';
import type { ViewCtx } from '../views.js';

export const VOLUME_MIN_VERSION = '3.0';
export const VOLUME_MAX_VERSION = '3.70';

export type ApiDeps = VolumeOpsDeps & { sql: Sql };

export interface Call extends ViewCtx {
  ctx: RequestContext;
  /** The project the URL names (the token's when the URL has none). */
  projectId: string;
}

/** Cinder's negotiation: absent is 3.0, `latest` the maximum, malformed 400, out of range 406. */
export function volumeMicroversion(headers: Record<string, string | string[] | undefined>): Microversion {
  let raw: string | undefined;
  for (const name of ['openstack-api-version', 'openstack-volume-microversion']) {
    const h = headers[name];
    if (h === undefined) continue;
    for (const item of (Array.isArray(h) ? h.join(',') : h).split(',')) {
      const parts = item.trim().split(/\s+/);
      if (name === 'openstack-volume-microversion' && parts.length === 1) raw = parts[0];
      else if (parts[0]?.toLowerCase() === 'volume') raw = parts[1] ?? '';
    }
  }
  if (raw === undefined) return Microversion.parse(VOLUME_MIN_VERSION)!;
  if (raw.trim().toLowerCase() === 'latest') return Microversion.parse(VOLUME_MAX_VERSION)!;
  const v = Microversion.parse(raw);
  if (!v) throw invalid(`API Version String ${raw} is of invalid format. Must be of format MajorNum.MinorNum.`);
  if (!v.within(VOLUME_MIN_VERSION, VOLUME_MAX_VERSION))
    throw notAcceptable(`Version ${raw} is not supported by the API. Minimum is ${VOLUME_MIN_VERSION} and maximum is ${VOLUME_MAX_VERSION}.`);
  return v;
}

export type Handler = (req: ApiRequest, c: Call) => Promise<ApiResponse> | ApiResponse;

/** Registers pattern (below `/v3/{project_id}`) under both URL forms; `minVersion` gates it (404 below). */
export function route(router: Router, method: string, pattern: string, handler: Handler, minVersion?: string): void {
  const wrapped = async (req: ApiRequest): Promise<ApiResponse> => {
    const ctx = ctxOf(req);
    const mv = volumeMicroversion(req.headers);
    const urlProject = req.params.project_id;
    if (urlProject !== undefined && urlProject !== ctx.projectId && !ctx.isAdmin)
      throw invalid(`Malformed request url: URL's project_id '${urlProject}' doesn't match Context's project_id '${ctx.projectId}'`);
    const projectId = urlProject ?? ctx.projectId;
    if (!projectId) throw policyForbidden('volume:project_scope');
    if (minVersion && !mv.atLeast(minVersion)) throw notFoundForVersion(mv);
    const out = await handler(req, { ctx, mv, projectId, baseUrl: req.baseUrl, isAdmin: ctx.isAdmin });
    out.headers = { ...(out.headers ?? {}), 'openstack-api-version': `volume ${mv}`, vary: 'OpenStack-API-Version' };
    return out;
  };
  router.add(method, `/v3/:project_id${pattern}`, wrapped);
  router.add(method, `/v3${pattern}`, wrapped);
}

function notFoundForVersion(mv: Microversion) {
  return notFound(`API version ${mv} is not supported on this method.`);
}

/** A JSON body that must be an object holding key (Cinder's "Missing required element" otherwise). */
export function element<T>(body: unknown, key: string): T {
  if (!body || typeof body !== 'object' || !(key in body)) throw invalid(`Missing required element '${key}' in request body.`);
  return (body as Record<string, T>)[key];
}

/** Parses a boolean query or body value as Cinder does (true/false, yes/no, 1/0, on/off). */
export function parseBool(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  const s = String(v).trim().toLowerCase();
  if (['true', 't', 'yes', 'y', '1', 'on'].includes(s)) return true;
  if (['false', 'f', 'no', 'n', '0', 'off'].includes(s)) return false;
  throw invalid(`Invalid input received: ${field} must be a boolean (true or false), got '${String(v)}'.`);
}
