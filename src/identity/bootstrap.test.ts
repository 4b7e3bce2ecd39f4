import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../db/open.js';
import type { Sql } from '../db/sql.js';
import { startTestPostgres } from '../../test/helpers/postgres.js';
import { createIdentityService } from './service.js';
import { bootstrap } from './bootstrap.js';
import { buildCatalog } from './catalog.js';
import { verifyPassword } from './password.js';
import { TokenStore } from './token-store.js';

const opts = { publicUrl: 'http://127.0.0.1:1000', region: 'RegionOne', adminPassword: 'a1', demoPassword: 'd1' };

/** The same cases on each SQL dialect (PostgreSQL when a server can be started here). */
function suite(open: () => Promise<Sql>) {
  test('bootstrap is idempotent, follows the public URL and the served services, and resets passwords', async () => {
    const sql = await open();
    const tokens = new TokenStore(sql, 60);
    await bootstrap(sql, tokens, opts);
    await bootstrap(sql, tokens, opts);
    const count = async (t: string) => (await sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`))!.n;
    assert.equal(await count('domains'), 1);
    assert.equal(await count('roles'), 3);
    assert.equal(await count('projects'), 3);
    assert.equal(await count('users'), 2);
    assert.equal(await count('role_assignments'), 2);
    assert.equal(await count('catalog_endpoints'), 9);
    let cat = await buildCatalog(sql, 'p1');
    assert.deepEqual(cat.map((s) => s.type), ['compute', 'identity', 'image']);
    assert.deepEqual(
      cat.find((s) => s.type === 'compute')!.endpoints.map((e) => [e.interface, e.url, e.region_id]),
      [
        ['admin', 'http://127.0.0.1:1000/compute/v2.1', 'RegionOne'],
        ['internal', 'http://127.0.0.1:1000/compute/v2.1', 'RegionOne'],
        ['public', 'http://127.0.0.1:1000/compute/v2.1', 'RegionOne'],
      ],
    );

    // A new port, a new password, and the volume service enabled.
    await bootstrap(sql, tokens, { ...opts, publicUrl: 'http://127.0.0.1:2000/', adminPassword: 'a2', services: ['identity', 'compute', 'image', 'volume'] });
    cat = await buildCatalog(sql, 'p1');
    assert.deepEqual(cat.map((s) => s.type), ['block-storage', 'compute', 'identity', 'image', 'volumev3']);
    assert.equal(cat.find((s) => s.type === 'volumev3')!.endpoints[0].url, 'http://127.0.0.1:2000/volume/v3/p1');
    assert.equal(cat.find((s) => s.type === 'identity')!.endpoints[0].url, 'http://127.0.0.1:2000/identity');
    assert.equal(await count('catalog_endpoints'), 15);
    // A domain-scoped catalog cannot fill in the project id: those endpoints are left out.
    assert.deepEqual((await buildCatalog(sql, null)).find((s) => s.type === 'volumev3')!.endpoints, []);
    const admin = await sql.get<{ password_hash: string }>(`SELECT password_hash FROM users WHERE name = 'admin'`);
    assert.equal(await verifyPassword('a2', admin!.password_hash), true);
    assert.equal(await verifyPassword('a1', admin!.password_hash), false);

    // Back to the default services: volume disappears again.
    await bootstrap(sql, tokens, opts);
    assert.deepEqual((await buildCatalog(sql, 'p1')).map((s) => s.type), ['compute', 'identity', 'image']);
    assert.equal(await count('catalog_services'), 3);
    await sql.close();
  });

  test('a token issued and validated through the service reflects role changes', async () => {
    const sql = await open();
    const id = createIdentityService({ sql, tokenTtlSec: 60 });
    await id.bootstrap(opts);
    const store = new TokenStore(sql, 60);
    const demo = (await sql.get<{ id: string }>(`SELECT id FROM users WHERE name = 'demo'`))!.id;
    const project = (await sql.get<{ id: string }>(`SELECT id FROM projects WHERE name = 'demo'`))!.id;
    const { id: token } = await store.issue({ userId: demo, projectId: project, domainId: null, methods: ['password'] });
    const ctx = await id.authenticate(token, 'r1');
    assert.deepEqual([...ctx.roles].sort(), ['member', 'reader']);
    assert.equal(ctx.isAdmin, false);
    assert.equal(ctx.readOnly, false);
    assert.equal(await id.projectExists(project), true);
    assert.equal(await id.projectExists('nope'), false);
    await store.revoke(token);
    // Revoked behind the service's back: still cached for a few seconds, then refused.
    const fresh = createIdentityService({ sql, tokenTtlSec: 60 });
    await assert.rejects(fresh.authenticate(token, 'r2'), { kind: 'Unauthorized' });
    await sql.close();
  });

  test('with servicePassword, the service user nova is admin on project service; its password follows the option', async () => {
    const sql = await open();
    const tokens = new TokenStore(sql, 60);
    await bootstrap(sql, tokens, { ...opts, servicePassword: 's1' });
    await bootstrap(sql, tokens, { ...opts, servicePassword: 's1' });
    const roles = await sql.all<{ project: string; role: string }>(
      `SELECT p.name AS project, r.name AS role FROM role_assignments a JOIN users u ON u.id = a.actor_id
         JOIN projects p ON p.id = a.target_id JOIN roles r ON r.id = a.role_id WHERE u.name = 'nova'`,
    );
    assert.deepEqual(roles, [{ project: 'service', role: 'admin' }]);
    await bootstrap(sql, tokens, { ...opts, servicePassword: 's2' });
    const nova = await sql.get<{ password_hash: string }>(`SELECT password_hash FROM users WHERE name = 'nova'`);
    assert.equal(await verifyPassword('s2', nova!.password_hash), true);
    assert.equal((await sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM users`))!.n, 3);
    await sql.close();
  });
}

describe('sqlite', () => suite(() => openDatabase('sqlite::memory:')));

describe('postgres', async () => {
  const pg = await startTestPostgres();
  if ('skip' in pg) {
    test('postgres', { skip: pg.skip }, () => undefined);
    return;
  }
  after(() => pg.stop());
  let n = 0;
  suite(async () => openDatabase(await pg.createDb(`identity_${++n}`)));
});
