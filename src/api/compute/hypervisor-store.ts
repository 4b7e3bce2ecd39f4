/**
 * Compute nodes as os-hypervisors sees them: the node row, its compute service, and usage summed
 * from the scheduler's allocations (plus the host's reserved memory and disk, as Nova reports).
 */
import { inList, type Sql } from '../../db/sql.js';
import { SERVICE_COLUMNS, type ServiceRow } from './service-state.js';

export interface NodeRow {
  id: number;
  uuid: string;
  service_id: number | null;
  host: string;
  hypervisor_hostname: string;
  hypervisor_type: string;
  hypervisor_version: number;
  host_ip: string | null;
  cpu_info: string;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  reserved_host_memory_mb: number;
  reserved_host_disk_mb: number;
  disk_available_least: number | null;
  current_workload: number;
}

export interface NodeUsage {
  vcpus_used: number;
  memory_mb_used: number;
  local_gb_used: number;
  running_vms: number;
  servers: { name: string; uuid: string }[];
}

export interface Node {
  row: NodeRow;
  service: ServiceRow | undefined;
}

/** Live compute nodes ordered by id, each with its nova-compute service (by id, else by host). */
export async function listNodes(sql: Sql): Promise<Node[]> {
  const rows = await sql.all<NodeRow>('SELECT * FROM compute_nodes WHERE deleted = 0 ORDER BY id');
  const services = await sql.all<ServiceRow>(`SELECT ${SERVICE_COLUMNS} FROM services WHERE deleted = 0 AND "binary" = 'nova-compute'`);
  const byId = new Map(services.map((s) => [Number(s.id), s]));
  const byHost = new Map(services.map((s) => [s.host, s]));
  return rows.map((row) => ({ row, service: (row.service_id !== null ? byId.get(Number(row.service_id)) : undefined) ?? byHost.get(row.host) }));
}

/** Usage of each node (keyed by node uuid): allocations, reserved resources, instances on it. */
export async function nodeUsage(sql: Sql, nodes: NodeRow[]): Promise<Map<string, NodeUsage>> {
  const out = new Map<string, NodeUsage>();
  for (const n of nodes)
    out.set(n.uuid, {
      vcpus_used: 0,
      memory_mb_used: Number(n.reserved_host_memory_mb ?? 0),
      local_gb_used: Math.floor(Number(n.reserved_host_disk_mb ?? 0) / 1024),
      running_vms: 0,
      servers: [],
    });
  if (nodes.length === 0) return out;
  const uuids = nodes.map((n) => n.uuid);
  const allocs = await sql.all<{ node_uuid: string; vcpus: number; memory_mb: number; disk_gb: number }>(
    `SELECT node_uuid, SUM(vcpus) AS vcpus, SUM(memory_mb) AS memory_mb, SUM(disk_gb) AS disk_gb
       FROM allocations WHERE node_uuid IN ${inList(uuids.length)} GROUP BY node_uuid`,
    uuids,
  );
  for (const a of allocs) {
    const u = out.get(a.node_uuid)!;
    u.vcpus_used += Number(a.vcpus ?? 0);
    u.memory_mb_used += Number(a.memory_mb ?? 0);
    u.local_gb_used += Number(a.disk_gb ?? 0);
  }
  const names = nodes.map((n) => n.hypervisor_hostname);
  const insts = await sql.all<{ uuid: string; display_name: string; host: string; node: string }>(
    `SELECT uuid, display_name, host, node FROM instances WHERE deleted = 0 AND node IN ${inList(names.length)} ORDER BY id`,
    names,
  );
  const byKey = new Map(nodes.map((n) => [`${n.host}\u0000${n.hypervisor_hostname}`, n.uuid]));
  for (const i of insts) {
    const key = byKey.get(`${i.host}\u0000${i.node}`);
    if (!key) continue;
    const u = out.get(key)!;
    u.running_vms++;
    u.servers.push({ name: i.display_name, uuid: i.uuid });
  }
  return out;
}
