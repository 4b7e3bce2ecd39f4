/**
 * The scheduler's in-memory view of every compute node. Loaded whole at start and then at most
 * once per `maxAgeMs` (a few grouped queries, one per table, never per host or per decision);
 * single nodes are re-read when a claim disagrees with the cache or when the conductor reports
 * a change (`update_host_state`). Claims made through this scheduler are added locally at once,
 * so back-to-back decisions spread without waiting for a reload.
 */
import type { Sql } from '../db/sql.js';
import { inList } from '../db/sql.js';
import type { NodeRow as CapacityRow } from './claims.js';
import { DEFAULT_AVAILABILITY_ZONE, IO_TASK_STATES, type HostAggregate, type HostState, type Resources } from './host-state.js';

interface NodeRow extends CapacityRow {
  uuid: string;
  hypervisor_hostname: string;
  hypervisor_type: string;
  hypervisor_version: number;
  cpu_info: string | null;
  capabilities: string | null;
  failed_builds: number;
}
interface ServiceRow {
  host: string;
  disabled: number;
  disabled_reason: string | null;
  forced_down: number;
  last_seen_up: string | null;
}
interface AllocationRow {
  node_uuid: string;
  consumer_uuid: string;
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
}

const NODE_COLUMNS = `uuid, host, hypervisor_hostname, hypervisor_type, hypervisor_version, cpu_info, capabilities, vcpus, memory_mb, local_gb,
  cpu_allocation_ratio, ram_allocation_ratio, disk_allocation_ratio, reserved_host_cpus, reserved_host_memory_mb, reserved_host_disk_mb,
  failed_builds`;

/**
 * JSON columns parsed once per distinct text: thousands of nodes of one kind share the same
 * cpu_info and capabilities, and the parsed objects are read-only for filters.
 */
class JsonMemo {
  private seen = new Map<string, unknown>();
  parse<T>(text: string | null, fallback: T): T {
    if (!text) return fallback;
    let v = this.seen.get(text);
    if (v === undefined) {
      try {
        v = JSON.parse(text);
      } catch {
        v = fallback;
      }
      this.seen.set(text, v);
    }
    return (v ?? fallback) as T;
  }
}

type Triple = [string, string, string];
const isTriple = (t: unknown): t is Triple => Array.isArray(t) && t.length === 3 && t.every((x) => typeof x === 'string');

function supportedInstances(caps: unknown): Triple[] {
  const list = (caps as { supported_instances?: unknown } | null)?.supported_instances;
  return Array.isArray(list) ? list.filter(isTriple) : [];
}

/** Sums allocation rows into usage and consumers per node. */
function usageByNode(rows: AllocationRow[]): Map<string, { used: Resources; consumers: Set<string> }> {
  const out = new Map<string, { used: Resources; consumers: Set<string> }>();
  for (const a of rows) {
    let u = out.get(a.node_uuid);
    if (!u) out.set(a.node_uuid, (u = { used: { vcpus: 0, memory_mb: 0, disk_gb: 0 }, consumers: new Set() }));
    u.used.vcpus += Number(a.vcpus);
    u.used.memory_mb += Number(a.memory_mb);
    u.used.disk_gb += Number(a.disk_gb);
    u.consumers.add(a.consumer_uuid);
  }
  return out;
}

/** Longest in-place change journal kept between generations (see HostStateCache.changed). */
const JOURNAL_MAX = 4096;

export class HostStateCache {
  private hosts = new Map<string, HostState>();
  private loadedAt = 0;
  private dirty = true;
  private loading: Promise<void> | null = null;
  /** Bumped each time the HostState objects are replaced (a full load); in-place updates keep it. */
  generation = 0;
  /**
   * Node uuids updated in place (refreshNode, addUsage) since the generation last changed, oldest
   * first, so that a consumer can re-examine only those. Emptied when the generation changes;
   * past JOURNAL_MAX entries the generation is bumped instead (readers then start over).
   */
  changed: string[] = [];

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
    const io = [...IO_TASK_STATES];
    const [nodes, services, allocations, members, metadata, ioOps] = await Promise.all([
      this.sql.all<NodeRow>(`SELECT ${NODE_COLUMNS} FROM compute_nodes WHERE deleted = 0`),
      this.sql.all<ServiceRow>(
        `SELECT host, disabled, disabled_reason, forced_down, last_seen_up FROM services WHERE "binary" = 'nova-compute' AND deleted = 0`,
      ),
      this.sql.all<AllocationRow>('SELECT node_uuid, consumer_uuid, vcpus, memory_mb, disk_gb FROM allocations'),
      this.sql.all<{ host: string; id: number; name: string }>(
        `SELECT ah.host AS host, a.id AS id, a.name AS name FROM aggregate_hosts ah
           JOIN aggregates a ON a.id = ah.aggregate_id AND a.deleted = 0 ORDER BY a.id`,
      ),
      this.sql.all<{ aggregate_id: number; key: string; value: string }>(
        `SELECT am.aggregate_id AS aggregate_id, am.key AS key, am.value AS value FROM aggregate_metadata am
           JOIN aggregates a ON a.id = am.aggregate_id AND a.deleted = 0`,
      ),
      this.sql.all<{ host: string; node: string; n: number }>(
        `SELECT host, node, COUNT(*) AS n FROM instances WHERE deleted = 0 AND task_state IN ${inList(io.length)} GROUP BY host, node`,
        io,
      ),
    ]);
    const svc = new Map(services.map((s) => [s.host, s]));
    const use = usageByNode(allocations);
    // One shared object per aggregate (filters only read them).
    const aggs = new Map<number, HostAggregate>();
    for (const m of members) if (!aggs.has(Number(m.id))) aggs.set(Number(m.id), { id: Number(m.id), name: m.name, metadata: {} });
    for (const md of metadata) {
      const a = aggs.get(Number(md.aggregate_id));
      if (a) a.metadata[md.key] = md.value;
    }
    const byHost = new Map<string, HostAggregate[]>();
    for (const m of members) {
      const list = byHost.get(m.host);
      const a = aggs.get(Number(m.id))!;
      if (list) list.push(a);
      else byHost.set(m.host, [a]);
    }
    const io_ops = new Map(ioOps.map((r) => [`${r.host}\0${r.node}`, Number(r.n)]));
    const memo = new JsonMemo();
    const noAggregates: HostAggregate[] = [];
    const next = new Map<string, HostState>();
    for (const n of nodes) {
      const u = use.get(n.uuid);
      const s = svc.get(n.host);
      const aggregates = byHost.get(n.host) ?? noAggregates;
      next.set(n.uuid, {
        node_uuid: n.uuid,
        host: n.host,
        node: n.hypervisor_hostname,
        total: { vcpus: n.vcpus, memory_mb: n.memory_mb, disk_gb: n.local_gb },
        reserved: { vcpus: n.reserved_host_cpus, memory_mb: n.reserved_host_memory_mb, disk_gb: Math.ceil(n.reserved_host_disk_mb / 1024) },
        ratio: { vcpus: n.cpu_allocation_ratio, memory_mb: n.ram_allocation_ratio, disk_gb: n.disk_allocation_ratio },
        used: u ? u.used : { vcpus: 0, memory_mb: 0, disk_gb: 0 },
        instances: u ? u.consumers.size : 0,
        service: {
          exists: !!s,
          disabled: !!s?.disabled,
          disabled_reason: s?.disabled_reason ?? null,
          forced_down: !!s?.forced_down,
          last_seen_up: s?.last_seen_up ? Date.parse(s.last_seen_up) : 0,
        },
        availability_zone: aggregates.find((a) => a.metadata.availability_zone)?.metadata.availability_zone ?? DEFAULT_AVAILABILITY_ZONE,
        aggregates,
        consumers: u ? u.consumers : new Set(),
        io_ops: io_ops.get(`${n.host}\0${n.hypervisor_hostname}`) ?? 0,
        hypervisor_type: n.hypervisor_type,
        hypervisor_version: Number(n.hypervisor_version),
        cpu_info: memo.parse<Record<string, unknown>>(n.cpu_info, {}),
        supported_instances: supportedInstances(memo.parse<unknown>(n.capabilities, {})),
        failed_builds: Number(n.failed_builds ?? 0),
      });
    }
    this.hosts = next;
    this.generation++;
    this.changed = [];
    this.loadedAt = started;
  }

  /**
   * Re-reads one node's allocations (usage, instance count, consumers) and its failed-build
   * count from the DB (after a failed claim or a reported change).
   */
  async refreshNode(nodeUuid: string): Promise<void> {
    const h = this.hosts.get(nodeUuid);
    if (!h) {
      this.dirty = true;
      return;
    }
    const [rows, node] = await Promise.all([
      this.sql.all<AllocationRow>('SELECT node_uuid, consumer_uuid, vcpus, memory_mb, disk_gb FROM allocations WHERE node_uuid = ?', [nodeUuid]),
      this.sql.get<{ failed_builds: number }>('SELECT failed_builds FROM compute_nodes WHERE uuid = ? AND deleted = 0', [nodeUuid]),
    ]);
    if (!node) {
      this.dirty = true;
      return;
    }
    const u = usageByNode(rows).get(nodeUuid);
    h.used = u ? u.used : { vcpus: 0, memory_mb: 0, disk_gb: 0 };
    h.consumers = u ? u.consumers : new Set();
    h.instances = h.consumers.size;
    h.failed_builds = Number(node.failed_builds ?? 0);
    this.noteChange(nodeUuid);
  }

  private noteChange(nodeUuid: string): void {
    if (this.changed.length >= JOURNAL_MAX) {
      this.generation++;
      this.changed = [];
    }
    this.changed.push(nodeUuid);
  }

  /** Records locally a claim that has just been committed in the DB. */
  addUsage(nodeUuid: string, r: Resources, consumer?: string): void {
    const h = this.hosts.get(nodeUuid);
    if (!h) return;
    if (consumer) h.consumers.add(consumer);
    h.used = { vcpus: h.used.vcpus + r.vcpus, memory_mb: h.used.memory_mb + r.memory_mb, disk_gb: h.used.disk_gb + r.disk_gb };
    h.instances++;
    this.noteChange(nodeUuid);
  }
}
