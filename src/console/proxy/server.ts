/**
 * The console proxy (Nova's nova-novncproxy and nova-serialproxy in one listener): serves the
 * noVNC page and the serial terminal page, and turns a websocket with a valid, unexpired token
 * into a byte stream to that instance's VNC or serial console. Tokens are checked in the DB on
 * every connection, so they keep working across restarts of the proxy for their lifetime.
 * Expired tokens are swept from the DB every minute while the proxy runs.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Sql } from '../../db/sql.js';
import { logger } from '../../util/log.js';
import { ConsoleTokenStore } from '../token-store.js';
import type { ProxyContext } from './context.js';
import { hostPortOfHostHeader, hostPortOfUrl } from './origin.js';
import { makeRequestHandler } from './routes.js';
import { ConsoleUpgrades } from './upgrade.js';

export interface ConsoleProxyOptions {
  sql: Sql;
  host: string;
  /** 0: any free port. */
  port: number;
  /** HTTPS/WSS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  /** Base URL users reach the proxy at when it differs from the listener's own. */
  publicUrl?: string;
  /** More origins (URLs such as the dashboard's) whose pages may open console websockets. */
  allowedOrigins?: string[];
  /** Milliseconds between sweeps of expired tokens (default 60 s). */
  sweepIntervalMs?: number;
}

export interface ConsoleProxy {
  /** The base URL consoles are handed out under, e.g. http://127.0.0.1:6080 */
  url: string;
  close(): Promise<void>;
}

const log = logger('console-proxy');

export async function startConsoleProxy(opts: ConsoleProxyOptions): Promise<ConsoleProxy> {
  const tls = Boolean(opts.tls);
  let ownOrigins: (string | null)[] = [];
  const ctx: ProxyContext = {
    sql: opts.sql,
    store: new ConsoleTokenStore(opts.sql),
    tls,
    // The Host the browser used names this proxy as that browser reaches it.
    allowedOrigins: (req: IncomingMessage) => [hostPortOfHostHeader(req.headers.host, tls), ...ownOrigins],
  };
  const onRequest = makeRequestHandler(ctx, log);
  const server: Server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, onRequest) : createServer(onRequest);
  const upgrades = new ConsoleUpgrades(ctx, log);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => upgrades.handle(req, socket, head));
  server.on('clientError', (_err, socket: Duplex) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error('console proxy listener failed', err));
  const port = (server.address() as AddressInfo).port;
  const ownUrl = `${tls ? 'https' : 'http'}://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  const url = (opts.publicUrl ?? ownUrl).replace(/\/+$/, '');
  ownOrigins = [ownUrl, url, ...(opts.allowedOrigins ?? [])].map(hostPortOfUrl);

  const sweep = () =>
    ctx.store.sweep().then(
      (n) => n > 0 && log.debug(`swept ${n} expired console tokens`),
      (err) => log.warn('sweeping expired console tokens failed', err),
    );
  const sweeper = setInterval(sweep, opts.sweepIntervalMs ?? 60_000);
  sweeper.unref();

  log.info(`console proxy at ${url}`);
  let closing: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closing ??= new Promise<void>((r) => {
        clearInterval(sweeper);
        upgrades.close();
        server.close(() => r());
        server.closeAllConnections();
      })),
  };
}
