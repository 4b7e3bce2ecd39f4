import pg from 'pg';
import type { Sql, SqlValue } from './sql.js';
import { logger } from '../util/log.js';
import { unavailable } from '../errors.js';

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

/**
 * True for errors that mean the server is unreachable or the connection was lost (restart,
 * shutdown, network), as opposed to an error of the statement: SQLSTATE classes 08 and 57P
 * (admin/crash shutdown, cannot connect now), socket errors, and pg's own "terminated" errors.
 */
export function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (/^08/.test(code) || /^57P0[1-3]$/.test(code) || /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH)$/.test(code))) return true;
  const msg = e instanceof Error ? e.message : '';
  return /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect/.test(msg);
}

/**
 * Runs fn; a lost or refused database connection becomes ServiceUnavailable (503 at the API
 * edge, "try again") instead of an unexpected error. The statement's fate is unknown then, as
 * with any lost connection; nothing is retried here.
 */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isConnectionError(e)) throw Object.assign(unavailable(`The database is unavailable: ${(e as Error).message}. Try again later.`), { cause: e });
    throw e;
  }
}

function over(q: Queryable, inTx: boolean, pool: pg.Pool): Sql {
  const self: Sql = {
    dialect: 'postgres',
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => (await guarded(() => q.query(toPg(sql), [...params]))).rows as T[],
    get: async <T>(sql: string, params: readonly SqlValue[] = []) =>
      (await guarded(() => q.query(toPg(sql), [...params]))).rows[0] as T | undefined,
    run: async (sql, params = []) => ({ changes: (await guarded(() => q.query(toPg(sql), [...params]))).rowCount ?? 0 }),
    tx: async (fn) => {
      if (inTx) return fn(self);
      const client = await guarded(() => pool.connect());
      let lost: Error | undefined;
      // A checked-out client whose connection drops (server restart) emits 'error': without a
      // listener that is an uncaught exception that kills the process. The statement in
      // progress fails on its own; the client is discarded on release.
      const onError = (e: Error) => (lost = e);
      client.on('error', onError);
      try {
        await guarded(() => client.query('BEGIN'));
        const r = await fn(over(client, true, pool));
        await guarded(() => client.query('COMMIT'));
        return r;
      } catch (e) {
        await client.query('ROLLBACK').catch((e2: Error) => (lost = e2));
        throw e;
      } finally {
        // A client whose connection broke is discarded, not handed out again.
        client.off('error', onError);
        client.release(lost);
      }
    },
    exec: async (script) => void (await guarded(() => q.query(script))),
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
