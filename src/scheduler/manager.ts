/**
 * The scheduler service (topic `scheduler`).
 * - select_destinations {spec, num_alternates} (call): see SchedulerRpcApi.
 * - update_host_state {node_uuids?} (fanout, from the conductor): usage or capacity of those
 *   nodes changed (or, without node_uuids, the set of nodes did); refreshes the cache.
 * Records its own `nova-scheduler` services row with heartbeats, and audits allocations against
 * live instances (audit.ts) once at start and every config.auditIntervalSec (0: never).
 */
import { hostname } from 'node:os';
import type { Bus } from '../bus/bus.js';
import type { SchedulerConfig } from '../config.js';
import type { Sql } from '../db/sql.js';
import { invalid } from '../errors.js';
import { keepServiceAlive } from '../conductor/service-records.js';
import { logger } from '../util/log.js';
import { Scheduler } from './scheduler.js';
import { auditAllocations, type AuditResult } from './audit.js';
import { SCHEDULER_TOPIC, type RequestSpec } from './rpcapi.js';

const log = logger('scheduler');
const HEARTBEAT_SEC = 10;

export async function startScheduler(deps: { sql: Sql; bus: Bus; config: SchedulerConfig; host?: string; /** Seconds between heartbeats (default 10). */ reportIntervalSec?: number }): Promise<{ stop(): Promise<void>; scheduler: Scheduler; audit(): Promise<AuditResult> }> {
  const scheduler = new Scheduler(deps.sql, deps.config);
  await scheduler.cache.reload();
  const stopServe = await deps.bus.serve(SCHEDULER_TOPIC, async (method, args) => {
    switch (method) {
      case 'select_destinations':
        return scheduler.selectDestinations(checkSpec(args?.spec), Number(args?.num_alternates ?? 0) || 0);
      case 'update_host_state': {
        const ids = Array.isArray(args?.node_uuids) ? (args.node_uuids as unknown[]).filter((x): x is string => typeof x === 'string') : null;
        try {
          if (ids) for (const id of ids) await scheduler.cache.refreshNode(id);
          else scheduler.cache.markDirty();
        } catch (e) {
          // A hint only: the next reload or a failed claim corrects the cache anyway.
          scheduler.cache.markDirty();
          log.debug(`update_host_state failed: ${(e as Error).message}`);
        }
        return undefined;
      }
      default:
        throw invalid(`Unknown scheduler method '${method}'.`);
    }
  });
  const stopBeat = await keepServiceAlive(deps.sql, deps.host ?? (hostname() || 'controller'), 'nova-scheduler', deps.reportIntervalSec ?? HEARTBEAT_SEC, (e) =>
    log.warn('heartbeat failed', e),
  );
  const audit = startAudit(deps.sql, scheduler, deps.config.auditIntervalSec);
  return {
    scheduler,
    audit: audit.run,
    async stop() {
      await audit.stop();
      stopBeat();
      await stopServe();
    },
  };
}

/** Nodes refreshed one by one after an audit; past this many the whole cache is reloaded. */
const AUDIT_REFRESH_MAX = 50;

/**
 * Runs the audit now (in the background) and then every intervalSec, one run at a time; tells
 * the cache what changed. stop() waits for a run in progress.
 */
function startAudit(sql: Sql, scheduler: Scheduler, intervalSec: number): { run(): Promise<AuditResult>; stop(): Promise<void> } {
  let running: Promise<AuditResult> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const run = (): Promise<AuditResult> =>
    (running ??= (async () => {
      try {
        const r = await auditAllocations(sql);
        if (r.nodes.length > AUDIT_REFRESH_MAX) scheduler.cache.markDirty();
        else for (const n of r.nodes) await scheduler.cache.refreshNode(n);
        return r;
      } finally {
        running = null;
      }
    })());
  const tick = () => {
    if (stopped) return;
    run()
      .catch((e) => log.warn('allocation audit failed', e))
      .finally(() => {
        if (!stopped) (timer = setTimeout(tick, intervalSec * 1000)).unref();
      });
  };
  if (intervalSec > 0) tick();
  return {
    run,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}

/** Validates a RequestSpec received over the bus (shape and numbers), answering Invalid. */
function checkSpec(s: any): RequestSpec {
  const bad = (what: string) => invalid(`Invalid select_destinations request: ${what}.`);
  if (!s || typeof s !== 'object') throw bad('spec is missing');
  if (!Array.isArray(s.instance_uuids) || s.instance_uuids.length === 0 || !s.instance_uuids.every((u: unknown) => typeof u === 'string'))
    throw bad('instance_uuids must be a non-empty list of uuids');
  const f = s.flavor;
  if (!f || typeof f !== 'object') throw bad('flavor is missing');
  for (const k of ['memory_mb', 'vcpus', 'root_gb', 'ephemeral_gb', 'swap'])
    if (!Number.isInteger(f[k] ?? 0) || (f[k] ?? 0) < 0) throw bad(`flavor.${k} must be a non-negative integer`);
  for (const k of ['availability_zone', 'requested_host', 'requested_node'])
    if (s[k] != null && typeof s[k] !== 'string') throw bad(`${k} must be a string`);
  if (s.ignore_hosts != null && (!Array.isArray(s.ignore_hosts) || !s.ignore_hosts.every((h: unknown) => typeof h === 'string')))
    throw bad('ignore_hosts must be a list of host names');
  return {
    ...s,
    flavor: { ...f, ephemeral_gb: f.ephemeral_gb ?? 0, swap: f.swap ?? 0, extra_specs: f.extra_specs ?? {} },
    scheduler_hints: s.scheduler_hints ?? {},
  } as RequestSpec;
}
