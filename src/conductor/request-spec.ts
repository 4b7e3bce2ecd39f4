/**
 * The scheduler's RequestSpec for instances recorded by the API. Placement constraints the API
 * accepted are read from the row: availability_zone, scheduler_hints, and the requested
 * destination (2.74 `host` / `hypervisor_hostname`, or a forced `az:host:node`) from
 * system_metadata keys `requested_host` / `requested_node`.
 */
import { json } from '../db/sql.js';
import type { InstanceRow } from '../db/instances.js';
import type { FlavorSnapshot } from '../objects/flavor.js';
import type { RequestSpec } from '../scheduler/rpcapi.js';
import type { ImageMeta } from '../virt/driver.js';
import { systemMetadata } from './payload.js';

export function requestSpec(
  row: InstanceRow,
  uuids: string[],
  o: { flavor?: FlavorSnapshot; image?: ImageMeta | null; ignoreHosts?: string[] } = {},
): RequestSpec {
  const f = o.flavor ?? json<FlavorSnapshot>(row.flavor, null as never);
  const sys = systemMetadata(row);
  return {
    instance_uuids: uuids,
    project_id: row.project_id,
    user_id: row.user_id,
    flavor: { id: f.id, memory_mb: f.memory_mb, vcpus: f.vcpus, root_gb: f.root_gb, ephemeral_gb: f.ephemeral_gb, swap: f.swap, extra_specs: f.extra_specs ?? {} },
    image: o.image ? { id: o.image.id, properties: o.image.properties } : row.image_ref ? { id: row.image_ref, properties: {} } : null,
    availability_zone: row.availability_zone || null,
    requested_host: sys.requested_host || null,
    requested_node: sys.requested_node || null,
    scheduler_hints: json<Record<string, unknown>>(row.scheduler_hints, {}),
    ignore_hosts: o.ignoreHosts ?? [],
  };
}
