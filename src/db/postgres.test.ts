import { after, before, describe } from 'node:test';
import { sqlContract } from './sql.contract.js';
import { openPostgres, toPg } from './postgres.js';
import { startTestPostgres, type TestPostgres } from '../../test/helpers/postgres.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';

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
  sqlContract('postgres', async () => {
    const url = await pg!.createDb(`t${process.pid}_${++n}`);
    const sql = openPostgres(url);
    return { sql, done: () => sql.close() };
  });
});
