import pg from 'pg';
import type { Sql, SqlValue } from './sql.js';
import { logger } from '../util/log.js';

const log = logger('postgres');

// BIGINT (int8) and NUMERIC come back as strings by default; our BIGINT values fit in a double.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

/** Translates `?` placeholders to `$1..$n`, leaving `?` inside string literals alone. */
export function toPg(sql: string): string {
  let n = 0;
  let out = '';
  let quoted = false;
  for (const ch of sql) {
    if (ch === "'") quoted = !quoted;
    out += ch === '?' && !quoted ? `$${++n}` : ch;
  }
  return out;
}

type Queryable = { query: (text: string, values?: unknown[]) => Promise<pg.QueryResult> };

function over(q: Queryable, inTx: boolean, pool: pg.Pool): Sql {
  const self: Sql = {
    dialect: 'postgres',
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => (await q.query(toPg(sql), [...params])).rows as T[],
    get: async <T>(sql: string, params: readonly SqlValue[] = []) =>
      (await q.query(toPg(sql), [...params])).rows[0] as T | undefined,
    run: async (sql, params = []) => ({ changes: (await q.query(toPg(sql), [...params])).rowCount ?? 0 }),
    tx: async (fn) => {
      if (inTx) return fn(self);
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const r = await fn(over(client, true, pool));
        await client.query('COMMIT');
        return r;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },
    exec: async (script) => void (await q.query(script)),
    close: async () => {
      if (!inTx) await pool.end();
    },
  };
  return self;
}

/** PostgreSQL adapter over a pg connection pool; url like postgres://user:pw@127.0.0.1/nova. */
export function openPostgres(url: string, max = 10): Sql {
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle client whose server went away emits 'error'; the pool replaces it on next use.
  pool.on('error', (e) => log.warn(`idle PostgreSQL connection lost: ${e.message}`));
  return over(pool, false, pool);
}
