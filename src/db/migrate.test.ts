import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { migrate, type Migration } from './migrate.js';
import { migrations } from './migrations/index.js';
import { openDatabase } from './open.js';
import { openPostgres } from './postgres.js';
import { openSqlite } from './sqlite.js';
import type { Sql } from './sql.js';
import { startTestPostgres, type TestPostgres } from '../../test/helpers/postgres.js';

const ids = migrations.map((m) => m.id);

test('SQLite: migrate applies every migration once; a second run applies nothing', async () => {
  const sql = openSqlite(':memory:');
  try {
    assert.deepEqual(await migrate(sql), ids);
    assert.deepEqual(await migrate(sql), []);
    assert.deepEqual((await sql.all<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id')).map((r) => r.id), [...ids].sort());
  } finally {
    await sql.close();
  }
});

describe('migrations on PostgreSQL under concurrency', async () => {
  const started = await startTestPostgres();
  if ('skip' in started) {
    test('concurrent migrations on PostgreSQL', { skip: started.skip }, () => undefined);
    return;
  }
  const pg: TestPostgres = started;
  after(() => pg.stop());
  let n = 0;
  const freshDb = () => pg.createDb(`mig${process.pid}_${++n}`);

  test('4 processes opening a new database at once all succeed and the schema is applied once', async () => {
    const url = await freshDb();
    const opened = await Promise.allSettled([1, 2, 3, 4].map(() => openDatabase(url)));
    const dbs = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    try {
      assert.deepEqual(
        opened.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason)),
        [],
      );
      const rows = await dbs[0].all<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
      assert.deepEqual(rows.map((r) => r.id), [...ids].sort());
      // Every opener sees the complete schema at once (none returned before the others finished).
      for (const db of dbs) assert.equal((await db.get<{ c: number }>('SELECT COUNT(*) AS c FROM flavors'))!.c >= 0, true);
    } finally {
      for (const db of dbs) await db.close();
    }
  });

  test('concurrent upgrades: each new migration runs in exactly one process, in order, and every process returns after it', async () => {
    const url = await freshDb();
    const conns: Sql[] = [1, 2, 3, 4, 5].map(() => openPostgres(url, 2));
    try {
      assert.deepEqual(await migrate(conns[0], migrations.slice(0, 3)), ids.slice(0, 3));
      // Two extra migrations that fail if run twice, the first slow enough for the others to queue.
      const extra: Migration[] = [
        { id: '900-slow', up: () => 'SELECT pg_sleep(0.2); CREATE TABLE upgrade_a (n INTEGER)' },
        { id: '901-next', up: () => 'CREATE TABLE upgrade_b (n INTEGER)' },
      ];
      const list = [...migrations, ...extra];
      const applied = await Promise.all(conns.map((c) => migrate(c, list)));
      assert.deepEqual(applied.flat().sort(), [...ids.slice(3), ...extra.map((m) => m.id)].sort(), 'each pending migration applied by exactly one process');
      for (const one of applied) assert.deepEqual(one, list.map((m) => m.id).filter((id) => one.includes(id)), 'in list order');
      for (const c of conns) assert.deepEqual(await c.all('SELECT n FROM upgrade_b'), [], 'the schema is complete when migrate returns');
    } finally {
      for (const c of conns) await c.close();
    }
  });
});
