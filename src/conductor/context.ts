import type { Bus } from '../bus/bus.js';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import type { ImageClient } from '../image/client.js';
import { ComputeRpcApi } from '../compute/rpcapi.js';
import { SchedulerRpcApi, SCHEDULER_TOPIC } from '../scheduler/rpcapi.js';

/** What the conductor's task and DB helpers share. */
export interface ConductorContext {
  sql: Sql;
  bus: Bus;
  images: ImageClient;
  config: Config;
  compute: ComputeRpcApi;
  scheduler: SchedulerRpcApi;
  /** Tells every scheduler that usage on these nodes changed (all nodes when omitted). */
  hostStateChanged(nodeUuids?: string[]): void;
}

export function conductorContext(d: { sql: Sql; bus: Bus; images: ImageClient; config: Config }): ConductorContext {
  return {
    ...d,
    compute: new ComputeRpcApi(d.bus),
    scheduler: new SchedulerRpcApi(d.bus),
    hostStateChanged(nodeUuids) {
      if (nodeUuids && nodeUuids.length === 0) return;
      void d.bus.fanout(SCHEDULER_TOPIC, 'update_host_state', nodeUuids ? { node_uuids: nodeUuids } : {}).catch(() => undefined);
    },
  };
}
