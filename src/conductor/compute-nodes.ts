/**
 * compute_nodes rows, written from compute hosts' resource reports. One node per
 * (host, hypervisor_hostname); the row's uuid is the resource provider allocations refer to.
 */
import type { Sql } from '../db/sql.js';
import type { HostResources } from '../virt/driver.js';
import { uuid } from '../util/ids.js';
import { nowIso } from '../util/time.js';
import { serviceHeartbeat } from './service-records.js';

/**
 * Creates or refreshes the node of `host` described by r (and the host's nova-compute
 * services row). Answers the node uuid and whether anything the scheduler cares about changed.
 */
export async function upsertComputeNode(sql: Sql, host: string, r: HostResources): Promise<{ node_uuid: string; changed: boolean }> {
  const svc = await serviceHeartbeat(sql, host, 'nova-compute');
  const now = nowIso();
  const cur = await sql.get<{ uuid: string; host: string; vcpus: number; memory_mb: number; local_gb: number; service_id: number | null }>(
    'SELECT uuid, host, vcpus, memory_mb, local_gb, service_id FROM compute_nodes WHERE hypervisor_hostname = ? AND deleted = 0',
    [r.hypervisor_hostname],
  );
  if (!cur) {
    const id = uuid();
    await sql.run(
      `INSERT INTO compute_nodes (uuid, service_id, host, hypervisor_hostname, hypervisor_type, hypervisor_version, host_ip,
         cpu_info, vcpus, memory_mb, local_gb, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [id, svc.id, host, r.hypervisor_hostname, r.hypervisor_type, r.hypervisor_version, r.host_ip, JSON.stringify(r.cpu_info), r.vcpus, r.memory_mb, r.local_gb, now, now],
    );
    return { node_uuid: id, changed: true };
  }
  const changed =
    cur.host !== host ||
    Number(cur.vcpus) !== r.vcpus ||
    Number(cur.memory_mb) !== r.memory_mb ||
    Number(cur.local_gb) !== r.local_gb ||
    Number(cur.service_id) !== svc.id;
  await sql.run(
    `UPDATE compute_nodes SET service_id = ?, host = ?, hypervisor_type = ?, hypervisor_version = ?, host_ip = ?, cpu_info = ?,
       vcpus = ?, memory_mb = ?, local_gb = ?, updated_at = ? WHERE uuid = ?`,
    [svc.id, host, r.hypervisor_type, r.hypervisor_version, r.host_ip, JSON.stringify(r.cpu_info), r.vcpus, r.memory_mb, r.local_gb, now, cur.uuid],
  );
  return { node_uuid: cur.uuid, changed };
}
