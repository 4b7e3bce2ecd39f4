/** The scheduler service: host selection over its cached host state, claims in the DB (topic `scheduler`). */
import type { Bus } from '../bus/bus.js';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { startScheduler } from '../scheduler/manager.js';
import { DEFAULT_SERVICE_DOWN_TIME_SEC } from '../config.js';

export async function startSchedulerService(opts: { config: Config; bus: Bus; sql: Sql; host?: string }): Promise<{ stop(): Promise<void> }> {
  const s = await startScheduler({ sql: opts.sql, bus: opts.bus, config: { ...opts.config.scheduler, serviceDownTimeSec: opts.config.serviceDownTimeSec ?? DEFAULT_SERVICE_DOWN_TIME_SEC }, host: opts.host, reportIntervalSec: opts.config.compute.reportIntervalSec });
  return { stop: s.stop };
}
