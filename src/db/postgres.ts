import pg from 'pg';
import type { Sql, SqlValue } from './sql.js';
import { logger } from '../util/log.js';
import { NovaError, unavailable } from '../errors.js';

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
  if (e instanceof NovaError) return false; // already translated (its message may quote pg's)
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (/^08/.test(code) || /^57P0[1-3]$/.test(code) || /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH)$/.test(code))) return true;
  const msg = e instanceof Error ? e.message : '';
  return /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect/.test(msg);
}

/** How long a statement keeps trying to get a connection while the server is away (a restart). */
export const CONNECT_RETRY_MS = 10_000;

const lostDb = (e: unknown) =>
  Object.assign(unavailable(`The database is unavailable: ${(e as Error).message}. Try again later.`), { cause: e });

/** Runs fn; a lost connection becomes ServiceUnavailable (503 at the API edge) instead of an unexpected error. */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw isConnectionError(e) ? lostDb(e) : e;
  }
}

/**
 * A pooled client. Nothing has been sent yet, so connection errors (the server restarting,
 * refusing or resetting connections) are tried again for up to CONNECT_RETRY_MS: a short
 * database restart only delays statements. A longer outage is ServiceUnavailable.
 */
async function connect(pool: pg.Pool): Promise<pg.PoolClient> {
  const deadline = Date.now() + CONNECT_RETRY_MS;
  for (let wait = 100; ; wait = Math.min(1000, wait * 2)) {
    try {
      return await pool.connect();
    } catch (e) {
      if (!isConnectionError(e)) throw e;
      if (Date.now() + wait >= deadline) throw lostDb(e);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/**
 * Runs fn on a pooled client. While checked out, a client whose connection drops emits 'error'
 * (without a listener: an uncaught exception that kills the process); it is listened to, and a
 * client whose connection broke is discarded on release, not handed out again. A statement
 * whose connection is lost fails (ServiceUnavailable; its fate unknown) and is never retried.
 */
async function onClient<T>(pool: pg.Pool, fn: (c: pg.PoolClient, lost: () => Error | undefined) => Promise<T>): Promise<T> {
  const client = await connect(pool);
  let lost: Error | undefined;
  const onError = (e: Error) => (lost ??= e);
  client.on('error', onError);
  try {
    return await fn(client, () => lost);
  } catch (e) {
    const broken = isConnectionError(e) || isConnectionError((e as { cause?: unknown } | null)?.cause);
    if (broken) lost ??= e as Error;
    throw isConnectionError(e) ? lostDb(e) : e;
  } finally {
    client.off('error', onError);
    client.release(lost);
  }
}

function over(q: Queryable | null, pool: pg.Pool): Sql {
  // Outside a transaction (q null) each statement takes a pooled client of its own.
  const query = (text: string, params: unknown[] = []) => (q ? guarded(() => q.query(text, params)) : onClient(pool, (c) => c.query(text, params)));
  const self: Sql = {
    dialect: 'postgres',
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => (await query(toPg(sql), [...params])).rows as T[],
    get: async <T>(sql: string, params: readonly SqlValue[] = []) => (await query(toPg(sql), [...params])).rows[0] as T | undefined,
    run: async (sql, params = []) => ({ changes: (await query(toPg(sql), [...params])).rowCount ?? 0 }),
    tx: async (fn) => {
      if (q) return fn(self);
      return onClient(pool, async (client, lost) => {
        await client.query('BEGIN');
        try {
          const r = await fn(over(client, pool));
          await client.query('COMMIT');
          return r;
        } catch (e) {
          if (!lost()) await client.query('ROLLBACK').catch(() => undefined);
          throw e;
        }
      });
    },
    exec: async (script) => void (await query(script)),
    close: async () => {
      if (!q) await pool.end();
    },
  };
  return self;
}

/** PostgreSQL adapter over a pg connection pool; url like postgres://user:pw@127.0.0.1/nova. */
export function openPostgres(url: string, max = 10): Sql {
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle client whose server went away emits 'error'; the pool replaces it on next use.
  pool.on('error', (e) => log.warn(`idle PostgreSQL connection lost: ${e.message}`));
  return over(null, pool);
}
