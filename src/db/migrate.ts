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

/** Applies every migration not yet applied, in order, each in its own transaction. Idempotent. */
export async function migrate(sql: Sql, list: readonly Migration[] = migrations): Promise<string[]> {
  await sql.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const done = new Set((await sql.all<{ id: string }>('SELECT id FROM schema_migrations')).map((r) => r.id));
  const applied: string[] = [];
  for (const m of list) {
    if (done.has(m.id)) continue;
    await sql.tx(async (tx) => {
      await tx.exec(m.up(tokens(sql.dialect)));
      await tx.run('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', [m.id, new Date().toISOString()]);
    });
    applied.push(m.id);
  }
  return applied;
}
