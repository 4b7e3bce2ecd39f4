/**
 * Origin check of console websockets (against cross-site websocket hijacking: a page on another
 * site must not open a console with a token it learned). A request without an Origin header
 * (Tempest, the websocket clients of scripts) is not a browser's cross-site request and passes.
 */

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' };

/** `host:port` of a URL (default port of its scheme filled in, host lowercased), or null. */
export function hostPortOfUrl(url: string): string | null {
  try {
    const u = new URL(url);
    const port = u.port || DEFAULT_PORTS[u.protocol];
    if (!port || !u.hostname) return null;
    return `${u.hostname.toLowerCase()}:${port}`;
  } catch {
    return null;
  }
}

/** `host:port` of a Host header as the client used it (`scheme` gives the default port). */
export function hostPortOfHostHeader(host: string | undefined, tls: boolean): string | null {
  if (!host) return null;
  return hostPortOfUrl(`${tls ? 'https' : 'http'}://${host}`);
}

/**
 * True when `origin` (the request's Origin header, possibly absent) may open a console: absent,
 * or naming one of `allowed` (each `host:port`). `null` and malformed origins are refused.
 */
export function originAllowed(origin: string | undefined, allowed: readonly (string | null)[]): boolean {
  if (origin === undefined) return true;
  const hp = hostPortOfUrl(origin);
  return hp !== null && allowed.includes(hp);
}
