/**
 * The metadata server: HTTP on a unix socket of the API process, reached only through the
 * metadata proxy each host's network agent runs in its namespace (169.254.169.254:80). The
 * proxy puts the guest's address in X-Forwarded-For (replacing whatever the guest sent); that
 * address alone says which instance asks, and each instance only ever gets its own data.
 *
 * Answers (GET and HEAD; anything else 405): the paths of tree.ts; no X-Forwarded-For, or one
 * that is not a single IP address: 400; an address no instance owns, or a path naming nothing
 * (user_data of an instance without user data): 404; a failing lookup: 500, logged.
 *
 * The socket file gets mode 0600 (only the API's user, i.e. the proxies nova-ts starts, may
 * connect); a stale socket file left by an earlier process is removed first, anything else at
 * that path is left alone and fails the start.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmod, lstat, unlink } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { InstancePayload } from '../../virt/driver.js';
import { logger } from '../../util/log.js';
import { metadataTree, resolve } from './tree.js';

export interface MetadataServerDeps {
  /** The instance owning this fixed IP, or null when none does. */
  lookup(ip: string): Promise<InstancePayload | null>;
  socketPath: string;
  log?: (msg: string) => void;
}

export interface MetadataServer {
  server: Server;
  /** Stops listening, ends open connections and removes the socket file. */
  close(): Promise<void>;
}

const defaultLog = logger('metadata');

function send(res: ServerResponse, method: string, status: number, body: Buffer | string, contentType = 'text/plain; charset=UTF-8'): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'content-type': contentType, 'content-length': buf.length });
  res.end(method === 'HEAD' ? undefined : buf);
}

/** The requesting guest's address, or why there is none. */
function forwardedFor(req: IncomingMessage): { ip: string } | { error: string } {
  const raw = req.headers['x-forwarded-for'];
  if (raw === undefined) return { error: 'X-Forwarded-For is missing: the metadata service answers only requests from the metadata proxy.' };
  const ip = (Array.isArray(raw) ? raw.join(',') : raw).trim().replace(/^::ffff:/, '');
  if (!isIP(ip)) return { error: `X-Forwarded-For must be a single IP address, not '${ip.slice(0, 100)}'.` };
  return { ip };
}

async function handle(deps: MetadataServerDeps, req: IncomingMessage, res: ServerResponse, log: (m: string) => void): Promise<void> {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, method, 405, 'The metadata service only answers GET.\n');
  }
  const who = forwardedFor(req);
  if ('error' in who) return send(res, method, 400, `${who.error}\n`);
  let instance: InstancePayload | null;
  try {
    instance = await deps.lookup(who.ip);
  } catch (e) {
    log(`metadata lookup for ${who.ip} failed: ${(e as Error).stack ?? String(e)}`);
    return send(res, method, 500, 'An unknown error has occurred. Please try your request again.\n');
  }
  if (!instance) {
    log(`metadata request from ${who.ip}, which no instance owns: 404`);
    return send(res, method, 404, `No instance has the address ${who.ip}.\n`);
  }
  const path = decodePath((req.url ?? '/').split('?')[0]);
  const answer = path === null ? null : resolve(metadataTree(instance, who.ip), path);
  if (!answer) return send(res, method, 404, 'Not Found: the metadata service has nothing at this path.\n');
  send(res, method, 200, answer.body, answer.contentType);
}

function decodePath(p: string): string | null {
  try {
    return decodeURIComponent(p);
  } catch {
    return null;
  }
}

/** Removes a socket file left by an earlier process (never a regular file or directory). */
async function removeStaleSocket(path: string): Promise<void> {
  const st = await lstat(path).catch(() => null);
  if (!st) return;
  if (!st.isSocket()) throw new Error(`Cannot listen on ${path} for the metadata service: something other than a socket is there.`);
  await unlink(path);
}

/** Starts listening; resolves once the socket accepts connections. */
export async function createMetadataServer(deps: MetadataServerDeps): Promise<MetadataServer> {
  const log = deps.log ?? ((m: string) => defaultLog.warn(m));
  const server = createServer((req, res) => {
    handle(deps, req, res, log).catch((e: unknown) => {
      log(`metadata request failed: ${(e as Error).stack ?? String(e)}`);
      if (!res.headersSent) send(res, 'GET', 500, 'An unknown error has occurred.\n');
      else res.destroy();
    });
  });
  await removeStaleSocket(deps.socketPath);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(deps.socketPath, () => {
      server.off('error', fail);
      ok();
    });
  });
  // Connecting needs write permission, which the process umask already denies to others.
  await chmod(deps.socketPath, 0o600);
  return {
    server,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }).then(() => unlink(deps.socketPath).catch(() => undefined)),
  };
}
