/**
 * Who may open a console: the token (from the query `token`, or a `token=` Cookie as old noVNC
 * sent it) must be issued, unexpired, for the instance the URL names (when it names one), and
 * that instance must still exist on the host the token was issued for. Read from the DB on
 * every request, so tokens survive restarts of the proxy and die with their instance.
 */
import type { Sql } from '../../db/sql.js';
import type { ConsoleTokenStore } from '../token-store.js';
import { REFUSAL_MESSAGES, type ConsoleTokenRecord, type TokenRefusal } from '../types.js';

/** What the URL carries: the token and the instance it names (both may be absent). */
export interface ConsoleCredentials {
  token: string | null;
  instanceUuid: string | null;
}

export type Admission =
  | { ok: true; record: ConsoleTokenRecord; instanceName: string | null }
  | { ok: false; reason: TokenRefusal; message: string };

/** Said when the token's instance was deleted or left the token's host (reason 'unknown'). */
export const GONE_MESSAGE =
  'The instance of this console token was deleted or moved to another host: ask for a new console URL (openstack console url show).';

/** The value of cookie `name` (up to a `&`, as a whole query string may be sent as the cookie). */
function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const v = part.slice(eq + 1).trim().split('&')[0];
    try {
      return decodeURIComponent(v) || null;
    } catch {
      return v || null;
    }
  }
  return null;
}

/** Token and instance of a request: query first, then the Cookie header. */
export function credentialsOf(query: URLSearchParams, cookieHeader: string | undefined): ConsoleCredentials {
  return {
    token: query.get('token') || cookieValue(cookieHeader, 'token'),
    instanceUuid: query.get('instance_uuid') || cookieValue(cookieHeader, 'instance_uuid'),
  };
}

interface InstanceRow {
  display_name: string;
  host: string | null;
  vm_state: string;
  deleted: number | string | bigint;
}

/** Checks credentials; a refusal carries the reason code and the message users are told. */
export async function admit(sql: Sql, store: ConsoleTokenStore, creds: ConsoleCredentials): Promise<Admission> {
  const checked = await store.check(creds.token, creds.instanceUuid);
  if (!checked.ok) return { ok: false, reason: checked.reason, message: REFUSAL_MESSAGES[checked.reason] };
  const rec = checked.record;
  const inst = await sql.get<InstanceRow>('SELECT display_name, host, vm_state, deleted FROM instances WHERE uuid = ?', [rec.instance_uuid]);
  if (!inst || Number(inst.deleted) !== 0 || inst.vm_state === 'deleted' || inst.host !== rec.host) {
    return { ok: false, reason: 'unknown', message: GONE_MESSAGE };
  }
  return { ok: true, record: rec, instanceName: inst.display_name };
}
