/**
 * Pre-filters: narrow the hosts a decision looks at before any per-host filter runs, from an
 * index of the cache's contents (rebuilt when the cache loads new HostState objects, i.e. when
 * its generation changes). The index only ever narrows to a superset of what the filters would
 * pass: the per-host filters still run on the candidates, so results are the same as a full
 * scan. What a pre-filter leaves out is not counted as a rejection; when nothing passes, the
 * scheduler ranks the whole cache once more to explain why (see Scheduler.rank).
 *  - requested host / node (2.74, forced hosts): only those nodes (the others are not
 *    considered at all, as in a full scan).
 *  - availability zone (when AvailabilityZoneFilter is enabled): only the hosts in that zone.
 */
import type { HostState } from './host-state.js';
import type { HostStateCache } from './host-state-cache.js';
import type { RequestSpec } from './rpcapi.js';

/** The order rankHosts breaks weight ties in: host name, then node name, then node uuid. */
export function tieOrder(a: HostState, b: HostState): number {
  if (a.host !== b.host) return a.host < b.host ? -1 : 1;
  if (a.node !== b.node) return a.node < b.node ? -1 : 1;
  return a.node_uuid < b.node_uuid ? -1 : a.node_uuid > b.node_uuid ? 1 : 0;
}

export interface Candidates {
  /** In tieOrder. */
  hosts: readonly HostState[];
  /** True when a pre-filter left out hosts that a full scan would have counted as rejected. */
  narrowed: boolean;
}

export class CandidateIndex {
  private generation = -1;
  private all: HostState[] = [];
  private byZone = new Map<string, HostState[]>();
  private byHost = new Map<string, HostState[]>();
  private byNode = new Map<string, HostState[]>();

  /** zoneFilter: whether the availability-zone pre-filter applies (AvailabilityZoneFilter enabled). */
  constructor(
    private readonly cache: HostStateCache,
    private readonly zoneFilter: boolean,
  ) {}

  private refresh(): void {
    if (this.generation === this.cache.generation) return;
    const add = (m: Map<string, HostState[]>, k: string, h: HostState) => {
      const l = m.get(k);
      if (l) l.push(h);
      else m.set(k, [h]);
    };
    this.byZone = new Map();
    this.byHost = new Map();
    this.byNode = new Map();
    // In rank tie order (host, node, node uuid), so that every list below is too.
    this.all = [...this.cache.all()].sort(tieOrder);
    for (const h of this.all) {
      add(this.byZone, h.availability_zone, h);
      add(this.byHost, h.host, h);
      add(this.byNode, h.node, h);
    }
    this.generation = this.cache.generation;
  }

  /** Every host of the cache, minus `exclude` (node uuids). */
  everything(exclude?: ReadonlySet<string>): HostState[] {
    this.refresh();
    return exclude?.size ? this.all.filter((h) => !exclude.has(h.node_uuid)) : this.all;
  }

  /** The hosts worth filtering for spec, minus `exclude` (node uuids already lost this decision). */
  candidates(spec: RequestSpec, exclude?: ReadonlySet<string>): Candidates {
    this.refresh();
    let hosts: HostState[];
    let narrowed = false;
    if (spec.requested_host) hosts = this.byHost.get(spec.requested_host) ?? [];
    else if (spec.requested_node) hosts = this.byNode.get(spec.requested_node) ?? [];
    else if (this.zoneFilter && spec.availability_zone) {
      hosts = this.byZone.get(spec.availability_zone) ?? [];
      narrowed = hosts.length !== this.all.length;
    } else hosts = this.all;
    if (exclude?.size) hosts = hosts.filter((h) => !exclude.has(h.node_uuid));
    return { hosts, narrowed };
  }
}
