/**
 * What the scheduler knows of one compute node: its capacity, what is allocated on it, its
 * service's health and its availability zone. Plain data, cheap to copy; filters and weighers
 * read it, never write it.
 */

/** Seconds without a heartbeat after which a service counts as down (Nova's service_down_time). */
export { DEFAULT_SERVICE_DOWN_TIME_SEC } from '../config.js';
import { DEFAULT_SERVICE_DOWN_TIME_SEC } from '../config.js';
export const DEFAULT_AVAILABILITY_ZONE = 'nova';

export interface Resources {
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
}

export interface HostState {
  node_uuid: string;
  host: string;
  /** hypervisor_hostname */
  node: string;
  total: Resources;
  reserved: Resources;
  ratio: Resources;
  used: Resources;
  instances: number;
  service: {
    exists: boolean;
    disabled: boolean;
    disabled_reason: string | null;
    forced_down: boolean;
    /** ms since epoch of the last heartbeat, 0 when never seen. */
    last_seen_up: number;
  };
  availability_zone: string;
  /** The aggregates this host belongs to, with their metadata (AZ, filter_tenant_id, extra-spec keys). */
  aggregates: HostAggregate[];
  /**
   * Consumers holding allocations on this node: instance uuids (and migration uuids while a
   * resize is in flight). Same-host, different-host and server-group filters read it.
   */
  consumers: Set<string>;
  /** Instances on this host in a task state that does I/O (building, resizing, snapshotting, ...). */
  io_ops: number;
  hypervisor_type: string;
  hypervisor_version: number;
  cpu_info: Record<string, unknown>;
  /** [architecture, hypervisor_type, vm_mode] triples this host can run (ImagePropertiesFilter). */
  supported_instances: [string, string, string][];
  /** Consecutive failed builds on this node, reset by a successful one (BuildFailureWeigher). */
  failed_builds: number;
}

export interface HostAggregate {
  id: number;
  name: string;
  metadata: Record<string, string>;
}

/** Task states counted as I/O operations (Nova's IoOpsFilter). */
export const IO_TASK_STATES = [
  'scheduling', 'block_device_mapping', 'networking', 'spawning',
  'resize_prep', 'resize_migrating', 'resize_migrated', 'resize_finish',
  'image_snapshot', 'image_backup', 'image_uploading', 'image_pending_upload',
  'rebuilding', 'rebuild_spawning', 'shelving', 'shelving_image_uploading', 'unshelving', 'migrating',
] as const;

export const RESOURCE_KINDS = ['vcpus', 'memory_mb', 'disk_gb'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** Usable capacity: (total - reserved) * allocation ratio, as placement computes it. */
export function capacity(h: HostState, kind: ResourceKind): number {
  return Math.floor((h.total[kind] - h.reserved[kind]) * h.ratio[kind]);
}

export function free(h: HostState, kind: ResourceKind): number {
  return capacity(h, kind) - h.used[kind];
}

/** The resources a flavor consumes on a node (swap is in MB and counts as disk). */
export function flavorResources(f: { vcpus: number; memory_mb: number; root_gb: number; ephemeral_gb: number; swap: number }): Resources {
  return { vcpus: f.vcpus, memory_mb: f.memory_mb, disk_gb: f.root_gb + f.ephemeral_gb + Math.ceil((f.swap || 0) / 1024) };
}

/** Whether the host's service is up at `now` (a heartbeat within downTimeSec, and not forced down). */
export function serviceUp(h: HostState, downTimeSec = DEFAULT_SERVICE_DOWN_TIME_SEC, now = Date.now()): boolean {
  return h.service.exists && !h.service.forced_down && now - h.service.last_seen_up <= downTimeSec * 1000;
}
