/**
 * The metadata proxy: a standalone process the network agent runs inside a host's network
 * namespace. It listens on 169.254.169.254:80 and forwards every HTTP request unchanged to the
 * API process's metadata server over a unix socket, with `X-Forwarded-For: <the guest's
 * address>` (replacing any the guest sent), and streams the answer back. When the socket does
 * not answer: 502 with a short text.
 *
 *   node [--import tsx] metadata-proxy.(ts|js) --listen 169.254.169.254:80 --socket <path> [--pid-file <path>]
 *
 * The pid file is written once it listens (the agent waits for it). SIGTERM/SIGINT end it.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { unlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ProxyArgs {
  host: string;
  port: number;
  socket: string;
  pidFile: string | null;
}

export function parseProxyArgs(argv: string[]): ProxyArgs {
  const get = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const listen = get('--listen');
  const socket = get('--socket');
  const m = listen ? /^(.+):(\d+)$/.exec(listen) : null;
  if (!m || !socket) throw new Error('usage: metadata-proxy --listen <host>:<port> --socket <path> [--pid-file <path>]');
  return { host: m[1], port: Number(m[2]), socket, pidFile: get('--pid-file') ?? null };
}

function bad(res: ServerResponse, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(502, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Forwards one request; exported for tests of the forwarding itself. */
export function forward(socket: string, req: IncomingMessage, res: ServerResponse): void {
  const headers: Record<string, string | string[] | undefined> = { ...req.headers };
  delete headers['x-forwarded-for'];
  headers['x-forwarded-for'] = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  const up = request({ socketPath: socket, method: req.method, path: req.url, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.headers);
    answer.pipe(res);
    answer.on('error', () => res.destroy());
  });
  up.on('error', () => bad(res, 'The metadata service is not available.\n'));
  req.pipe(up);
  req.on('error', () => up.destroy());
}

/** Listens (port 0: any free one) and writes the pid file; resolves with the port and a close function. */
export async function runProxy(args: ProxyArgs): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer((req, res) => forward(args.socket, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(args.port, args.host, () => resolve());
  });
  if (args.pidFile) writeFileSync(args.pidFile, `${process.pid}\n`);
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { port: (server.address() as { port: number }).port, close };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let args: ProxyArgs;
  try {
    args = parseProxyArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  runProxy(args).then(
    ({ close }) => {
      const bye = () => {
        if (args.pidFile)
          try {
            unlinkSync(args.pidFile);
          } catch {
            /* already gone */
          }
        void close().then(() => process.exit(0));
        setTimeout(() => process.exit(0), 1000).unref();
      };
      process.on('SIGTERM', bye);
      process.on('SIGINT', bye);
    },
    (e: Error) => {
      process.stderr.write(`metadata proxy: cannot listen on ${args.host}:${args.port}: ${e.message}\n`);
      process.exit(1);
    },
  );
}
