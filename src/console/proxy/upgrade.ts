/**
 * Websocket upgrades of the console proxy. Contract (shared with Tempest and the pages):
 * - refused upgrades get an HTTP status without body: 401 (token missing, unknown, expired, of
 *   another instance, or its instance gone) or 403 (Origin of another site), with
 *   `X-Console-Refused: <reason code>`, `X-Console-Refused-Message: <what to do>`,
 *   `Content-Length: 0`, `Connection: close`; then the connection closes with no frame data;
 * - accepted upgrades speak subprotocol `binary` when offered (or none), then carry the
 *   console's bytes both ways as binary messages; either side closing closes the other;
 * - a backend that cannot be reached closes the websocket with 1011 and UNREACHABLE_REASON.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Logger } from '../../util/log.js';
import { admit, credentialsOf } from './admission.js';
import { connectBackend, describeBackend, UNREACHABLE_REASON } from './backend.js';
import type { ProxyContext } from './context.js';
import { originAllowed } from './origin.js';

/** Backend bytes buffered toward a slow browser before the backend is paused. */
const HIGH_WATER = 1 << 20;

const STATUS_TEXT: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' };

/** Answers an upgrade with a bodiless refusal and closes the connection. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string, message: string): void {
  const head =
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
    `X-Console-Refused: ${reason}\r\n` +
    `X-Console-Refused-Message: ${message}\r\n` +
    'Content-Length: 0\r\nConnection: close\r\n\r\n';
  if (socket.destroyed) return;
  socket.end(head, () => socket.destroy());
}

/** The websocket side of the proxy; `handle` is the HTTP server's 'upgrade' listener. */
export class ConsoleUpgrades {
  private readonly wss = new WebSocketServer({
    noServer: true,
    clientTracking: true,
    maxPayload: 16 << 20,
    handleProtocols: (protocols) => (protocols.has('binary') ? 'binary' : false),
  });
  private readonly backends = new Set<Socket>();

  constructor(
    private readonly ctx: ProxyContext,
    private readonly log: Logger,
  ) {}

  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    this.accept(req, socket, head).catch((err) => {
      this.log.error('console upgrade failed', err);
      refuseUpgrade(socket, 500, 'error', 'The console proxy failed: see its log.');
    });
  }

  /** Closes every console (browsers see 1001 going away) and their backends. */
  close(): void {
    for (const ws of this.wss.clients) ws.close(1001, 'The console proxy is shutting down');
    for (const ws of this.wss.clients) ws.terminate();
    for (const b of this.backends) b.destroy();
    this.wss.close();
  }

  private async accept(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const peer = req.socket.remoteAddress ?? '?';
    const creds = credentialsOf(url.searchParams, req.headers.cookie);
    if (!originAllowed(req.headers.origin, this.ctx.allowedOrigins(req))) {
      this.log.info(`refused console websocket from ${peer}: origin ${JSON.stringify(req.headers.origin)} is not this proxy's (instance ${creds.instanceUuid ?? '-'})`);
      return refuseUpgrade(socket, 403, 'origin', 'The page opening this console is not served by this console proxy.');
    }
    const adm = await admit(this.ctx.sql, this.ctx.store, creds);
    if (!adm.ok) {
      this.log.info(`refused console websocket from ${peer}: ${adm.reason} (instance ${creds.instanceUuid ?? '-'})`);
      return refuseUpgrade(socket, 401, adm.reason, adm.message);
    }
    const rec = adm.record;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.log.info(`console ${rec.console_type} of instance ${rec.instance_uuid} opened by ${peer} -> ${describeBackend(rec)}`);
      this.pipe(ws, rec, `${rec.console_type} of instance ${rec.instance_uuid}`);
    });
  }

  /** Connects the backend and carries bytes both ways until either side closes. */
  private pipe(ws: WebSocket, rec: Parameters<typeof connectBackend>[0], what: string): void {
    const early: Buffer[] = [];
    let backend: Socket | null = null;
    const toBuffer = (data: RawData): Buffer => (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
    ws.on('message', (data) => {
      const buf = toBuffer(data);
      if (!backend) return void early.push(buf);
      if (!backend.write(buf)) {
        ws.pause();
        backend.once('drain', () => ws.resume());
      }
    });
    let wsClosed = false;
    ws.on('close', () => {
      wsClosed = true;
      backend?.end();
      this.log.info(`console ${what} closed`);
    });
    ws.on('error', () => backend?.destroy());
    connectBackend(rec).then(
      (sock) => {
        if (wsClosed) return void sock.destroy();
        backend = sock;
        this.backends.add(sock);
        for (const b of early.splice(0)) sock.write(b);
        sock.on('data', (chunk: Buffer) => {
          if (ws.readyState !== ws.OPEN) return;
          ws.send(chunk, { binary: true }, () => {
            if (sock.isPaused() && ws.bufferedAmount < HIGH_WATER / 4) sock.resume();
          });
          if (ws.bufferedAmount > HIGH_WATER) sock.pause();
        });
        sock.on('error', (err) => this.log.info(`console ${what}: backend error: ${err.message}`));
        sock.on('close', () => {
          this.backends.delete(sock);
          if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000, 'The console closed');
        });
      },
      (err: Error) => {
        this.log.info(`console ${what}: cannot reach ${describeBackend(rec)}: ${err.message}`);
        if (ws.readyState === ws.OPEN) ws.close(1011, UNREACHABLE_REASON);
      },
    );
  }
}
