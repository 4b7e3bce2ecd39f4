import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../db/open.js';
import type { Sql } from '../db/sql.js';
import { InProcessBus } from '../bus/in-process.js';
import { defaultConfig } from '../config.js';
import { nowIso } from '../util/time.js';
import type { Logger } from '../util/log.js';
import { auditAllocations } from './audit.js';
import { nodeUsage } from './claims.js';
import { startScheduler } from './manager.js';
import { addNode, insertAllocation, insertInstance, testFlavor } from './testing-db.js';

const old = new Date(Date.now() - 3600_000).toISOString();
const f1024 = testFlavor(1024, { vcpus: 2, root_gb: 10, ephemeral_gb: 5, swap: 1536 }); // disk 10 + 5 + 2 GB

function capture(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (m: string) => void lines.push(m);
  return { lines, debug: push, info: push, warn: push, error: push };
}

/** Usage per node equals the sum of the flavors of the live instances on it. */
async function assertUsageMatchesInstances(sql: Sql, nodes: Record<string, string>): Promise<void> {
  for (const [name, uuid] of Object.entries(nodes)) {
    const live = await sql.all<{ flavor: string }>("SELECT flavor FROM instances WHERE deleted = 0 AND node = ? AND vm_state <> 'error'", [name]);
    const sum = live.reduce((s, i) => s + (JSON.parse(i.flavor) as { memory_mb: number }).memory_mb, 0);
    assert.equal((await nodeUsage(sql, uuid)).memory_mb, sum, `usage of ${name}`);
  }
}

test('audit: removes orphans, creates missing allocations, moves misplaced ones; usage then matches the live instances', async () => {
  const sql = await openDatabase('sqlite::memory:');
  const a = await addNode(sql, 'a', 512 + 2048);
  const b = await addNode(sql, 'b', 512 + 8192);

  // Consistent: left alone.
  const fine = await insertInstance(sql, { host: 'a', flavor: testFlavor(512) });
  await insertAllocation(sql, fine, a, { memory_mb: 512 }, old);
  // Orphans: an unknown consumer and a deleted instance (old), and a young one (a claim in flight).
  const ghost = randomUUID();
  await insertAllocation(sql, ghost, b, { memory_mb: 4096 }, old);
  const deleted = await insertInstance(sql, { host: 'b', deleted: true });
  await insertAllocation(sql, deleted, b, { memory_mb: 1024 }, old);
  const young = randomUUID();
  await insertAllocation(sql, young, b, { memory_mb: 256 });
  // Missing: an ACTIVE instance on a without allocation; the node is over capacity once it is back.
  const missing = await insertInstance(sql, { host: 'a', flavor: f1024 });
  const missing2 = await insertInstance(sql, { host: 'a', flavor: f1024 });
  // Wrong node: runs on b, allocated on a.
  const misplaced = await insertInstance(sql, { host: 'b', flavor: testFlavor(2048) });
  await insertAllocation(sql, misplaced, a, { memory_mb: 2048 }, old);
  // Left alone: building (claimed before its host is recorded), a failed build in ERROR that never
  // launched, an instance being resized (its allocation moved to the migration), a deleting one.
  const building = await insertInstance(sql, { vm_state: 'building', task_state: 'scheduling' });
  await insertAllocation(sql, building, b, { memory_mb: 512 }, old);
  await insertInstance(sql, { host: 'b', vm_state: 'error' });
  const resizing = await insertInstance(sql, { host: 'a', flavor: testFlavor(512), task_state: 'resize_migrating' });
  const mig = randomUUID();
  await sql.run(
    "INSERT INTO migrations (uuid, instance_uuid, migration_type, source_compute, source_node, status, created_at, updated_at) VALUES (?, ?, 'resize', 'a', 'a', 'migrating', ?, ?)",
    [mig, resizing, nowIso(), nowIso()],
  );
  await insertAllocation(sql, mig, a, { memory_mb: 512 }, old);
  await insertAllocation(sql, resizing, b, { memory_mb: 1024 }, old);
  const deleting = await insertInstance(sql, { host: 'b', task_state: 'deleting' });

  const log = capture();
  const r = await auditAllocations(sql, { log });
  assert.deepEqual({ removed: r.removed, created: r.created, moved: r.moved }, { removed: 2, created: 2, moved: 1 });
  assert.deepEqual([...r.nodes].sort(), [a, b].sort());

  const rows = await sql.all<{ consumer_uuid: string; node_uuid: string; vcpus: number; memory_mb: number; disk_gb: number }>(
    'SELECT consumer_uuid, node_uuid, vcpus, memory_mb, disk_gb FROM allocations',
  );
  const of = (c: string) => rows.filter((x) => x.consumer_uuid === c).map((x) => [x.node_uuid, x.memory_mb]);
  assert.deepEqual(of(ghost), []);
  assert.deepEqual(of(deleted), []);
  assert.deepEqual(of(young), [[b, 256]], 'younger than the grace period: kept');
  assert.deepEqual(of(fine), [[a, 512]]);
  assert.deepEqual(
    rows.filter((x) => x.consumer_uuid === missing).map((x) => [x.node_uuid, x.vcpus, x.memory_mb, x.disk_gb]),
    [[a, 2, 1024, 17]],
    'created from the flavor (swap 1536 MB counts as 2 GB of disk)',
  );
  assert.deepEqual(of(misplaced), [[b, 2048]]);
  assert.deepEqual(of(building), [[b, 512]]);
  assert.deepEqual(of(mig), [[a, 512]]);
  assert.deepEqual(of(resizing), [[b, 1024]]);
  assert.ok(log.lines.some((l) => l.includes(`removed the allocation of ${ghost} on b: no live instance or migration`)), log.lines.join('\n'));
  assert.ok(log.lines.some((l) => l.includes(`moved the allocation of instance ${misplaced} from a to b`)));
  assert.ok(log.lines.some((l) => l.includes(`created the missing allocation of instance ${missing2} on a`) && /a is now over capacity \(memory \d+ MB used of 2048 MB\)/.test(l)), log.lines.join('\n'));
  assert.ok(log.lines.some((l) => l.includes('audit repaired allocations: 2 removed, 2 created, 1 moved')));

  // Node a: fine 512 + missing 1024 * 2 + the resize's 512 (held by its migration).
  assert.equal((await nodeUsage(sql, a)).memory_mb, 512 + 2048 + 512);
  // Once the resize, the young claim and the delete are settled, usage is exactly the live instances' flavors.
  await sql.run('DELETE FROM allocations WHERE consumer_uuid IN (?, ?, ?, ?)', [mig, resizing, young, building]);
  await sql.run('UPDATE instances SET deleted = id WHERE uuid IN (?, ?, ?)', [resizing, building, deleting]);
  await assertUsageMatchesInstances(sql, { a, b });

  assert.deepEqual(await auditAllocations(sql, { log: capture() }), { removed: 0, created: 0, moved: 0, nodes: [] }, 'a second run finds nothing');
  await sql.close();
});

test('audit: a live instance with allocations on its node and elsewhere keeps only the one on its node', async () => {
  const sql = await openDatabase('sqlite::memory:');
  const a = await addNode(sql, 'a');
  const b = await addNode(sql, 'b');
  const i = await insertInstance(sql, { host: 'a' });
  await insertAllocation(sql, i, a, { memory_mb: 1024 }, old);
  await insertAllocation(sql, i, b, { memory_mb: 1024 }, old);
  const r = await auditAllocations(sql, { log: capture() });
  assert.deepEqual([r.removed, r.created, r.moved], [1, 0, 0]);
  assert.deepEqual((await sql.all<{ node_uuid: string }>('SELECT node_uuid FROM allocations')).map((x) => x.node_uuid), [a]);
  await sql.close();
});

test('audit: the scheduler service audits at start and its cache sees the repaired usage', async () => {
  const sql = await openDatabase('sqlite::memory:');
  const bus = new InProcessBus();
  const a = await addNode(sql, 'a');
  const ghost = randomUUID();
  await insertAllocation(sql, ghost, a, { memory_mb: 2048 }, old);
  const live = await insertInstance(sql, { host: 'a', flavor: testFlavor(1024) });
  const config = { ...defaultConfig().scheduler, auditIntervalSec: 3600 };
  const svc = await startScheduler({ sql, bus, config, host: 'ctl' });
  try {
    // Joins the run started at start (or, that one done, runs again and finds nothing).
    const r = await svc.audit();
    assert.ok(r.removed + r.created === 0 || (r.removed === 1 && r.created === 1));
    assert.deepEqual(await sql.all('SELECT consumer_uuid, memory_mb FROM allocations'), [{ consumer_uuid: live, memory_mb: 1024 }]);
    const h = svc.scheduler.cache.get(a)!;
    assert.equal(h.used.memory_mb, 1024);
    assert.deepEqual([...h.consumers], [live]);
  } finally {
    await svc.stop();
    await bus.close();
    await sql.close();
  }
});
