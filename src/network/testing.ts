/**
 * Test fixture: the whole Network API (networks, subnets, ports, quotas, security groups) on an
 * ephemeral port over an in-memory database, an in-process bus recording the agents' `changed`
 * notices, and fixed tokens: `admin` (project p-admin, admin role), `demo` (p-demo), `alt`
 * (p-alt), `reader` (p-demo, reader role only). Used only by tests.
 */
import type { Sql } from '../db/sql.js';
import { serveNeutronForTests, sgContext } from './security-groups-testing.js';
import { createNetworkService, type NetworkService } from './service.js';

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
  let service!: NetworkService;
  const { url, sql, notices, call, close } = await serveNeutronForTests((deps) => {
    service = createNetworkService(deps);
    return service.router;
  });
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
    close,
  };
}
