import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Sql } from './sql.js';
import { openSqlite } from './sqlite.js';
import { openPostgres } from './postgres.js';
import { migrate } from './migrate.js';

/** Opens the database named by url (`sqlite:/path/file.db`, `sqlite::memory:` or `postgres://…`) and migrates it. */
export async function openDatabase(url: string): Promise<Sql> {
  let sql: Sql;
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) sql = openPostgres(url);
  else {
    const path = url.replace(/^sqlite:/, '');
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    sql = openSqlite(path);
  }
  await migrate(sql);
  return sql;
}
