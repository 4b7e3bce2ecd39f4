/**
 * Plain HTTP requests to the console proxy:
 * - GET /vnc_lite.html (aliases /vnc_auto.html, /vnc.html) `?path=<websocket path and query>`
 *   (default `websockify`; the token may also be in the page's own query or a Cookie): the
 *   noVNC page; 401 page saying why when the token is refused; a serial token is redirected
 *   to its terminal page.
 * - GET /?token=T[&instance_uuid=U] (also /websockify): the serial terminal page for a serial
 *   token; a noVNC token is redirected to /vnc_lite.html; 401 page when refused.
 * - GET /token-status?token=T[&instance_uuid=U]: JSON {valid, reason, message} for the pages to
 *   explain a refused websocket (tokens are 128 random bits; this reveals nothing guessable).
 * - GET /novnc/**, /xterm/**: the clients' files (static.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../util/log.js';
import { admit, credentialsOf, type Admission } from './admission.js';
import type { ProxyContext } from './context.js';
import { sendRefusalPage } from './pages.js';
import { sendSerialPage } from './serial-page.js';
import { isStaticPath, serveStatic } from './static.js';
import { sendVncPage } from './vnc-page.js';

const VNC_PAGES = new Set(['/vnc_lite.html', '/vnc_auto.html', '/vnc.html']);
const TERMINAL_PATHS = new Set(['/', '/websockify']);

const text = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) =>
  void res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(body + '\n');

const redirect = (res: ServerResponse, location: string) =>
  void res.writeHead(302, { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).end();

/** The websocket path a noVNC page opens, from its `path` query (relative to the proxy root). */
function websocketPathOf(query: URLSearchParams): URL {
  const path = query.get('path') ?? 'websockify';
  const u = new URL('/' + path.replace(/^[/\\]+/, ''), 'http://proxy');
  // Old URLs put the token in the page's own query: carry it to the websocket.
  for (const k of ['token', 'instance_uuid']) {
    const v = query.get(k);
    if (v && !u.searchParams.get(k)) u.searchParams.set(k, v);
  }
  return u;
}

const serialUrl = (token: string, uuid: string) => `/?token=${encodeURIComponent(token)}&instance_uuid=${encodeURIComponent(uuid)}`;
const vncUrl = (token: string, uuid: string) => `/vnc_lite.html?path=${encodeURIComponent(serialUrl(token, uuid).slice(1))}`;

export function makeRequestHandler(ctx: ProxyContext, log: Logger) {
  const refused = (res: ServerResponse, adm: Extract<Admission, { ok: false }>, what: string, req: IncomingMessage) => {
    log.info(`refused ${what} page for ${req.socket.remoteAddress ?? '?'}: ${adm.reason}`);
    sendRefusalPage(res, adm.reason, adm.message);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawPath = (req.url ?? '/').split('?')[0];
    const url = new URL(req.url ?? '/', 'http://proxy');
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'Method not allowed', { allow: 'GET, HEAD' });
    if (isStaticPath(rawPath)) return serveStatic(req, res, rawPath);

    if (VNC_PAGES.has(rawPath)) {
      const ws = websocketPathOf(url.searchParams);
      const creds = credentialsOf(ws.searchParams, req.headers.cookie);
      const adm = await admit(ctx.sql, ctx.store, creds);
      if (!adm.ok) return refused(res, adm, 'noVNC', req);
      if (adm.record.console_type !== 'novnc') return redirect(res, serialUrl(creds.token!, adm.record.instance_uuid));
      return sendVncPage(res, { instanceUuid: adm.record.instance_uuid, instanceName: adm.instanceName, wsPath: ws.pathname + ws.search });
    }

    if (TERMINAL_PATHS.has(rawPath)) {
      const creds = credentialsOf(url.searchParams, req.headers.cookie);
      const adm = await admit(ctx.sql, ctx.store, creds);
      if (!adm.ok) return refused(res, adm, 'console', req);
      if (adm.record.console_type === 'novnc') return redirect(res, vncUrl(creds.token!, adm.record.instance_uuid));
      return sendSerialPage(res, { instanceUuid: adm.record.instance_uuid, instanceName: adm.instanceName, wsPath: rawPath + url.search });
    }

    if (rawPath === '/token-status') {
      const adm = await admit(ctx.sql, ctx.store, credentialsOf(url.searchParams, req.headers.cookie));
      const body = adm.ok
        ? {
            valid: true,
            reason: null,
            message: `The console token is valid until ${new Date(adm.record.expires_at * 1000).toISOString()}.`,
            console_type: adm.record.console_type,
            instance_uuid: adm.record.instance_uuid,
            expires_at: adm.record.expires_at,
          }
        : { valid: false, reason: adm.reason, message: adm.message };
      const json = JSON.stringify(body);
      return void res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(json) }).end(json);
    }

    return text(res, 404, 'Not found: console URLs look like /vnc_lite.html?path=... or /?token=...');
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err) => {
      log.error(`console proxy request ${req.method} ${(req.url ?? '').split('?')[0]} failed`, err);
      if (!res.headersSent) text(res, 500, 'The console proxy failed: see its log.');
      else res.destroy();
    });
  };
}
