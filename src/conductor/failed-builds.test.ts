import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rig, settled } from './test-rig.js';

const failedBuilds = async (sql: import('../db/sql.js').Sql) =>
  Object.fromEntries(
    (await sql.all<{ host: string; failed_builds: number }>('SELECT host, failed_builds FROM compute_nodes ORDER BY host')).map((r) => [r.host, Number(r.failed_builds)]),
  );

test('failed builds: a failed build counts on its node, a successful one there resets the count', async () => {
  const failing = ['big'];
  // RAMWeigher prefers "big" (more free memory); "small" has room for two 512 MB instances.
  const r = await rig({ big: 16384, small: 512 + 1024 }, { failingHosts: failing });
  try {
    const a = await r.waitState(await r.boot(), settled, 'first build');
    assert.equal(a.vm_state, 'active');
    assert.equal(a.host, 'small', 'rescheduled away from the failing host');
    assert.deepEqual(await failedBuilds(r.sql), { big: 1, small: 0 });
    // BuildFailureWeigher (default) now steers the next build away from "big" at once.
    const b = await r.waitState(await r.boot(), settled, 'second build');
    assert.equal(b.host, 'small');
    assert.deepEqual(await failedBuilds(r.sql), { big: 1, small: 0 });

    failing.length = 0; // the hypervisor of "big" recovers; "small" is full
    const c = await r.waitState(await r.boot(), settled, 'third build');
    assert.equal(c.vm_state, 'active');
    assert.equal(c.host, 'big');
    assert.deepEqual(await failedBuilds(r.sql), { big: 0, small: 0 });
  } finally {
    await r.close();
  }
});
