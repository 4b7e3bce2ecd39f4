/**
 * The HTML of the console proxy: the shared layout (title, status line, header), the page shown
 * when a token is refused (it says why and what to do), and the browser-side function both
 * console pages use to explain a failed connection.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** Escapes text for HTML element content and double-quoted attributes. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside a <script> element. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** What a console page (noVNC or serial) is about and where its websocket is. */
export interface ConsolePageArgs {
  instanceUuid: string;
  instanceName: string | null;
  /** Path and query of the websocket on this proxy, e.g. `/?token=T&instance_uuid=U`. */
  wsPath: string;
}

/** What a page says about its instance in titles and headings. */
export function instanceLabel(name: string | null, uuid: string): string {
  return name ? `${name} (${uuid})` : uuid;
}

const BASE_CSS = `
  html, body { margin: 0; height: 100%; background: #222; color: #eee; font: 14px/1.4 system-ui, sans-serif; }
  body { display: flex; flex-direction: column; }
  header { display: flex; gap: 1em; align-items: center; flex-wrap: wrap; padding: .3em .8em; background: #333; border-bottom: 1px solid #444; }
  header h1 { font-size: 1em; margin: 0; font-weight: 600; }
  header h1 .desktop { font-weight: normal; opacity: .7; }
  #status { flex: 1; }
  #status[data-state="failed"] { color: #ff9a8a; }
  #status[data-state="connected"] { color: #9be59b; }
  button { font: inherit; padding: .15em .7em; }
  button:focus-visible, a:focus-visible { outline: 2px solid #8cf; outline-offset: 2px; }
  a { color: #8cf; }
  #detail { margin: 0; padding: .3em .8em; background: #2b2b2b; }
  main { flex: 1; min-height: 0; position: relative; }
  .message { max-width: 40em; margin: 3em auto; padding: 0 1em; }
`;

export interface PageParts {
  title: string;
  /** Extra <head> content (trusted HTML). */
  head?: string;
  /** <body> content (trusted HTML). */
  body: string;
  /** Source of one inline module script (trusted), run under the page's CSP nonce. */
  script?: string;
  /** Data for the script, readable as JSON from #console-config. */
  config?: unknown;
}

/** Sends an HTML page with headers keeping the token in it private (no caching, no referrer). */
export function sendPage(res: ServerResponse, status: number, p: PageParts): void {
  const nonce = randomBytes(16).toString('base64');
  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(p.title)}</title>
<link rel="icon" href="data:,">
<style>${BASE_CSS}</style>
${p.head ?? ''}
</head>
<body>
${p.body}
${p.config === undefined ? '' : `<script type="application/json" id="console-config">${scriptJson(p.config)}</script>`}
${p.script ? `<script type="module" nonce="${nonce}">${p.script}</script>` : ''}
</body>
</html>
`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'content-security-policy':
      `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'self' 'unsafe-inline'; ` +
      `img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'`,
  });
  res.end(html);
}

/** The page answered (401) when a console page is opened with a refused token. */
export function sendRefusalPage(res: ServerResponse, reason: string, message: string): void {
  sendPage(res, 401, {
    title: 'Console unavailable (noVNC console proxy)',
    body: `<main class="message" role="main">
<h1>This console cannot be opened</h1>
<p id="reason" data-reason="${esc(reason)}">${esc(message)}</p>
<p>Console URLs are short-lived. Get a new one with <code>openstack console url show --novnc SERVER</code>
(or <code>--serial</code>), or from the Console tab of the dashboard, and open it again.</p>
</main>`,
  });
}

/**
 * Browser-side (inserted into the console pages' module scripts): `explainFailure(wsPath,
 * closeEvent)` answers why a console websocket failed, asking /token-status when the close
 * itself says nothing (a refused upgrade reaches the page as code 1006 without a reason).
 */
export const EXPLAIN_FAILURE_JS = `
async function explainFailure(wsPath, close) {
  if (close && close.code === 1011 && close.reason) return close.reason;
  const q = wsPath.includes('?') ? wsPath.slice(wsPath.indexOf('?')) : '';
  try {
    const r = await fetch('/token-status' + q, { credentials: 'same-origin', cache: 'no-store' });
    const s = await r.json();
    if (!s.valid) return s.message;
  } catch (e) {
    return 'The console proxy cannot be reached: check your network, then reload this page.';
  }
  if (close && close.reason) return close.reason;
  return 'The connection to the console was lost (is the instance running?). Reload this page to try again.';
}
function setStatus(state, text, detail) {
  const el = document.getElementById('status');
  el.dataset.state = state;
  el.textContent = text;
  const d = document.getElementById('detail');
  d.textContent = detail || '';
  d.hidden = !detail;
}
`;
