/**
 * Serves the dashboard (the single-page app built into dashboard/dist by `npm run build`) for
 * every request no API mount claims (the API server's fallback):
 * - files of dist with their type; hashed files under /assets/ are cached for a year
 *   (immutable), everything else is revalidated (ETag, 304);
 * - any other GET/HEAD path without a file extension is a client-side route: index.html;
 * - a missing file with an extension (a stale asset) is a 404, never index.html;
 * - the API prefixes (/identity, /compute, ...) are never answered here, whatever the path;
 * - without a build, `/` and the routes answer 503 saying how to build it.
 * Paths with `..`, backslashes, NUL or symlinks leaving dist answer 404.
 */
import { createReadStream, existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, posix, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Paths the APIs own: the dashboard never answers them, even when no route matched. */
export const API_PREFIXES = ['/identity', '/compute', '/image', '/network', '/volume', '/placement'];

/**
 * The page sets what it may load: its own scripts and styles only; frames (the instance
 * console) from the console proxy, which listens on another port.
 */
const CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-src http: https:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** dashboard/dist of this checkout, from src/ (tsx) or dist/src/ (built). */
export function defaultDashboardDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'dashboard', 'index.html'))) return join(dir, 'dashboard', 'dist');
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'dashboard', 'dist');
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nova-ts dashboard not built</title></head>
<body><h1>The nova-ts dashboard is not built</h1>
<p>Build it in the nova-ts checkout with <code>npm run build</code> (or start the cloud with <code>npm start</code>, which builds it), then reload this page.</p>
<p>The APIs are served as usual under /identity, /compute, /image, /network, /volume and /placement.</p>
</body></html>
`;

function plain(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', ...extra }).end(text);
}

/** The fallback handler for the API server: serves distDir (read per request, so a later build is picked up). */
export function dashboardFallback(distDir: string = defaultDashboardDir()): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    serve(distDir, req, res).catch(() => {
      if (!res.headersSent) plain(res, 500, 'Internal error\n');
      else res.destroy();
    });
  };
}

async function serve(distDir: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const rawPath = (req.url ?? '/').split('?')[0];
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return plain(res, 404, 'Not found\n');
  }
  if (API_PREFIXES.some((p) => path === p || path.startsWith(p + '/')))
    return void res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ itemNotFound: { code: 404, message: 'The resource could not be found.' } }));
  if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'Method not allowed\n', { allow: 'GET, HEAD' });
  if (path.includes('\0') || path.includes('\\') || path.split('/').some((p) => p === '..' || p === '.')) return plain(res, 404, 'Not found\n');

  const root = await realpath(distDir).catch(() => null);
  const index = root ? join(root, 'index.html') : null;
  if (!root || !index || !existsSync(index)) {
    res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '10' });
    return void res.end(req.method === 'HEAD' ? undefined : NOT_BUILT);
  }
  const rel = posix.normalize(path).replace(/^\/+/, '');
  const ext = extname(rel);
  if (rel === '' || rel === 'index.html' || !ext) return sendFile(req, res, index, 'no-cache');
  // A file: it must exist inside dist with a known type; else 404 (never index.html for an asset).
  if (!TYPES[ext]) return plain(res, 404, 'Not found\n');
  let real: string;
  try {
    real = await realpath(join(root, ...rel.split('/')));
  } catch {
    return plain(res, 404, 'Not found\n');
  }
  if (!real.startsWith(root + sep)) return plain(res, 404, 'Not found\n');
  const immutable = rel.startsWith('assets/');
  return sendFile(req, res, real, immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
}

async function sendFile(req: IncomingMessage, res: ServerResponse, file: string, cacheControl: string): Promise<void> {
  let st;
  try {
    st = await stat(file);
  } catch {
    return plain(res, 404, 'Not found\n');
  }
  if (!st.isFile()) return plain(res, 404, 'Not found\n');
  const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  const type = TYPES[extname(file)] ?? 'application/octet-stream';
  const headers: Record<string, string> = {
    'content-type': type,
    'cache-control': cacheControl,
    etag,
    'x-content-type-options': 'nosniff',
  };
  if (type.startsWith('text/html')) {
    headers['content-security-policy'] = CSP;
    headers['referrer-policy'] = 'no-referrer';
  }
  if (req.headers['if-none-match'] === etag) return void res.writeHead(304, headers).end();
  res.writeHead(200, { ...headers, 'content-length': String(st.size) });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}
