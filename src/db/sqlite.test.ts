import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqlContract } from './sql.contract.js';
import { openSqlite } from './sqlite.js';

sqlContract('sqlite (memory)', async () => {
  const sql = openSqlite(':memory:');
  return { sql, done: () => sql.close() };
});

sqlContract('sqlite (file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nova-ts-sqlite-'));
  const sql = openSqlite(join(dir, 'db.sqlite'));
  return {
    sql,
    done: async () => {
      await sql.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
