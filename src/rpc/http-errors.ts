/**
 * Turns an error answer of one of our own HTTP APIs back into the NovaError it came from
 * (the inverse of src/http/faults.ts, by status), so that a remote caller sees the same kind
 * and message as an in-process one.
 */
import { NovaError, type ErrorKind } from '../errors.js';

const KINDS: Record<number, ErrorKind> = {
  400: 'Invalid',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  413: 'TooLarge',
  415: 'UnsupportedMediaType',
  501: 'NotImplemented',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The message of a fault body in any of our styles (Nova, Keystone, Glance, Neutron, Placement). */
export function faultMessage(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text.trim() || undefined;
  }
  if (body === null || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.message === 'string') return b.message;
  if (Array.isArray(b.errors) && typeof (b.errors[0] as { detail?: unknown })?.detail === 'string') return (b.errors[0] as { detail: string }).detail;
  for (const v of Object.values(b)) {
    if (v && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') return (v as { message: string }).message;
  }
  return undefined;
}

/**
 * The NovaError for an error response: the API's own message with the kind its status maps
 * to; statuses without a kind (500, 502...) become ServiceUnavailable naming what was done.
 */
export async function apiError(r: Response, doing: string): Promise<NovaError> {
  const msg = faultMessage(await r.text().catch(() => ''));
  const kind = KINDS[r.status];
  if (kind && msg) return new NovaError(kind, msg);
  return new NovaError('ServiceUnavailable', `${doing} failed: HTTP ${r.status}${msg ? `: ${msg}` : ''}.`);
}
