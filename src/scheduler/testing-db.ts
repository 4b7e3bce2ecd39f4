/** DB fixtures for scheduler and conductor tests: compute nodes and instance rows written directly. For tests only. */
import { randomUUID } from 'node:crypto';
import type { Sql } from '../db/sql.js';
import { upsertComputeNode } from '../conductor/compute-nodes.js';
import type { FlavorSnapshot } from '../objects/flavor.js';
import type { HostResources } from '../virt/driver.js';
import { nowIso } from '../util/time.js';

export const nodeResources = (name: string, memory_mb = 512 + 4096, over: Partial<HostResources> = {}): HostResources => ({
  hypervisor_hostname: name,
  hypervisor_type: 'fake',
  hypervisor_version: 1000,
  vcpus: 8,
  memory_mb,
  local_gb: 100,
  host_ip: '127.0.0.1',
  cpu_info: {},
  ...over,
});

/** A compute node named `name` on host `name` (512 MB of its memory reserved); answers its uuid. */
export async function addNode(sql: Sql, name: string, memory_mb = 512 + 4096, over: Partial<HostResources> = {}): Promise<string> {
  return (await upsertComputeNode(sql, name, nodeResources(name, memory_mb, over))).node_uuid;
}

export const testFlavor = (memory_mb = 1024, o: Partial<FlavorSnapshot> = {}): FlavorSnapshot => ({
  id: 1,
  flavorid: '1',
  name: `f${memory_mb}`,
  memory_mb,
  vcpus: 1,
  root_gb: 1,
  ephemeral_gb: 0,
  swap: 0,
  rxtx_factor: 1,
  is_public: true,
  description: null,
  extra_specs: {},
  ...o,
});

/** Writes an instance row as the API and conductor would leave it (ACTIVE on host/node by default). */
export async function insertInstance(
  sql: Sql,
  o: { uuid?: string; host?: string | null; node?: string | null; flavor?: FlavorSnapshot; vm_state?: string; task_state?: string | null; deleted?: boolean; hints?: Record<string, unknown>; created_at?: string } = {},
): Promise<string> {
  const uuid = o.uuid ?? randomUUID();
  const f = o.flavor ?? testFlavor();
  const now = o.created_at ?? nowIso();
  const host = o.host === undefined ? null : o.host;
  await sql.run(
    `INSERT INTO instances (uuid, project_id, user_id, display_name, host, node, flavor_id, flavor, image_ref, vm_state, task_state,
       memory_mb, vcpus, root_gb, reservation_id, scheduler_hints, created_at, updated_at)
     VALUES (?, 'p1', 'u1', ?, ?, ?, ?, ?, 'img-1', ?, ?, ?, ?, ?, 'r-1', ?, ?, ?)`,
    [
      uuid,
      `vm-${uuid.slice(0, 4)}`,
      host,
      o.node === undefined ? host : o.node,
      f.id,
      JSON.stringify(f),
      o.vm_state ?? 'active',
      o.task_state ?? null,
      f.memory_mb,
      f.vcpus,
      f.root_gb,
      JSON.stringify(o.hints ?? {}),
      now,
      now,
    ],
  );
  if (o.deleted) await sql.run("UPDATE instances SET deleted = id, vm_state = 'deleted' WHERE uuid = ?", [uuid]);
  return uuid;
}

/** An allocation row written directly (no capacity check), as drift would leave it. */
export async function insertAllocation(sql: Sql, consumer: string, nodeUuid: string, r: { vcpus?: number; memory_mb: number; disk_gb?: number }, createdAt = nowIso()): Promise<void> {
  await sql.run('INSERT INTO allocations (consumer_uuid, node_uuid, vcpus, memory_mb, disk_gb, project_id, user_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
    consumer,
    nodeUuid,
    r.vcpus ?? 1,
    r.memory_mb,
    r.disk_gb ?? 1,
    'p1',
    'u1',
    createdAt,
  ]);
}

/** A server group with members (instance uuids). */
export async function insertGroup(sql: Sql, policy: string, members: string[], rules: Record<string, number> = {}): Promise<string> {
  const uuid = randomUUID();
  const now = nowIso();
  await sql.run("INSERT INTO server_groups (uuid, name, project_id, user_id, policy, rules, created_at) VALUES (?, 'g', 'p1', 'u1', ?, ?, ?)", [
    uuid,
    policy,
    JSON.stringify(rules),
    now,
  ]);
  for (const m of members) await sql.run('INSERT INTO server_group_members (group_uuid, instance_uuid, created_at) VALUES (?, ?, ?)', [uuid, m, now]);
  return uuid;
}
