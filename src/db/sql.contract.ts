import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sql } from './sql.js';
import { inList } from './sql.js';
import { migrate } from './migrate.js';
import { migrations } from './migrations/index.js';

/**
 * The behaviour every Sql adapter must show: migrations, typed reads, placeholders,
 * RETURNING, transactions that commit or roll back whole, and isolation between callers.
 * `make` returns a fresh, empty database.
 */
export function sqlContract(name: string, make: () => Promise<{ sql: Sql; done: () => Promise<void> }>): void {
  const withDb = (title: string, fn: (sql: Sql) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const { sql, done } = await make();
      try {
        await migrate(sql);
        await fn(sql);
      } finally {
        await done();
      }
    });

  withDb('migrations apply once and are recorded', async (sql) => {
    assert.deepEqual(await migrate(sql), []);
    const rows = await sql.all<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
    assert.deepEqual(
      rows.map((r) => r.id),
      migrations.map((m) => m.id).sort(),
    );
  });

  withDb('insert with RETURNING gives the generated id; reads come back typed', async (sql) => {
    const now = new Date().toISOString();
    const a = await sql.get<{ id: number }>(
      'INSERT INTO flavors (flavorid, name, memory_mb, vcpus, root_gb, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
      ['1', 'm1.tiny', 512, 1, 1, now],
    );
    const b = await sql.get<{ id: number }>(
      'INSERT INTO flavors (flavorid, name, memory_mb, vcpus, root_gb, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
      ['2', 'm1.small', 2048, 1, 20, now],
    );
    assert.equal(typeof a!.id, 'number');
    assert.ok(b!.id > a!.id);
    const rows = await sql.all<{ name: string; memory_mb: number; rxtx_factor: number }>(
      `SELECT name, memory_mb, rxtx_factor FROM flavors WHERE flavorid IN ${inList(2)} ORDER BY memory_mb`,
      ['1', '2'],
    );
    assert.deepEqual(rows, [
      { name: 'm1.tiny', memory_mb: 512, rxtx_factor: 1 },
      { name: 'm1.small', memory_mb: 2048, rxtx_factor: 1 },
    ]);
    assert.equal(await sql.get('SELECT * FROM flavors WHERE flavorid = ?', ['nope']), undefined);
  });

  withDb('a ? inside a string literal is not a placeholder', async (sql) => {
    const r = await sql.get<{ a: string; b: string }>("SELECT 'what?' AS a, ? AS b", ['x']);
    assert.deepEqual(r, { a: 'what?', b: 'x' });
  });

  withDb('unique constraints reject duplicates', async (sql) => {
    const now = new Date().toISOString();
    await sql.run("INSERT INTO domains (id, name, created_at) VALUES ('d1', 'Default', ?)", [now]);
    await assert.rejects(sql.run("INSERT INTO domains (id, name, created_at) VALUES ('d2', 'Default', ?)", [now]));
  });

  withDb('run reports the number of rows changed', async (sql) => {
    const now = new Date().toISOString();
    for (const id of ['a', 'b', 'c']) await sql.run('INSERT INTO regions (id, description) VALUES (?, ?)', [id, now]);
    assert.equal((await sql.run("UPDATE regions SET description = 'x' WHERE id <> 'a'")).changes, 2);
    assert.equal((await sql.run("DELETE FROM regions WHERE id = 'zzz'")).changes, 0);
  });

  withDb('a transaction that throws leaves nothing behind', async (sql) => {
    await assert.rejects(
      sql.tx(async (tx) => {
        await tx.run("INSERT INTO regions (id) VALUES ('r1')");
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await sql.get("SELECT id FROM regions WHERE id = 'r1'"), undefined);
    await sql.tx(async (tx) => {
      await tx.run("INSERT INTO regions (id) VALUES ('r2')");
      await tx.tx(async (inner) => void (await inner.run("INSERT INTO regions (id) VALUES ('r3')")));
    });
    assert.equal((await sql.all("SELECT id FROM regions WHERE id IN ('r2', 'r3')")).length, 2);
  });

  withDb('a statement outside a transaction never lands inside one that rolls back', async (sql) => {
    const t = sql.tx(async (tx) => {
      await tx.run("INSERT INTO regions (id) VALUES ('in-tx')");
      await new Promise((r) => setTimeout(r, 10));
      throw new Error('rollback');
    });
    const outside = sql.run("INSERT INTO regions (id) VALUES ('outside')");
    await assert.rejects(t, /rollback/);
    await outside;
    const ids = (await sql.all<{ id: string }>('SELECT id FROM regions ORDER BY id')).map((r) => r.id);
    assert.deepEqual(ids, ['outside']);
  });

  withDb('concurrent read-modify-write transactions do not lose updates', async (sql) => {
    await sql.run("INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('p', 'n', 0)");
    await Promise.all(
      Array.from({ length: 20 }, () =>
        sql.tx(async (tx) => {
          const lockClause = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
          const cur = await tx.get<{ hard_limit: number }>(
            `SELECT hard_limit FROM quotas WHERE project_id = 'p' AND resource = 'n'${lockClause}`,
          );
          await new Promise((r) => setImmediate(r));
          await tx.run("UPDATE quotas SET hard_limit = ? WHERE project_id = 'p' AND resource = 'n'", [cur!.hard_limit + 1]);
        }),
      ),
    );
    const row = await sql.get<{ hard_limit: number }>("SELECT hard_limit FROM quotas WHERE project_id = 'p'");
    assert.equal(row!.hard_limit, 20);
  });
}
