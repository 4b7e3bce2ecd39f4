/**
 * Client side of the scheduler's RPC interface (topic `scheduler`).
 *
 * Version history:
 *   1.0 - select_destinations
 *   1.1 - hostsChanged: update_host_state fanout sent by the API (service and aggregate changes)
 */
import type { Bus } from '../bus/bus.js';
import type { Selection } from '../compute/rpcapi.js';

export const SCHEDULER_RPC_VERSION = '1.1';
export const SCHEDULER_TOPIC = 'scheduler';

/** What to place: one flavor for N instances, plus placement constraints. */
export interface RequestSpec {
  instance_uuids: string[];
  project_id: string;
  user_id: string;
  flavor: { id: number; memory_mb: number; vcpus: number; root_gb: number; ephemeral_gb: number; swap: number; extra_specs: Record<string, string> };
  image: { id: string | null; properties: Record<string, unknown> } | null;
  availability_zone: string | null;
  /** Forced or requested host/node (2.74 `host` / `hypervisor_hostname`). */
  requested_host?: string | null;
  requested_node?: string | null;
  scheduler_hints: Record<string, unknown>;
  /** Hosts already tried for this build: never chosen again. */
  ignore_hosts?: string[];
  /**
   * The server group of these instances (scheduler hint `group`), filled by the conductor.
   * `members` are the group's live instance uuids at request time (these instances included);
   * filters and weighers count them among a host's allocation consumers. The claim re-checks
   * the policy in the DB, so concurrent boots never break it.
   */
  group?: ServerGroupSpec | null;
}

export type ServerGroupPolicy = 'affinity' | 'anti-affinity' | 'soft-affinity' | 'soft-anti-affinity';

export interface ServerGroupSpec {
  uuid: string;
  policy: ServerGroupPolicy;
  /** rules.max_server_per_host (anti-affinity only); null means 1. */
  max_server_per_host: number | null;
  members: string[];
}

/**
 * The scheduler answers one list per instance: the chosen host first (its resources already
 * claimed for that instance) and then alternates (not claimed). When no host fits it raises
 * NoValidHost with a message saying why, per filter.
 */
export class SchedulerRpcApi {
  constructor(private readonly bus: Bus) {}

  selectDestinations(args: { spec: RequestSpec; num_alternates?: number }): Promise<Selection[][]> {
    return this.bus.call<Selection[][]>(SCHEDULER_TOPIC, 'select_destinations', { ...args, version: SCHEDULER_RPC_VERSION });
  }

  /**
   * Tells every scheduler that host facts changed (a service disabled or forced down, an
   * aggregate's hosts or metadata): each reloads its host cache before its next decision, so
   * a host disabled a moment ago never gets a new server. Best effort: a lost fanout is
   * corrected by the cache's own reload within a second.
   */
  async hostsChanged(): Promise<void> {
    await this.bus.fanout(SCHEDULER_TOPIC, 'update_host_state', {}).catch(() => undefined);
  }
}
