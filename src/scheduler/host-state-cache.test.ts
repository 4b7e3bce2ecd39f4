import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../db/open.js';
import { nowIso } from '../util/time.js';
import { HostStateCache } from './host-state-cache.js';
import { addNode, insertAllocation, insertInstance } from './testing-db.js';

async function aggregate(sql: Awaited<ReturnType<typeof openDatabase>>, name: string, hosts: string[], metadata: Record<string, string>): Promise<number> {
  await sql.run('INSERT INTO aggregates (uuid, name, created_at) VALUES (?, ?, ?)', [randomUUID(), name, nowIso()]);
  const { id } = (await sql.get<{ id: number }>('SELECT id FROM aggregates WHERE name = ?', [name]))!;
  for (const h of hosts) await sql.run('INSERT INTO aggregate_hosts (aggregate_id, host) VALUES (?, ?)', [id, h]);
  for (const [k, v] of Object.entries(metadata)) await sql.run('INSERT INTO aggregate_metadata (aggregate_id, key, value) VALUES (?, ?, ?)', [id, k, v]);
  return Number(id);
}

test('cache: loads aggregates, consumers, io ops, hypervisor facts, supported instances and failed builds', async () => {
  const sql = await openDatabase('sqlite::memory:');
  const a = await addNode(sql, 'a', 4608, { hypervisor_type: 'QEMU', hypervisor_version: 8002000, cpu_info: { arch: 'x86_64', topology: { cores: 8 } }, supported_instances: [['x86_64', 'qemu', 'hvm']] });
  const b = await addNode(sql, 'b');
  const fast = await aggregate(sql, 'fast', ['a'], { ssd: 'true', availability_zone: 'az1' });
  await aggregate(sql, 'tenants', ['a', 'b'], { filter_tenant_id: 'p1,p2' });
  await aggregate(sql, 'deleted', ['b'], { availability_zone: 'gone' });
  await sql.run("UPDATE aggregates SET deleted = id WHERE name = 'deleted'");
  const i1 = await insertInstance(sql, { host: 'a', task_state: 'spawning' });
  const i2 = await insertInstance(sql, { host: 'a', task_state: 'image_snapshot' });
  await insertInstance(sql, { host: 'a', task_state: 'powering-off' });
  await insertInstance(sql, { host: 'a', task_state: 'spawning', deleted: true });
  await insertInstance(sql, { host: 'b', task_state: 'resize_migrating' });
  await insertAllocation(sql, i1, a, { memory_mb: 1024 });
  await insertAllocation(sql, i2, a, { memory_mb: 512, vcpus: 2, disk_gb: 5 });
  await sql.run("UPDATE compute_nodes SET failed_builds = 3 WHERE hypervisor_hostname = 'b'");

  const cache = new HostStateCache(sql);
  await cache.reload();
  const ha = cache.get(a)!;
  const hb = cache.get(b)!;
  assert.deepEqual(ha.aggregates.map((g) => [g.id, g.name, g.metadata]), [
    [fast, 'fast', { ssd: 'true', availability_zone: 'az1' }],
    [fast + 1, 'tenants', { filter_tenant_id: 'p1,p2' }],
  ]);
  assert.equal(ha.availability_zone, 'az1');
  assert.deepEqual(hb.aggregates.map((g) => g.name), ['tenants'], 'a deleted aggregate is not loaded');
  assert.equal(hb.availability_zone, 'nova');
  assert.deepEqual([...ha.consumers].sort(), [i1, i2].sort());
  assert.deepEqual(ha.used, { vcpus: 3, memory_mb: 1536, disk_gb: 6 });
  assert.equal(ha.instances, 2);
  assert.equal(ha.io_ops, 2, 'spawning + image_snapshot; powering-off and deleted instances do not count');
  assert.equal(hb.io_ops, 1);
  assert.equal(ha.hypervisor_type, 'QEMU');
  assert.equal(ha.hypervisor_version, 8002000);
  assert.deepEqual(ha.cpu_info, { arch: 'x86_64', topology: { cores: 8 } });
  assert.deepEqual(ha.supported_instances, [['x86_64', 'qemu', 'hvm']]);
  assert.deepEqual(hb.supported_instances, []);
  assert.equal(ha.failed_builds, 0);
  assert.equal(hb.failed_builds, 3);

  // refreshNode re-reads consumers, usage and failed builds of one node.
  const i3 = randomUUID();
  await insertAllocation(sql, i3, b, { memory_mb: 256 });
  await sql.run("UPDATE compute_nodes SET failed_builds = 0 WHERE hypervisor_hostname = 'b'");
  await sql.run('DELETE FROM allocations WHERE consumer_uuid = ?', [i1]);
  await cache.refreshNode(b);
  await cache.refreshNode(a);
  assert.deepEqual([...cache.get(b)!.consumers], [i3]);
  assert.equal(cache.get(b)!.used.memory_mb, 256);
  assert.equal(cache.get(b)!.failed_builds, 0);
  assert.deepEqual([...cache.get(a)!.consumers], [i2]);
  assert.equal(cache.get(a)!.instances, 1);
  await sql.close();
});

test('cache: loads 10,000 hosts with allocations, aggregates and instances quickly', async () => {
  const sql = await openDatabase('sqlite::memory:');
  const N = 10_000;
  const now = nowIso();
  const caps = JSON.stringify({ supported_instances: [['x86_64', 'fake', 'hvm']] });
  const cpu = JSON.stringify({ arch: 'x86_64', model: 'fake', topology: { sockets: 1, cores: 32, threads: 1 } });
  await sql.tx(async (tx) => {
    for (let i = 0; i < N; i++) {
      const h = `h${i}`;
      const node = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      await tx.run("INSERT INTO services (uuid, host, binary, topic, report_count, last_seen_up, created_at) VALUES (?, ?, 'nova-compute', 'compute', 1, ?, ?)", [randomUUID(), h, now, now]);
      await tx.run(
        `INSERT INTO compute_nodes (uuid, host, hypervisor_hostname, hypervisor_type, hypervisor_version, cpu_info, capabilities, vcpus, memory_mb, local_gb, created_at)
         VALUES (?, ?, ?, 'fake', 1000, ?, ?, 32, 131072, 2048, ?)`,
        [node, h, h, cpu, caps, now],
      );
      for (let j = 0; j < 5; j++) {
        const inst = randomUUID();
        await tx.run(
          `INSERT INTO instances (uuid, project_id, user_id, display_name, host, node, flavor_id, flavor, vm_state, task_state, memory_mb, vcpus, root_gb, reservation_id, created_at, updated_at)
           VALUES (?, 'p1', 'u1', 'vm', ?, ?, 1, '{}', 'active', ?, 512, 1, 1, 'r', ?, ?)`,
          [inst, h, h, j === 0 && i % 10 === 0 ? 'spawning' : null, now, now],
        );
        await tx.run("INSERT INTO allocations (consumer_uuid, node_uuid, vcpus, memory_mb, disk_gb, created_at) VALUES (?, ?, 1, 512, 1, ?)", [inst, node, now]);
      }
    }
    for (let z = 0; z < 30; z++) {
      await tx.run('INSERT INTO aggregates (uuid, name, created_at) VALUES (?, ?, ?)', [randomUUID(), `agg${z}`, now]);
      await tx.run("INSERT INTO aggregate_metadata (aggregate_id, key, value) VALUES (?, 'availability_zone', ?)", [z + 1, `az${z % 3}`]);
      await tx.run("INSERT INTO aggregate_metadata (aggregate_id, key, value) VALUES (?, 'ssd', 'true')", [z + 1]);
      for (let i = z; i < N; i += 30) await tx.run('INSERT INTO aggregate_hosts (aggregate_id, host) VALUES (?, ?)', [z + 1, `h${i}`]);
    }
  });
  const cache = new HostStateCache(sql);
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    await cache.reload();
    runs.push(performance.now() - t0);
  }
  const best = Math.min(...runs);
  console.log(`# cache reload of ${N} hosts / ${N * 5} allocations: ${runs.map((t) => t.toFixed(0)).join(', ')} ms`);
  assert.equal(cache.size, N);
  const h = cache.get('00000000-0000-4000-8000-000000000040')!;
  assert.equal(h.instances, 5);
  assert.equal(h.consumers.size, 5);
  assert.equal(h.io_ops, 1);
  assert.equal(h.availability_zone, 'az1');
  assert.equal(h.aggregates.length, 1);
  assert.ok(best < 1500, `reload took ${best.toFixed(0)} ms`);
  await sql.close();
});
