import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { AsyncLock } from '../util/lock.js';
import type { RunResult, Sql, SqlValue } from './sql.js';

/**
 * SQLite adapter over better-sqlite3 (synchronous underneath). A transaction holds a lock that
 * every other caller waits on, so interleaved async work never lands inside someone else's
 * transaction. Prepared statements are cached by SQL text.
 */
export function openSqlite(path: string): Sql {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // Checkpoint (and fsync the DB file) every ~40 MB of WAL rather than every 4 MB: under a
  // boot storm the default made checkpoint fsyncs a third of all commit time.
  db.pragma('wal_autocheckpoint = 10000');
  // `x REGEXP pattern` (search semantics, as MySQL's and PostgreSQL's `~`); NULL never matches.
  const regexps = new Map<string, RegExp>();
  db.function('regexp', { deterministic: true }, (pattern: unknown, value: unknown) => {
    if (typeof pattern !== 'string' || value === null || value === undefined) return 0;
    let re = regexps.get(pattern);
    if (!re) {
      re = new RegExp(pattern);
      if (regexps.size > 500) regexps.clear();
      regexps.set(pattern, re);
    }
    return re.test(String(value)) ? 1 : 0;
  });
  const lock = new AsyncLock();
  const cache = new Map<string, Statement>();
  const prep = (sql: string): Statement => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      if (cache.size > 2000) cache.clear();
      cache.set(sql, s);
    }
    return s;
  };
  const conv = (params: readonly SqlValue[]) => params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
  const stats = process.env.NOVA_TS_SQL_STATS ? new Map<string, { n: number; ms: number }>() : null;
  const raw0 = {
    all: <T>(sql: string, params: readonly SqlValue[] = []) => prep(sql).all(...conv(params)) as T[],
    get: <T>(sql: string, params: readonly SqlValue[] = []) => prep(sql).get(...conv(params)) as T | undefined,
    run: (sql: string, params: readonly SqlValue[] = []): RunResult => {
      const s = prep(sql);
      if (s.reader) {
        s.all(...conv(params));
        return { changes: 0 };
      }
      return { changes: s.run(...conv(params)).changes };
    },
  };
  // NOVA_TS_SQL_STATS=1: time every statement by its text; the totals are printed on close.
  const timed =
    <A extends unknown[], R>(f: (sql: string, ...a: A) => R) =>
    (sql: string, ...a: A): R => {
      const t0 = performance.now();
      try {
        return f(sql, ...a);
      } finally {
        const e = stats!.get(sql) ?? { n: 0, ms: 0 };
        e.n++;
        e.ms += performance.now() - t0;
        stats!.set(sql, e);
      }
    };
  const raw = stats ? { all: timed(raw0.all), get: timed(raw0.get), run: timed(raw0.run) } : raw0;
  const printStats = () => {
    if (!stats) return;
    const rows = [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 40);
    for (const [q, e] of rows)
      process.stderr.write(`${e.ms.toFixed(0).padStart(7)} ms ${String(e.n).padStart(7)}x ${q.replace(/\s+/g, ' ').slice(0, 160)}\n`);
  };
  const inner = (db: Db): Sql => ({
    dialect: 'sqlite',
    all: async (sql, params) => raw.all(sql, params),
    get: async (sql, params) => raw.get(sql, params),
    run: async (sql, params) => raw.run(sql, params),
    tx: (fn) => fn(innerSql),
    exec: async (script) => void db.exec(script),
    close: async () => undefined,
  });
  const innerSql = inner(db);
  // Outside a transaction a statement runs at once (synchronously): deferring it to a later
  // microtask could let it land inside a transaction that started in between.
  const guarded = <T>(fn: () => T): Promise<T> => {
    if (lock.locked) return lock.run(fn);
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e);
    }
  };
  return {
    dialect: 'sqlite',
    all: (sql, params) => guarded(() => raw.all(sql, params)),
    get: (sql, params) => guarded(() => raw.get(sql, params)),
    run: (sql, params) => guarded(() => raw.run(sql, params)),
    tx: (fn) =>
      lock.run(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const r = await fn(innerSql);
          db.exec('COMMIT');
          return r;
        } catch (e) {
          db.exec('ROLLBACK');
          throw e;
        }
      }),
    exec: (script) => guarded(() => void db.exec(script)),
    close: async () => {
      await lock.run(() => undefined);
      printStats();
      db.close();
    },
  };
}
