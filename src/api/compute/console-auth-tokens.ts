/**
 * os-console-auth-tokens (admin): what a console token gives access to.
 *
 * - `GET /os-console-auth-tokens/{token}` as Nova: `{"console": {instance_uuid, host, port,
 *   internal_access_path}}`; 404 "Token not found" for an unknown or expired token; below 2.31
 *   only rdp-html5 tokens were shown (nova-ts has none), so others answer Nova's 401.
 * - nova-ts extensions: `GET /os-console-auth-tokens[?instance_uuid=U]` lists the live tokens
 *   (their records, never the tokens themselves, which are stored only hashed) and
 *   `DELETE /os-console-auth-tokens/{token}` revokes one at once (204; 404 when unknown).
 * Policy os_compute_api:os-console-auth-tokens: admins only.
 */
import { invalid, notFound, unauthorized } from '../../errors.js';
import { ctxOf, type ApiRequest } from '../../http/types.js';
import { ConsoleTokenStore } from '../../console/token-store.js';
import type { ConsoleTokenRecord } from '../../console/types.js';
import { isUuidLike } from '../../util/ids.js';
import { requireAdmin } from '../policy.js';
import { API_PREFIX, type MountFn } from './common.js';

export const CONSOLE_AUTH_TOKENS_POLICY = 'os_compute_api:os-console-auth-tokens';

/** One token's record in the list extension (no token: only its hash is kept). */
export function tokenListView(r: ConsoleTokenRecord) {
  return {
    id: r.id,
    instance_uuid: r.instance_uuid,
    console_type: r.console_type,
    host: r.host,
    port: r.port,
    internal_access_path: r.internal_access_path,
    access_url_base: r.access_url_base,
    created_at: r.created_at,
    expires_at: new Date(r.expires_at * 1000).toISOString(),
  };
}

function tokenParam(req: ApiRequest): string {
  const token = req.params.token;
  if (!token) throw invalid('token not provided');
  return token;
}

export const mountConsoleAuthTokens: MountFn = (router, deps) => {
  const base = `${API_PREFIX}/os-console-auth-tokens`;
  const store = () => new ConsoleTokenStore(deps.sql);

  router.get(`${base}/:token`, async (req) => {
    requireAdmin(ctxOf(req), CONSOLE_AUTH_TOKENS_POLICY);
    const rec = await store().find(tokenParam(req));
    if (!rec) throw notFound('Token not found');
    if (!req.mv.atLeast('2.31')) throw unauthorized('The requested console type details are not accessible');
    return {
      status: 200,
      body: { console: { instance_uuid: rec.instance_uuid, host: rec.host, port: rec.port, internal_access_path: rec.internal_access_path } },
    };
  });

  router.get(base, async (req) => {
    requireAdmin(ctxOf(req), CONSOLE_AUTH_TOKENS_POLICY);
    const uuid = req.query.get('instance_uuid');
    if (uuid !== null && !isUuidLike(uuid)) throw invalid(`Invalid input for query parameters instance_uuid. Value: ${uuid}. '${uuid}' is not a 'uuid'`);
    const records = await store().list(uuid ? { instance_uuid: uuid } : {});
    return { status: 200, body: { console_auth_tokens: records.map(tokenListView) } };
  });

  router.delete(`${base}/:token`, async (req) => {
    requireAdmin(ctxOf(req), CONSOLE_AUTH_TOKENS_POLICY);
    if (!(await store().revoke(tokenParam(req)))) throw notFound('Token not found');
    return { status: 204 };
  });
};
