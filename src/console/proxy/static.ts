/**
 * Files of the console clients, served from their npm packages: noVNC under /novnc/ (its core/
 * and vendor/ ES modules) and xterm.js under /xterm/ (lib/ and css/). Only files inside those
 * folders with a known type are served; `..` (also percent-encoded), backslashes, NUL and
 * symlinks leaving the package answer 404.
 */
import { createReadStream, realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, posix, sep } from 'node:path';

const require = createRequire(import.meta.url);

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

interface Mount {
  prefix: string;
  /** The package directory (real path). */
  root: string;
  /** Folders of the package that may be served. */
  folders: string[];
}

/** The real directory of an installed package, found from the file its main entry names. */
function packageDir(name: string, entryDepth: number): string {
  let dir = dirname(require.resolve(name));
  for (let i = 0; i < entryDepth; i++) dir = dirname(dir);
  return realpathSync(dir);
}

let mounts: Mount[] | undefined;
function allMounts(): Mount[] {
  // @novnc/novnc resolves to core/rfb.js and @xterm/xterm to lib/xterm.js: one level below the package.
  mounts ??= [
    { prefix: '/novnc/', root: packageDir('@novnc/novnc', 1), folders: ['core', 'vendor'] },
    { prefix: '/xterm/', root: packageDir('@xterm/xterm', 1), folders: ['lib', 'css'] },
  ];
  return mounts;
}

/** True when pathname is under a static mount (the request is then answered by serveStatic). */
export function isStaticPath(pathname: string): boolean {
  return allMounts().some((m) => pathname.startsWith(m.prefix));
}

/** The file a raw request path names, or null when it is not a servable file path. */
function resolveFile(rawPath: string): { mount: Mount; file: string } | null {
  const mount = allMounts().find((m) => rawPath.startsWith(m.prefix));
  if (!mount) return null;
  let rel: string;
  try {
    rel = decodeURIComponent(rawPath.slice(mount.prefix.length));
  } catch {
    return null;
  }
  if (rel.includes('\0') || rel.includes('\\')) return null;
  const parts = rel.split('/');
  if (parts.some((p) => p === '..' || p === '.' || p === '')) return null;
  const norm = posix.normalize(rel);
  if (!mount.folders.includes(norm.split('/')[0]) || !TYPES[extname(norm)]) return null;
  return { mount, file: join(mount.root, ...norm.split('/')) };
}

/**
 * Serves GET/HEAD of a static path (the raw path, before any decoding). Answers 404 for
 * anything that is not a servable file of the mounts.
 */
export async function serveStatic(req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<void> {
  const notFound = () => void res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
  const found = resolveFile(rawPath);
  if (!found) return notFound();
  let real: string;
  let size: number;
  let mtime: Date;
  try {
    real = await realpath(found.file);
    const st = await stat(real);
    if (!st.isFile()) return notFound();
    size = st.size;
    mtime = st.mtime;
  } catch {
    return notFound();
  }
  if (!real.startsWith(found.mount.root + sep)) return notFound();
  const etag = `"${size.toString(16)}-${mtime.getTime().toString(16)}"`;
  const headers = {
    'content-type': TYPES[extname(real)],
    'cache-control': 'public, max-age=3600',
    etag,
    'x-content-type-options': 'nosniff',
  };
  if (req.headers['if-none-match'] === etag) return void res.writeHead(304, headers).end();
  res.writeHead(200, { ...headers, 'content-length': size });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(real)
    .on('error', () => res.destroy())
    .pipe(res);
}
