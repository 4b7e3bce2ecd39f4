/**
 * Test fixture: the whole Network API (networks, subnets, ports, quotas, security groups) on an
 * ephemeral port over an in-memory database, an in-process bus recording the agents' `changed`
 * notices, and fixed tokens: `admin` (project p-admin, admin role), `demo` (p-demo), `alt`
 * (p-alt), `reader` (p-demo, reader role only). Used only by tests.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InProcessBus } from '../bus/in-process.js';
import { migrate } from '../db/migrate.js';
import { openSqlite } from '../db/sqlite.js';
import type { Sql } from '../db/sql.js';
import { unauthorized } from '../errors.js';
import { createApiServer } from '../http/server.js';
import { sgContext } from './security-groups-testing.js';
import { createNetworkService, type NetworkService } from './service.js';
import { AGENT_TOPIC } from './types.js';

export { sgContext as netContext };

export interface NetFixture {
  url: string;
  sql: Sql;
  service: NetworkService;
  /** Host lists of every `changed` notice so far (undefined: all hosts). */
  notices: (string[] | undefined)[];
  /** fetch `${url}/network${path}` as the named user; answers status and parsed JSON. */
  call(user: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** POSTs and expects 201; answers the created resource (body[key]). */
  make(user: string, key: 'network' | 'subnet' | 'port', body: Record<string, unknown>): Promise<any>;
  close(): Promise<void>;
}

export async function startNetFixture(): Promise<NetFixture> {
  const sql = openSqlite(':memory:');
  await migrate(sql);
  const bus = new InProcessBus();
  const notices: (string[] | undefined)[] = [];
  await bus.serve(AGENT_TOPIC, (_method, args: { hosts?: string[] }) => void notices.push(args.hosts));
  const service = createNetworkService({ sql, bus });
  const server: Server = createApiServer({
    mounts: [{ prefix: '/network', router: service.router }],
    authenticate: async (token) => {
      if (!['admin', 'demo', 'alt', 'reader'].includes(token)) throw unauthorized();
      return sgContext(token);
    },
    identityUrl: () => 'http://127.0.0.1/identity',
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call: NetFixture['call'] = async (user, method, path, body) => {
    const r = await fetch(`${url}/network${path}`, {
      method,
      headers: { 'x-auth-token': user, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    url,
    sql,
    service,
    notices,
    call,
    async make(user, key, body) {
      const r = await call(user, 'POST', `/v2.0/${key}s`, { [key]: body });
      if (r.status !== 201) throw new Error(`creating ${key} answered ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body[key];
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await bus.close?.();
      await sql.close();
    },
  };
}
