/** Fixture builders for scheduler tests: makeHost().named('h1').memory(8192).used({memory_mb: 4096}).build(). */
import { randomUUID } from 'node:crypto';
import type { HostState, Resources } from './host-state.js';
import type { RequestSpec } from './rpcapi.js';

class HostBuilder {
  private h: HostState;
  private instancesSet = false;
  constructor() {
    const name = `host-${randomUUID().slice(0, 8)}`;
    this.h = {
      node_uuid: randomUUID(),
      host: name,
      node: name,
      total: { vcpus: 8, memory_mb: 16384, disk_gb: 100 },
      reserved: { vcpus: 0, memory_mb: 0, disk_gb: 0 },
      ratio: { vcpus: 1, memory_mb: 1, disk_gb: 1 },
      used: { vcpus: 0, memory_mb: 0, disk_gb: 0 },
      instances: 0,
      service: { exists: true, disabled: false, disabled_reason: null, forced_down: false, last_seen_up: Date.now() },
      availability_zone: 'nova',
      aggregates: [],
      consumers: new Set(),
      io_ops: 0,
      hypervisor_type: 'fake',
      hypervisor_version: 1000,
      cpu_info: {},
      supported_instances: [['x86_64', 'fake', 'hvm']],
      failed_builds: 0,
    };
  }
  named(n: string) {
    this.h.host = n;
    this.h.node = n;
    return this;
  }
  total(r: Partial<Resources>) {
    this.h.total = { ...this.h.total, ...r };
    return this;
  }
  memory(mb: number) {
    return this.total({ memory_mb: mb });
  }
  used(r: Partial<Resources>) {
    this.h.used = { ...this.h.used, ...r };
    return this;
  }
  reserved(r: Partial<Resources>) {
    this.h.reserved = { ...this.h.reserved, ...r };
    return this;
  }
  ratio(r: Partial<Resources>) {
    this.h.ratio = { ...this.h.ratio, ...r };
    return this;
  }
  service(s: Partial<HostState['service']>) {
    this.h.service = { ...this.h.service, ...s };
    return this;
  }
  zone(az: string) {
    this.h.availability_zone = az;
    return this;
  }
  /** Adds the host to an aggregate (ids count up per builder). */
  aggregate(name: string, metadata: Record<string, string> = {}) {
    this.h.aggregates.push({ id: this.h.aggregates.length + 1, name, metadata: { ...metadata } });
    return this;
  }
  /** Allocation consumers (instance or migration uuids) on the host; instances counts them too unless set. */
  consumers(...uuids: string[]) {
    for (const u of uuids) this.h.consumers.add(u);
    if (!this.instancesSet) this.h.instances = this.h.consumers.size;
    return this;
  }
  instances(n: number) {
    this.h.instances = n;
    this.instancesSet = true;
    return this;
  }
  ioOps(n: number) {
    this.h.io_ops = n;
    return this;
  }
  hypervisor(type: string, version: number) {
    this.h.hypervisor_type = type;
    this.h.hypervisor_version = version;
    return this;
  }
  cpuInfo(info: Record<string, unknown>) {
    this.h.cpu_info = structuredClone(info);
    return this;
  }
  /** [architecture, hypervisor type, vm mode] triples, replacing the default x86_64/fake/hvm. */
  supports(triples: [string, string, string][]) {
    this.h.supported_instances = triples.map((t) => [...t] as [string, string, string]);
    return this;
  }
  failedBuilds(n: number) {
    this.h.failed_builds = n;
    return this;
  }
  build(): HostState {
    return structuredClone(this.h);
  }
}

export const makeHost = () => new HostBuilder();

export function makeSpec(over: Partial<Omit<RequestSpec, 'flavor'>> & { flavor?: Partial<RequestSpec['flavor']> } = {}): RequestSpec {
  const { flavor, ...rest } = over;
  return {
    instance_uuids: [randomUUID()],
    project_id: 'p1',
    user_id: 'u1',
    flavor: { id: 1, memory_mb: 512, vcpus: 1, root_gb: 1, ephemeral_gb: 0, swap: 0, extra_specs: {}, ...flavor },
    image: null,
    availability_zone: null,
    scheduler_hints: {},
    ...rest,
  };
}
