/**
 * The proxy's side of a console: a stream socket to the hypervisor's VNC server or serial
 * chardev, on a unix socket (`internal_access_path`) or TCP (`address` or 127.0.0.1, `port`).
 */
import { connect, type Socket } from 'node:net';
import type { ConsoleConnectInfo } from '../types.js';

/** Said (as the websocket close reason, at most 123 bytes) when the backend cannot be reached. */
export const UNREACHABLE_REASON = 'The console is not reachable: is the instance running?';

/** Where a connect info points, for logs (never secret). */
export function describeBackend(info: ConsoleConnectInfo): string {
  return info.internal_access_path ?? `${info.address ?? '127.0.0.1'}:${info.port ?? '?'}`;
}

/**
 * Connects to a console backend. Resolves with the connected socket; rejects when the socket
 * does not exist, refuses, or does not answer within timeoutMs (the socket is then destroyed).
 */
export function connectBackend(info: ConsoleConnectInfo, timeoutMs = 5000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let sock: Socket;
    if (info.internal_access_path) sock = connect({ path: info.internal_access_path });
    else if (info.port) sock = connect({ host: info.address ?? '127.0.0.1', port: info.port });
    else return reject(new Error('the console has neither a socket path nor a port'));
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer from ${describeBackend(info)} in ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeListener('error', onError);
      sock.setNoDelay(true);
      resolve(sock);
    });
    const onError = (err: Error) => {
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    };
    sock.once('error', onError);
  });
}
