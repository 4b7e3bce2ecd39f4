import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recoverUploads } from './recover.js';
import { ImageStore } from './store.js';
import { startImageFixture, testContext } from './testing.js';

test('interrupted uploads: stale ones are queued again and their temp files removed; live ones are left; leaked data files go', async () => {
  const fx = await startImageFixture();
  try {
    const ctx = testContext('demo');
    const stale = await fx.service.api.create(ctx, { name: 'stale', disk_format: 'raw', container_format: 'bare' });
    const live = await fx.service.api.create(ctx, { name: 'live', disk_format: 'raw', container_format: 'bare' });
    const orphan = await fx.service.api.create(ctx, { name: 'orphan', disk_format: 'raw', container_format: 'bare' });
    for (const id of [stale.id, live.id, orphan.id]) await fx.sql.run("UPDATE images SET status = 'saving' WHERE id = ?", [id]);
    const dir = join(fx.dataDir, 'images');
    mkdirSync(dir, { recursive: true });
    const staleTmp = join(dir, `.tmp-${stale.id}-0123456789ab`);
    const liveTmp = join(dir, `.tmp-${live.id}-ba9876543210`);
    writeFileSync(staleTmp, 'half');
    const leaked = join(dir, 'b0b0b0b0-0000-4000-8000-000000000000');
    writeFileSync(leaked, 'data of an image the DB does not know');
    const fresh = join(dir, 'c0c0c0c0-0000-4000-8000-000000000000');
    writeFileSync(fresh, 'being written by another process, its row not yet recorded');
    writeFileSync(liveTmp, 'half');
    const old = new Date(Date.now() - 3600_000);
    utimesSync(staleTmp, old, old);
    utimesSync(leaked, old, old);

    await recoverUploads(fx.sql, new ImageStore(dir));
    const status = async (id: string) => (await fx.service.api.show(ctx, id)).status;
    assert.equal(await status(stale.id), 'queued');
    assert.equal(await status(orphan.id), 'queued');
    assert.equal(await status(live.id), 'saving');
    assert.ok(!existsSync(staleTmp));
    assert.ok(existsSync(liveTmp));
    assert.ok(!existsSync(leaked));
    assert.ok(existsSync(fresh));
  } finally {
    await fx.close();
  }
});
