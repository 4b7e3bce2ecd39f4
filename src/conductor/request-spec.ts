/**
 * The scheduler's RequestSpec for instances recorded by the API. Placement constraints the API
 * accepted are read from the row: availability_zone, scheduler_hints, and the requested
 * destination: scheduler_hints `requested_destination` {host, node} (2.74 `host` /
 * `hypervisor_hostname`) or `force_hosts` / `force_nodes` (a forced `az:host:node`), or
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
  const hints = json<Record<string, any>>(row.scheduler_hints, {});
  const first = (v: unknown): string | null => (Array.isArray(v) && typeof v[0] === 'string' ? v[0] : typeof v === 'string' ? v : null);
  const dest = hints.requested_destination && typeof hints.requested_destination === 'object' ? hints.requested_destination : {};
  return {
    instance_uuids: uuids,
    project_id: row.project_id,
    user_id: row.user_id,
    flavor: { id: f.id, memory_mb: f.memory_mb, vcpus: f.vcpus, root_gb: f.root_gb, ephemeral_gb: f.ephemeral_gb, swap: f.swap, extra_specs: f.extra_specs ?? {} },
    image: o.image ? { id: o.image.id, properties: o.image.properties } : row.image_ref ? { id: row.image_ref, properties: {} } : null,
    availability_zone: row.availability_zone || null,
    requested_host: sys.requested_host || first(dest.host) || first(hints.force_hosts) || null,
    requested_node: sys.requested_node || first(dest.node) || first(hints.force_nodes) || null,
    scheduler_hints: hints,
    ignore_hosts: o.ignoreHosts ?? [],
  };
}
