/** What the proxy's request and upgrade handlers share. */
import type { IncomingMessage } from 'node:http';
import type { Sql } from '../../db/sql.js';
import type { ConsoleTokenStore } from '../token-store.js';

export interface ProxyContext {
  sql: Sql;
  store: ConsoleTokenStore;
  /** True when the listener is HTTPS (pages then open wss:// websockets). */
  tls: boolean;
  /** The `host:port`s a websocket's Origin may name for this request (see origin.ts). */
  allowedOrigins(req: IncomingMessage): (string | null)[];
}
