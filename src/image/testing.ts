/**
 * Test fixture: the Image API alone on an ephemeral port, over an in-memory database, with
 * fixed tokens instead of Keystone: `admin` (project p-admin, role admin), `demo` (p-demo),
 * `alt` (p-alt), `reader` (p-demo, reader role only). For unit tests of src/image.
 * Set NOVA_TS_TEST_DATABASE_URL to an empty database to run them on PostgreSQL.
 */
import { serveForTest, testContext } from '../http/test-context.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../db/migrate.js';
import { openSqlite } from '../db/sqlite.js';
import { openDatabase } from '../db/open.js';
import type { Sql } from '../db/sql.js';
import { createImageService, type ImageService } from './service.js';

export { testContext };

export interface ImageFixture {
  url: string;
  sql: Sql;
  service: ImageService;
  dataDir: string;
  /** fetch against `${url}/image` with the named user's token. */
  call(user: string, method: string, path: string, init?: { body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  close(): Promise<void>;
}

export async function startImageFixture(): Promise<ImageFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nova-ts-image-'));
  // NOVA_TS_TEST_DATABASE_URL runs these tests on another database (e.g. an empty PostgreSQL one).
  const dbUrl = process.env.NOVA_TS_TEST_DATABASE_URL;
  const sql = dbUrl ? await openDatabase(dbUrl) : openSqlite(':memory:');
  if (!dbUrl) await migrate(sql);
  const service = createImageService({ sql, dataDir: join(dataDir, 'images') });
  const { url, close: closeServer } = await serveForTest({ prefix: '/image', router: service.router });
  return {
    url,
    sql,
    service,
    dataDir,
    call(user, method, path, init = {}) {
      const headers: Record<string, string> = { 'x-auth-token': user, ...(init.headers ?? {}) };
      let body: string | Uint8Array | undefined;
      if (Buffer.isBuffer(init.body)) body = new Uint8Array(init.body);
      else if (typeof init.body === 'string') body = init.body;
      else if (init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers['content-type'] ??= 'application/json';
      }
      return fetch(`${url}/image${path}`, { method, headers, body: body as BodyInit | undefined });
    },
    async close() {
      await closeServer();
      await sql.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
