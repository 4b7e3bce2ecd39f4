import type { Dialect, Sql } from './sql.js';
import { migrations } from './migrations/index.js';

/** A schema change, written once in portable SQL with a few dialect tokens. */
export interface Migration {
  id: string;
  /** Returns the SQL script. `t` gives the dialect-specific spellings. */
  up: (t: DialectTokens) => string;
}

export interface DialectTokens {
  dialect: Dialect;
  /** An auto-incrementing integer primary key column type. */
  pk: string;
  /** A byte-string column type. */
  blob: string;
}

const tokens = (dialect: Dialect): DialectTokens =>
  dialect === 'sqlite'
    ? { dialect, pk: 'INTEGER PRIMARY KEY AUTOINCREMENT', blob: 'BLOB' }
    : { dialect, pk: 'BIGSERIAL PRIMARY KEY', blob: 'BYTEA' };

/** Key of the PostgreSQL advisory lock that serialises migrations across processes ("nova" in ASCII). */
export const MIGRATION_LOCK_KEY = 0x6e6f7661;

/**
 * Applies every migration not yet applied, in order, each in its own transaction. Idempotent.
 * Safe for several processes at once on PostgreSQL (a new database, or an upgrade): each
 * transaction takes the advisory lock MIGRATION_LOCK_KEY and re-reads whether its migration was
 * applied meanwhile, so every migration runs exactly once and a process returns only once the
 * schema is complete. SQLite serialises writers itself (one process on one file).
 */
export async function migrate(sql: Sql, list: readonly Migration[] = migrations): Promise<string[]> {
  const pg = sql.dialect === 'postgres';
  // Held until the transaction ends. Concurrent CREATE TABLE IF NOT EXISTS can fail on PostgreSQL, so even that is locked.
  const lock = async (tx: Sql) => {
    if (pg) await tx.all(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}) AS locked`);
  };
  const create = 'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)';
  if (!pg) await sql.exec(create);
  else
    await sql.tx(async (tx) => {
      await lock(tx);
      await tx.exec(create);
    });
  const done = new Set((await sql.all<{ id: string }>('SELECT id FROM schema_migrations')).map((r) => r.id));
  const applied: string[] = [];
  for (const m of list) {
    if (done.has(m.id)) continue;
    const ran = await sql.tx(async (tx) => {
      await lock(tx);
      // Another process may have applied it while this one waited for the lock.
      if (pg && (await tx.get('SELECT id FROM schema_migrations WHERE id = ?', [m.id]))) return false;
      await tx.exec(m.up(tokens(sql.dialect)));
      await tx.run('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', [m.id, new Date().toISOString()]);
      return true;
    });
    if (ran) applied.push(m.id);
  }
  return applied;
}
