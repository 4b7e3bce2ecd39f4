import { after, before, describe } from 'node:test';
import { sqlContract } from './sql.contract.js';
import { openPostgres, toPg } from './postgres.js';
import { startTestPostgres, type TestPostgres } from '../../test/helpers/postgres.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NovaError } from '../errors.js';

test('toPg numbers placeholders and leaves string literals alone', () => {
  assert.equal(toPg("SELECT ? , 'a?b', ?"), "SELECT $1 , 'a?b', $2");
});

describe('postgres', async () => {
  let pg: TestPostgres | undefined;
  let n = 0;
  const started = await startTestPostgres();
  const skip = 'skip' in started ? started.skip : undefined;
  if (!skip) pg = started as TestPostgres;
  before(() => undefined);
  after(async () => pg?.stop());
  if (skip) {
    test('store contract on PostgreSQL', { skip }, () => undefined);
    return;
  }
  test('a connection lost mid-statement (server restart, shutdown) is ServiceUnavailable, not an unexpected error; the pool carries on', async () => {
    const url = await pg!.createDb(`t${process.pid}_lost`);
    const sql = openPostgres(url, 2);
    const killer = openPostgres(url, 1);
    try {
      // Terminates every other backend of the database once a pg_sleep is running.
      const terminate = async () => {
        for (let i = 0; i < 100; i++) {
          const r = await killer.all<{ t: boolean }>(
            "SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'SELECT pg_sleep%'",
          );
          if (r.length) return;
          await new Promise((res) => setTimeout(res, 50));
        }
        throw new Error('the sleeping statement never showed up');
      };
      const lost = (e: unknown) => {
        assert.ok(e instanceof NovaError && e.kind === 'ServiceUnavailable', String(e));
        assert.match(e.message, /^The database is unavailable: .*Try again later\.$/);
        return true;
      };
      await Promise.all([assert.rejects(sql.all('SELECT pg_sleep(10)'), lost), terminate()]);
      await Promise.all([assert.rejects(sql.tx((tx) => tx.all('SELECT pg_sleep(10)')), lost), terminate()]);
      // Statement errors keep their own meaning.
      await assert.rejects(sql.all('SELECT * FROM no_such_table'), (e: unknown) => !(e instanceof NovaError) && /no_such_table/.test(String(e)));
      assert.deepEqual(await sql.all('SELECT 1 AS one'), [{ one: 1 }]);
      assert.equal(await sql.tx(async (tx) => (await tx.get<{ one: number }>('SELECT 1 AS one'))!.one), 1);
    } finally {
      await sql.close();
      await killer.close();
    }
  });

  test('statements made while the server restarts wait for it (refused connections are tried again) and succeed', async () => {
    const url = await pg!.createDb(`t${process.pid}_restart`);
    const sql = openPostgres(url, 4);
    try {
      await sql.exec('CREATE TABLE notes (n INTEGER)');
      // A statement (and a transaction) every 10 ms while the server goes down and comes back (~0.1 s here).
      let back = false;
      const restarted = pg!.restart().catch((e: Error) => assert.fail(`the server did not restart: ${e.message}`)).finally(() => (back = true));
      const during: Promise<{ ok: unknown } | { e: unknown }>[] = [];
      let n = 0;
      await new Promise((r) => setTimeout(r, 5));
      while (!back && n < 400) {
        // Settled at once (allSettled below), so no rejection goes unhandled meanwhile.
        const settle = (p: Promise<unknown>) => p.then((v) => ({ ok: v }), (e: unknown) => ({ e }));
        during.push(settle(sql.run('INSERT INTO notes (n) VALUES (?)', [++n])), settle(sql.tx((tx) => tx.run('INSERT INTO notes (n) VALUES (?)', [++n]))));
        await new Promise((r) => setTimeout(r, 10));
      }
      await restarted;
      const outcomes = (await Promise.all(during)) as ({ ok: unknown } | { e: unknown })[];
      const failed = outcomes.filter((o) => 'e' in o).map((o) => String((o as { e: unknown }).e));
      // Only a statement that went to a pooled connection the shutdown had just ended may fail
      // (ServiceUnavailable); none fails for want of a connection while the server is away.
      const refused = failed.filter((m) => !/^ServiceUnavailable: The database is unavailable: terminating connection due to administrator command/.test(m));
      assert.deepEqual(refused, [], `${failed.length} of ${outcomes.length} statements failed`);
      assert.ok(failed.length <= 4, `at most the pool's connections fail: ${failed.join('; ')}`);
      assert.ok(outcomes.length >= 4, `statements were made during the restart (${outcomes.length})`);
      assert.equal((await sql.get<{ c: number }>('SELECT COUNT(*) AS c FROM notes'))!.c, n - failed.length);
    } finally {
      await sql.close();
    }
  });

  sqlContract('postgres', async () => {
    const url = await pg!.createDb(`t${process.pid}_${++n}`);
    const sql = openPostgres(url);
    return { sql, done: () => sql.close() };
  });
});
