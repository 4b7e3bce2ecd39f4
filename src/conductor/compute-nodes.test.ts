import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../db/open.js';
import { NovaError } from '../errors.js';
import { rig } from './test-rig.js';
import { nodeResources } from '../scheduler/testing-db.js';
import { HostStateCache } from '../scheduler/host-state-cache.js';
import { capacity } from '../scheduler/host-state.js';
import { upsertComputeNode } from './compute-nodes.js';

const inventory = {
  cpu_allocation_ratio: 2,
  ram_allocation_ratio: 1.5,
  disk_allocation_ratio: 1,
  reserved_host_cpus: 1,
  reserved_host_memory_mb: 1024,
  reserved_host_disk_mb: 2048,
};

test('compute nodes: the report writes inventory settings and supported instances; a change counts as changed', async () => {
  const sql = await openDatabase('sqlite::memory:');
  const r = nodeResources('n1', 8192, { supported_instances: [['x86_64', 'fake', 'hvm']], inventory });
  const first = await upsertComputeNode(sql, 'n1', r);
  assert.equal(first.changed, true);
  const row = await sql.get<Record<string, unknown>>('SELECT * FROM compute_nodes WHERE uuid = ?', [first.node_uuid]);
  assert.deepEqual(
    Object.fromEntries(Object.keys(inventory).map((k) => [k, Number(row![k])])),
    inventory,
  );
  assert.deepEqual(JSON.parse(String(row!.capabilities)), { supported_instances: [['x86_64', 'fake', 'hvm']] });

  // The scheduler's view: (total - reserved) * ratio.
  const cache = new HostStateCache(sql);
  await cache.reload();
  const h = cache.get(first.node_uuid)!;
  assert.equal(capacity(h, 'vcpus'), (8 - 1) * 2);
  assert.equal(capacity(h, 'memory_mb'), (8192 - 1024) * 1.5);
  assert.equal(capacity(h, 'disk_gb'), 100 - 2);
  assert.deepEqual(h.supported_instances, [['x86_64', 'fake', 'hvm']]);

  assert.equal((await upsertComputeNode(sql, 'n1', r)).changed, false, 'the same report again changes nothing');
  assert.equal((await upsertComputeNode(sql, 'n1', { ...r, inventory: { ...inventory, ram_allocation_ratio: 1 } })).changed, true);
  assert.equal((await upsertComputeNode(sql, 'n1', { ...r, inventory: { ...inventory, ram_allocation_ratio: 1 } })).changed, false);
  // Other capabilities are kept when supported_instances changes.
  await sql.run(`UPDATE compute_nodes SET capabilities = '{"other":1,"supported_instances":[]}' WHERE uuid = ?`, [first.node_uuid]);
  const kvm = { ...r, supported_instances: [['x86_64', 'qemu', 'hvm'], ['x86_64', 'kvm', 'hvm']] as [string, string, string][] };
  assert.equal((await upsertComputeNode(sql, 'n1', kvm)).changed, true);
  const caps = await sql.get<{ capabilities: string }>('SELECT capabilities FROM compute_nodes WHERE uuid = ?', [first.node_uuid]);
  assert.deepEqual(JSON.parse(caps!.capabilities), { other: 1, supported_instances: kvm.supported_instances });
  // A report without inventory (an older host) leaves the recorded settings alone.
  const { inventory: _, ...bare } = kvm;
  assert.equal((await upsertComputeNode(sql, 'n1', bare)).changed, false);
  const again = await sql.get<{ reserved_host_memory_mb: number }>('SELECT reserved_host_memory_mb FROM compute_nodes WHERE uuid = ?', [first.node_uuid]);
  assert.equal(again!.reserved_host_memory_mb, 1024);
  await sql.close();
});

test('compute nodes: malformed inventory or supported instances are refused', async () => {
  const sql = await openDatabase('sqlite::memory:');
  const bad = async (over: Record<string, unknown>, re: RegExp) =>
    assert.rejects(upsertComputeNode(sql, 'n1', { ...nodeResources('n1'), ...over } as never), (e: NovaError) => e.kind === 'Invalid' && re.test(e.message));
  await bad({ inventory: { ...inventory, cpu_allocation_ratio: 0 } }, /inventory.cpu_allocation_ratio must be a number above 0/);
  await bad({ inventory: { ...inventory, reserved_host_memory_mb: -1 } }, /inventory.reserved_host_memory_mb must be an integer of 0 or more/);
  await bad({ inventory: { ...inventory, reserved_host_cpus: '1' } }, /reserved_host_cpus/);
  await bad({ supported_instances: [['x86_64', 'qemu']] }, /supported_instances must be a list of \[architecture, hypervisor_type, vm_mode\]/);
  assert.equal((await sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM compute_nodes'))!.n, 0);
  await sql.close();
});

test('compute nodes: a compute host reports its configured inventory and the fake driver its supported instances', async () => {
  const r = await rig({ h1: 4096 });
  try {
    const row = () => r.sql.get<Record<string, number | string>>("SELECT * FROM compute_nodes WHERE host = 'h1'");
    assert.equal(Number((await row())!.cpu_allocation_ratio), 4);
    assert.deepEqual(JSON.parse(String((await row())!.capabilities)).supported_instances, [['x86_64', 'fake', 'hvm']]);
    await r.restartHost('h1', { cpuAllocationRatio: 16, reservedHostMemoryMb: 1024, ramAllocationRatio: 1.5 });
    const after = (await row())!;
    assert.equal(Number(after.cpu_allocation_ratio), 16);
    assert.equal(Number(after.ram_allocation_ratio), 1.5);
    assert.equal(Number(after.reserved_host_memory_mb), 1024);
  } finally {
    await r.close();
  }
});
