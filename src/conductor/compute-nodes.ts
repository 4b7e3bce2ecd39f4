/**
 * compute_nodes rows, written from compute hosts' resource reports. One node per
 * (host, hypervisor_hostname); the row's uuid is the resource provider allocations refer to.
 * The report carries the node's inventory settings (allocation ratios, reserved amounts; kept
 * in their columns) and the instance kinds it supports (kept in the capabilities JSON as
 * `supported_instances`); reports without them leave what is recorded alone.
 */
import { json, type Sql, type SqlValue } from '../db/sql.js';
import { invalid } from '../errors.js';
import type { HostResources, NodeInventory } from '../virt/driver.js';
import { uuid } from '../util/ids.js';
import { nowIso } from '../util/time.js';
import { serviceHeartbeat } from './service-records.js';

const RATIOS = ['cpu_allocation_ratio', 'ram_allocation_ratio', 'disk_allocation_ratio'] as const;
const RESERVED = ['reserved_host_cpus', 'reserved_host_memory_mb', 'reserved_host_disk_mb'] as const;
const INVENTORY = [...RATIOS, ...RESERVED] as const;

type Triple = [string, string, string];

/** Checks what a host reports beyond the basic sizes (it arrives over the bus): Invalid when malformed. */
function checkExtras(r: HostResources): { inventory: NodeInventory | null; supported: Triple[] | null } {
  let inventory: NodeInventory | null = null;
  if (r.inventory != null) {
    const inv = r.inventory as unknown as Record<string, unknown>;
    if (typeof inv !== 'object') throw invalid('compute_node_update: inventory must be an object.');
    for (const k of RATIOS)
      if (typeof inv[k] !== 'number' || !Number.isFinite(inv[k]) || (inv[k] as number) <= 0)
        throw invalid(`compute_node_update: inventory.${k} must be a number above 0.`);
    for (const k of RESERVED)
      if (!Number.isInteger(inv[k]) || (inv[k] as number) < 0) throw invalid(`compute_node_update: inventory.${k} must be an integer of 0 or more.`);
    inventory = Object.fromEntries(INVENTORY.map((k) => [k, inv[k]])) as unknown as NodeInventory;
  }
  let supported: Triple[] | null = null;
  if (r.supported_instances != null) {
    const list = r.supported_instances as unknown;
    if (!Array.isArray(list) || !list.every((t) => Array.isArray(t) && t.length === 3 && t.every((x) => typeof x === 'string')))
      throw invalid('compute_node_update: supported_instances must be a list of [architecture, hypervisor_type, vm_mode].');
    supported = list as Triple[];
  }
  return { inventory, supported };
}

interface CurrentRow extends NodeInventory {
  uuid: string;
  host: string;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  service_id: number | null;
  hypervisor_type: string;
  hypervisor_version: number;
  cpu_info: string;
  capabilities: string;
}

/**
 * Creates or refreshes the node of `host` described by r (and the host's nova-compute
 * services row). Answers the node uuid and whether anything the scheduler cares about changed
 * (sizes, inventory settings, hypervisor facts, supported instances, host or service).
 */
export async function upsertComputeNode(sql: Sql, host: string, r: HostResources): Promise<{ node_uuid: string; changed: boolean }> {
  const { inventory, supported } = checkExtras(r);
  const svc = await serviceHeartbeat(sql, host, 'nova-compute');
  const now = nowIso();
  const cpuInfo = JSON.stringify(r.cpu_info ?? {});
  const cur = await sql.get<CurrentRow>(
    `SELECT uuid, host, vcpus, memory_mb, local_gb, service_id, hypervisor_type, hypervisor_version, cpu_info, capabilities,
       ${INVENTORY.join(', ')} FROM compute_nodes WHERE hypervisor_hostname = ? AND deleted = 0`,
    [r.hypervisor_hostname],
  );
  if (!cur) {
    const id = uuid();
    const extra: Record<string, SqlValue> = { ...(inventory ?? {}) };
    if (supported) extra.capabilities = JSON.stringify({ supported_instances: supported });
    const cols = Object.keys(extra);
    await sql.run(
      `INSERT INTO compute_nodes (uuid, service_id, host, hypervisor_hostname, hypervisor_type, hypervisor_version, host_ip,
         cpu_info, vcpus, memory_mb, local_gb, created_at, updated_at${cols.map((c) => `, ${c}`).join('')})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?${', ?'.repeat(cols.length)})`,
      [id, svc.id, host, r.hypervisor_hostname, r.hypervisor_type, r.hypervisor_version, r.host_ip, cpuInfo, r.vcpus, r.memory_mb, r.local_gb, now, now, ...cols.map((c) => extra[c])],
    );
    return { node_uuid: id, changed: true };
  }
  const set: Record<string, SqlValue> = {};
  let changed =
    cur.host !== host ||
    Number(cur.vcpus) !== r.vcpus ||
    Number(cur.memory_mb) !== r.memory_mb ||
    Number(cur.local_gb) !== r.local_gb ||
    Number(cur.service_id) !== svc.id ||
    cur.hypervisor_type !== r.hypervisor_type ||
    Number(cur.hypervisor_version) !== r.hypervisor_version ||
    cur.cpu_info !== cpuInfo;
  if (inventory)
    for (const k of INVENTORY) {
      set[k] = inventory[k];
      if (Number(cur[k]) !== inventory[k]) changed = true;
    }
  if (supported) {
    const caps = json<Record<string, unknown>>(cur.capabilities, {});
    if (JSON.stringify(caps.supported_instances ?? null) !== JSON.stringify(supported)) {
      set.capabilities = JSON.stringify({ ...caps, supported_instances: supported });
      changed = true;
    }
  }
  const cols = Object.keys(set);
  await sql.run(
    `UPDATE compute_nodes SET service_id = ?, host = ?, hypervisor_type = ?, hypervisor_version = ?, host_ip = ?, cpu_info = ?,
       vcpus = ?, memory_mb = ?, local_gb = ?, updated_at = ?${cols.map((c) => `, ${c} = ?`).join('')} WHERE uuid = ?`,
    [svc.id, host, r.hypervisor_type, r.hypervisor_version, r.host_ip, cpuInfo, r.vcpus, r.memory_mb, r.local_gb, now, ...cols.map((c) => set[c]), cur.uuid],
  );
  return { node_uuid: cur.uuid, changed };
}
