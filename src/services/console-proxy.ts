/** The console-proxy service: the token-checked websocket proxy to guests' VNC and serial consoles. */
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import type { ServerTls } from '../cert/server-tls.js';
import { startConsoleProxy } from '../console/proxy/server.js';

export async function startConsoleProxyService(opts: { config: Config; sql: Sql; tls?: ServerTls }): Promise<{ url: string; stop(): Promise<void> }> {
  const c = opts.config.consoles;
  const proxy = await startConsoleProxy({ sql: opts.sql, host: c.listenHost, port: c.listenPort, publicUrl: c.publicUrl, tls: opts.tls });
  return { url: proxy.url, stop: () => proxy.close() };
}

/** The URL users reach the console proxy at, as an api process configured apart from it names it. */
export function consoleProxyUrl(config: Config): string {
  const c = config.consoles;
  return c.publicUrl ?? `${config.tls ? 'https' : 'http'}://${c.listenHost}:${c.listenPort}`;
}
