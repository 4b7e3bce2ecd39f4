/**
 * The scheduler's in-memory view of every compute node. Loaded whole at start and then at most
 * once per `maxAgeMs` (one grouped query per table, never per decision); single nodes are
 * re-read when a claim disagrees with the cache or when the conductor reports a change
 * (`update_host_state`). Claims made through this scheduler are added locally at once, so
 * back-to-back decisions spread without waiting for a reload.
 */
import type { Sql } from '../db/sql.js';
import { nodeUsage, type NodeRow as CapacityRow } from './claims.js';
import { DEFAULT_AVAILABILITY_ZONE, type HostState, type Resources } from './host-state.js';

interface NodeRow extends CapacityRow {
  uuid: string;
  hypervisor_hostname: string;
}
interface ServiceRow {
  host: string;
  disabled: number;
  disabled_reason: string | null;
  forced_down: number;
  last_seen_up: string | null;
}

export class HostStateCache {
  private hosts = new Map<string, HostState>();
  private loadedAt = 0;
  private dirty = true;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly sql: Sql,
    private readonly maxAgeMs = 1000,
  ) {}

  get size(): number {
    return this.hosts.size;
  }
  get(nodeUuid: string): HostState | undefined {
    return this.hosts.get(nodeUuid);
  }
  all(): Iterable<HostState> {
    return this.hosts.values();
  }
  ageMs(): number {
    return Date.now() - this.loadedAt;
  }
  /** Forces a full reload before the next decision (e.g. a new compute node appeared). */
  markDirty(): void {
    this.dirty = true;
  }

  /** Reloads when dirty or older than maxAgeMs; concurrent callers share one reload. */
  async ensureFresh(): Promise<void> {
    if (!this.dirty && this.ageMs() < this.maxAgeMs) return;
    await this.reload();
  }

  reload(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = null));
    return this.loading;
  }

  private async load(): Promise<void> {
    this.dirty = false;
    const started = Date.now();
    const [nodes, services, usage, zones] = await Promise.all([
      this.sql.all<NodeRow>('SELECT * FROM compute_nodes WHERE deleted = 0'),
      this.sql.all<ServiceRow>(
        "SELECT host, disabled, disabled_reason, forced_down, last_seen_up FROM services WHERE binary = 'nova-compute' AND deleted = 0",
      ),
      this.sql.all<{ node_uuid: string; v: number; m: number; d: number; n: number }>(
        'SELECT node_uuid, SUM(vcpus) AS v, SUM(memory_mb) AS m, SUM(disk_gb) AS d, COUNT(*) AS n FROM allocations GROUP BY node_uuid',
      ),
      this.sql.all<{ host: string; value: string }>(
        `SELECT ah.host AS host, am.value AS value FROM aggregate_hosts ah
           JOIN aggregates a ON a.id = ah.aggregate_id AND a.deleted = 0
           JOIN aggregate_metadata am ON am.aggregate_id = a.id AND am.key = 'availability_zone'`,
      ),
    ]);
    const svc = new Map(services.map((s) => [s.host, s]));
    const use = new Map(usage.map((u) => [u.node_uuid, u]));
    const az = new Map(zones.map((z) => [z.host, z.value]));
    const next = new Map<string, HostState>();
    for (const n of nodes) {
      const u = use.get(n.uuid);
      const s = svc.get(n.host);
      next.set(n.uuid, {
        node_uuid: n.uuid,
        host: n.host,
        node: n.hypervisor_hostname,
        total: { vcpus: n.vcpus, memory_mb: n.memory_mb, disk_gb: n.local_gb },
        reserved: { vcpus: n.reserved_host_cpus, memory_mb: n.reserved_host_memory_mb, disk_gb: Math.ceil(n.reserved_host_disk_mb / 1024) },
        ratio: { vcpus: n.cpu_allocation_ratio, memory_mb: n.ram_allocation_ratio, disk_gb: n.disk_allocation_ratio },
        used: { vcpus: Number(u?.v ?? 0), memory_mb: Number(u?.m ?? 0), disk_gb: Number(u?.d ?? 0) },
        instances: Number(u?.n ?? 0),
        service: {
          exists: !!s,
          disabled: !!s?.disabled,
          disabled_reason: s?.disabled_reason ?? null,
          forced_down: !!s?.forced_down,
          last_seen_up: s?.last_seen_up ? Date.parse(s.last_seen_up) : 0,
        },
        availability_zone: az.get(n.host) ?? DEFAULT_AVAILABILITY_ZONE,
        // TODO(issue 5, resource tracking): load these from the DB.
        aggregates: [],
        consumers: new Set(),
        io_ops: 0,
        hypervisor_type: '',
        hypervisor_version: 0,
        cpu_info: {},
        supported_instances: [],
        failed_builds: 0,
      });
    }
    this.hosts = next;
    this.loadedAt = started;
  }

  /** Re-reads one node's usage from the DB (after a failed claim or a reported change). */
  async refreshNode(nodeUuid: string): Promise<void> {
    const h = this.hosts.get(nodeUuid);
    if (!h) {
      this.dirty = true;
      return;
    }
    const u = await nodeUsage(this.sql, nodeUuid);
    h.used = { vcpus: u.vcpus, memory_mb: u.memory_mb, disk_gb: u.disk_gb };
    h.instances = u.instances;
  }

  /** Records locally a claim that has just been committed in the DB. */
  addUsage(nodeUuid: string, r: Resources, consumer?: string): void {
    const h = this.hosts.get(nodeUuid);
    if (!h) return;
    if (consumer) h.consumers.add(consumer);
    h.used = { vcpus: h.used.vcpus + r.vcpus, memory_mb: h.used.memory_mb + r.memory_mb, disk_gb: h.used.disk_gb + r.disk_gb };
    h.instances++;
  }
}
