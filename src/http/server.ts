import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { randomUUID } from 'node:crypto';
import { NovaError, invalid, notFound, methodNotAllowed, tooLarge, unauthorized } from '../errors.js';
import { logger } from '../util/log.js';
import { faultBody } from './faults.js';
import { COMPUTE_MIN_VERSION, DEFAULT_VERSION, Microversion, requestedMicroversion } from './microversion.js';
import type { Router } from './router.js';
import type { ApiRequest, ApiResponse, RequestContext } from './types.js';

const log = logger('api');
const MAX_JSON_BODY = 1024 * 1024;
/** How much of an over-large body is read and thrown away before the connection is cut. */
const DRAIN_LIMIT = 16 * 1024 * 1024;

export interface Mount {
  /** Path prefix such as `/compute`; `''` for the root. */
  prefix: string;
  router: Router;
  /** Compute-style microversion negotiation on this mount. */
  microversions?: boolean;
}

export interface ApiServerDeps {
  mounts: Mount[];
  /** Validates a token; throws Unauthorized when it is not valid. */
  authenticate: (token: string, requestId: string) => Promise<RequestContext>;
  /** Public base of the identity service, for WWW-Authenticate. */
  identityUrl: () => string;
  /** Requests no mount claims (the dashboard), or undefined for a 404. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Serve HTTPS with this key and certificate (PEM); request base URLs then say https. */
  tls?: { key: string; cert: string };
}

/** Reads the whole request body, refusing more than max bytes. */
export function readBody(req: IncomingMessage, max = MAX_JSON_BODY): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        // Answer 413 at once; keep draining (bounded) so the client can read the answer.
        req.off('data', onData);
        let drained = 0;
        req.on('data', (d: Buffer) => {
          drained += d.length;
          if (drained > DRAIN_LIMIT) req.destroy();
        });
        reject(tooLarge(`Request is too large: the body is over ${max} bytes.`));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The HTTP front of every API: routing by prefix, auth, microversions, JSON and faults. */
export function createApiServer(deps: ApiServerDeps): Server {
  const mounts = [...deps.mounts].sort((a, b) => b.prefix.length - a.prefix.length);
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res);
  };
  // An https.Server is an http.Server with a TLS listener (same request handling).
  const server: Server = deps.tls ? createHttpsServer({ key: deps.tls.key, cert: deps.tls.cert }, onRequest) : createServer(onRequest);
  const scheme = deps.tls ? 'https' : 'http';
  server.keepAliveTimeout = 65_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = `req-${randomUUID()}`;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const mount = mounts.find((m) => path === m.prefix || path.startsWith(m.prefix + '/') || (m.prefix === '' && path.startsWith('/')));
    if (!mount || (mount.prefix === '' && deps.fallback)) {
      if (deps.fallback) return deps.fallback(req, res);
    }
    const style = mount?.router.style ?? 'nova';
    const headers: Record<string, string> = { 'x-openstack-request-id': requestId };
    let mv = DEFAULT_VERSION;
    try {
      if (!mount) throw notFound('The resource could not be found.');
      if (mount.microversions) {
        headers['x-compute-request-id'] = requestId;
        headers['vary'] = 'OpenStack-API-Version, X-OpenStack-Nova-API-Version';
        mv = Microversion.parse(COMPUTE_MIN_VERSION)!;
        mv = requestedMicroversion(req.headers);
        headers['openstack-api-version'] = `compute ${mv}`;
        headers['x-openstack-nova-api-version'] = `${mv}`;
      }
      const sub = path.slice(mount.prefix.length) || '/';
      const m = mount.router.match(req.method ?? 'GET', sub);
      if (m === null) throw notFound('The resource could not be found.');
      if (m === 'method-not-allowed') throw methodNotAllowed();
      let ctx: RequestContext | undefined;
      if (m.opts.auth ?? mount.router.authByDefault) {
        const token = req.headers['x-auth-token'];
        if (typeof token !== 'string' || token === '') {
          headers['www-authenticate'] = `Keystone uri="${deps.identityUrl()}"`;
          throw unauthorized();
        }
        try {
          ctx = await deps.authenticate(token, requestId);
        } catch (e) {
          headers['www-authenticate'] = `Keystone uri="${deps.identityUrl()}"`;
          throw e;
        }
      }
      let body: unknown;
      const mode = m.opts.body ?? 'json';
      if (mode === 'json' && req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'DELETE') {
        const buf = await readBody(req);
        if (buf.length > 0) {
          try {
            body = JSON.parse(buf.toString('utf8'));
          } catch {
            throw invalid('Malformed request body');
          }
        }
      } else if (mode !== 'raw') {
        req.resume();
      }
      const host = req.headers.host ?? 'localhost';
      const apiReq: ApiRequest = {
        method: req.method ?? 'GET',
        path: sub,
        params: m.params,
        query: url.searchParams,
        headers: req.headers,
        body,
        raw: req,
        ctx,
        mv,
        baseUrl: `${scheme}://${host}${mount.prefix}`,
        requestId,
      };
      const out = await m.handler(apiReq);
      send(req, res, out, headers);
    } catch (e) {
      if (!(e instanceof NovaError)) log.error(`${req.method} ${path} ${requestId} failed`, e);
      const f = faultBody(style, e);
      if (!req.complete) req.resume();
      send(req, res, { status: f.status, body: f.body }, headers);
    }
  }

  return server;
}

function send(req: IncomingMessage, res: ServerResponse, out: ApiResponse, base: Record<string, string>): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const headers: Record<string, string> = { ...base, ...(out.headers ?? {}) };
  if (out.stream) {
    res.writeHead(out.status, headers);
    if (req.method === 'HEAD') {
      out.stream.destroy();
      res.end();
      return;
    }
    out.stream.on('error', () => res.destroy());
    out.stream.pipe(res);
    return;
  }
  let payload: Buffer | undefined;
  if (out.body !== undefined && out.status !== 204 && out.status !== 304) {
    payload = Buffer.from(typeof out.body === 'string' ? out.body : JSON.stringify(out.body));
    headers['content-type'] ??= typeof out.body === 'string' ? 'text/plain; charset=UTF-8' : 'application/json';
  }
  headers['content-length'] = String(payload?.length ?? 0);
  res.writeHead(out.status, headers);
  res.end(req.method === 'HEAD' ? undefined : payload);
}
