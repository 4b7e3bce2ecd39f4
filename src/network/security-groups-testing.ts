/**
 * Test fixture for the security group half alone: its routes on an ephemeral port over an
 * in-memory database, an in-process bus recording the agents' `changed` notices, and fixed
 * tokens: `admin` (project p-admin, admin role), `demo` (p-demo), `alt` (p-alt), `reader`
 * (p-demo, reader role only). Ports and their IPs are inserted directly (addPort).
 */
import { serveForTest, testContext } from '../http/test-context.js';
import { randomUUID } from 'node:crypto';
import { InProcessBus } from '../bus/in-process.js';
import { migrate } from '../db/migrate.js';
import { openSqlite } from '../db/sqlite.js';
import type { Sql } from '../db/sql.js';
import { Router } from '../http/router.js';
import { AGENT_TOPIC } from './types.js';
import { mountSecurityGroups } from './security-groups-routes.js';
import { setPortSecurityGroups } from './security-groups-store.js';

export const sgContext = testContext;

export interface SgFixture {
  url: string;
  sql: Sql;
  bus: InProcessBus;
  /** Host lists of every `changed` notice so far (undefined: all hosts). */
  notices: (string[] | undefined)[];
  /** fetch `${url}/network${path}` as the named user; answers status and parsed JSON. */
  call(user: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Inserts a port (on a network made on first use) with fixed IPs, bound to host, in the given groups. */
  addPort(p: { project?: string; host?: string; ips?: string[]; groups?: string[]; portSecurity?: boolean }): Promise<string>;
  close(): Promise<void>;
}

/** The Network API router `make` builds, on an ephemeral port over an in-memory DB, with fixed tokens. */
export async function serveNeutronForTests(make: (deps: { sql: Sql; bus: InProcessBus }) => Router) {
  const sql = openSqlite(':memory:');
  await migrate(sql);
  const bus = new InProcessBus();
  const notices: (string[] | undefined)[] = [];
  await bus.serve(AGENT_TOPIC, (_method, args: { hosts?: string[] }) => void notices.push(args.hosts));
  const router = make({ sql, bus });
  const { url, close: closeServer } = await serveForTest({ prefix: '/network', router });
  return {
    url,
    sql,
    bus,
    notices,
    async call(user: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
      const headers: Record<string, string> = { 'x-auth-token': user };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const r = await fetch(`${url}/network${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : undefined };
    },
    async close() {
      await closeServer();
      await bus.close();
      await sql.close();
    },
  };
}

export async function startSgFixture(): Promise<SgFixture> {
  const { url, sql, bus, notices, call, close } = await serveNeutronForTests((deps) => {
    const router = new Router('neutron');
    mountSecurityGroups(router, deps);
    return router;
  });
  const ts = new Date().toISOString();
  let net: { id: string; subnet: string } | undefined;
  let mac = 0;
  return {
    url,
    sql,
    bus,
    notices,
    call,
    async addPort({ project = 'p-demo', host = 'host1', ips = [], groups = [], portSecurity = true }) {
      if (!net) {
        net = { id: randomUUID(), subnet: randomUUID() };
        await sql.run('INSERT INTO networks (id, project_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)', [net.id, 'p-admin', 'n', ts, ts]);
        await sql.run('INSERT INTO subnets (id, network_id, project_id, cidr, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [
          net.subnet, net.id, 'p-admin', '198.18.0.0/20', ts, ts,
        ]);
      }
      const id = randomUUID();
      const address = `fa:16:3e:00:00:${(mac++).toString(16).padStart(2, '0')}`;
      await sql.run(
        `INSERT INTO ports (id, network_id, project_id, mac_address, binding_host_id, port_security_enabled, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [id, net.id, project, address, host, portSecurity ? 1 : 0, ts, ts],
      );
      for (const ip of ips)
        await sql.run('INSERT INTO ip_allocations (subnet_id, ip_address, port_id, network_id) VALUES (?, ?, ?, ?)', [net.subnet, ip, id, net.id]);
      await setPortSecurityGroups(sql, id, groups);
      return id;
    },
    close,
  };
}
