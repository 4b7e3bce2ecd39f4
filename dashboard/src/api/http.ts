/**
 * The one way the dashboard talks to the cloud: fetch with the user's token, JSON in and out,
 * and an ApiError carrying the API's own message (Nova's `{"itemNotFound": {"message"}}`,
 * Keystone's `{"error": {"message"}}`, Neutron's `{"NeutronError": {"message"}}`, ...).
 * A 401 on an authenticated call ends the session (the app shows the login page).
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The parsed error body, when there was one. */
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Extra headers (a compute microversion, X-Subject-Token, ...). */
  headers?: Record<string, string>;
  /** Send no X-Auth-Token (login). */
  anonymous?: boolean;
  signal?: AbortSignal;
}

export interface Reply<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** Supplies the current token; set by the session. */
let tokenSource: () => string | null = () => null;
/** Called when an authenticated request answers 401 (the token expired or was revoked). */
let onUnauthorized: () => void = () => {};

export function configureHttp(opts: { token: () => string | null; unauthorized: () => void }): void {
  tokenSource = opts.token;
  onUnauthorized = opts.unauthorized;
}

/** The message a user should read from an error body, whatever the API's fault format. */
export function faultMessage(status: number, body: unknown, fallback: string): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (typeof b.message === 'string') return b.message;
    for (const v of Object.values(b)) {
      if (v && typeof v === 'object') {
        const m = (v as Record<string, unknown>).message;
        if (typeof m === 'string' && m) return m;
      }
    }
  }
  if (typeof body === 'string' && body.trim() && body.length < 500) return body.trim();
  return `${fallback} (HTTP ${status})`;
}

export async function request<T = unknown>(url: string, opts: RequestOptions = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  const token = opts.anonymous ? null : tokenSource();
  if (token) headers['x-auth-token'] = token;
  let payload: string | undefined;
  if (opts.body !== undefined) {
    payload = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  let r: Response;
  try {
    r = await fetch(url, { method: opts.method ?? 'GET', headers, body: payload, signal: opts.signal });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, `The cloud could not be reached (${String(e)}).`);
  }
  const text = await r.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!r.ok) {
    if (r.status === 401 && token) onUnauthorized();
    throw new ApiError(r.status, faultMessage(r.status, body, `${opts.method ?? 'GET'} ${new URL(url, location.href).pathname} failed`), body);
  }
  return { status: r.status, body: body as T, headers: r.headers };
}

/** GET returning the body. */
export async function getJson<T>(url: string, headers?: Record<string, string>, signal?: AbortSignal): Promise<T> {
  return (await request<T>(url, { headers, signal })).body;
}

/** Builds a query string from defined values; arrays repeat the key. */
export function query(params: Record<string, string | number | boolean | undefined | null | Array<string | number>>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const x of v) q.append(k, String(x));
    else q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
