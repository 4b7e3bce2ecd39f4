/**
 * The compute service of one host (topic `compute.<host>`). On start: driver.init, a resource
 * report (so the scheduler sees the host at once), removal of guests evacuated away while it
 * was down (evacuated.ts), recovery of operations a restart interrupted (recover.ts), then two staggered periodic tasks on
 * one timer each (never per instance): resource report + heartbeat every reportIntervalSec,
 * power-state sync every powerSyncIntervalSec. Reaches the DB only through the conductor.
 */
import type { Bus } from '../bus/bus.js';
import type { ComputeConfig } from '../config.js';
import { ConductorRpcApi } from '../conductor/rpcapi.js';
import { invalid } from '../errors.js';
import type { ImageClient } from '../image/client.js';
import { logger } from '../util/log.js';
import type { ComputeDriver } from '../virt/driver.js';
import { ComputeManager } from './compute-manager.js';
import type { HostDataplane } from './networking.js';
import type { VolumeClient } from '../volume/client.js';
import type { NetworkClient } from '../network/client.js';
import { syncPowerStates } from './power-sync.js';
import { recoverInterrupted } from './recover.js';
import { recoverVolumes } from './volume-recovery.js';
import { withInventory } from './inventory.js';
import { ComputeRpcApi, computeTopic } from './rpcapi.js';
import { getConsoleConnectInfo } from './consoles.js';
import { evacuateHere } from './evacuate.js';
import { destroyEvacuated } from './evacuated.js';

export interface ComputeService {
  manager: ComputeManager;
  /** Runs one power-state sync now (tests, and the periodic task). */
  syncPowerStates(): Promise<{ updated: number; unknown: string[] }>;
  stop(): Promise<void>;
}

/** Runs fn every intervalSec after a random first delay (spreads many hosts); returns a stopper. */
function periodic(intervalSec: number, fn: () => Promise<unknown>, onError: (e: unknown) => void): () => void {
  const ms = Math.max(50, intervalSec * 1000);
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const tick = () => {
    void fn()
      .catch(onError)
      .finally(() => {
        if (!stopped) (timer = setTimeout(tick, ms)).unref();
      });
  };
  (timer = setTimeout(tick, Math.random() * ms)).unref();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

export async function startCompute(deps: {
  bus: Bus;
  host: string;
  driver: ComputeDriver;
  images: ImageClient;
  config: ComputeConfig;
  /** The network service and this host's dataplane (none: instances get no ports). */
  network?: { client: NetworkClient; dataplane: HostDataplane | null };
  /** The block storage service (none: volume operations fail with a clear error). */
  volumes?: VolumeClient;
}): Promise<ComputeService> {
  const { bus, host, driver, config } = deps;
  const log = logger(`compute.${host}`);
  const conductor = new ConductorRpcApi(bus);
  const m = new ComputeManager(host, driver, conductor, new ComputeRpcApi(bus), deps.images, log, deps.network, deps.volumes);
  await driver.init(host);
  const report = async () => conductor.computeNodeUpdate({ host, resources: withInventory(await driver.availableResources(), config) });
  await report();
  const cleanEvacuated = () => destroyEvacuated({ host, driver, conductor, net: m.net, log });
  // Guests of instances evacuated away while this host was down go first: never adopted.
  await cleanEvacuated().catch((e) => log.warn('cleaning up evacuated instances failed', e));
  await recoverInterrupted({ host, driver, conductor, log, volumes: m.vols });
  if (deps.volumes) await recoverVolumes({ host, driver, conductor, volumes: deps.volumes, log, instances: await conductor.instancesOnHost({ host }) });
  const reported = new Set<string>();
  // Guests the DB does not place here may be of instances evacuated away while this host was
  // cut off (its compute kept running): removed at once, so no instance runs twice.
  const sync = async () => {
    const r = await syncPowerStates({ host, driver, conductor, locks: m.locks, log, reported });
    if (r.unknown.length === 0) return r;
    const gone = new Set(await cleanEvacuated());
    return { ...r, unknown: r.unknown.filter((u) => !gone.has(u)) };
  };

  const handlers: Record<string, (a: any) => Promise<unknown>> = {
    build_and_run_instance: (a) => m.buildAndRunInstance(a),
    terminate_instance: (a) => m.terminateInstance(a),
    reboot_instance: (a) => m.rebootInstance(a),
    stop_instance: (a) => m.stopInstance(a),
    start_instance: (a) => m.startInstance(a),
    pause_instance: (a) => m.pauseInstance(a),
    unpause_instance: (a) => m.unpauseInstance(a),
    suspend_instance: (a) => m.suspendInstance(a),
    resume_instance: (a) => m.resumeInstance(a),
    rebuild_instance: (a) => m.rebuildInstance(a),
    resize_instance: (a) => m.resizeInstance(a),
    finish_resize: (a) => m.finishResize(a),
    confirm_resize: (a) => m.confirmResize(a),
    finish_revert_resize: (a) => m.finishRevertResize(a),
    revert_resize: (a) => m.revertResize(a),
    snapshot_instance: (a) => m.snapshotInstance(a),
    get_console_output: (a) => m.getConsoleOutput(a),
    get_console_connect_info: (a) => getConsoleConnectInfo({ host, driver }, a),
    attach_interface: (a) => m.attachInterface(a),
    detach_interface: (a) => m.detachInterface(a),
    attach_volume: (a) => m.attachVolume(a),
    detach_volume: (a) => m.detachVolume(a),
    shelve_instance: (a) => m.shelveInstance(a),
    shelve_offload_instance: (a) => m.shelveOffloadInstance(a),
    unshelve_instance: (a) => m.unshelveInstance(a),
    evacuate_instance: (a) => evacuateHere({ host, driver, conductor, net: m.net, vols: m.vols, locks: m.locks, log }, a),
  };
  const stopServe = await bus.serve(computeTopic(host), (method, args) => {
    const h = handlers[method];
    if (!h) throw invalid(`Unknown compute method '${method}'.`);
    if (!args?.instance || typeof args.instance.uuid !== 'string') throw invalid(`Compute request ${method} has no instance.`);
    if (method !== 'get_console_output' && method !== 'get_console_connect_info' && typeof args.request_id !== 'string') throw invalid(`Compute request ${method} has no request_id.`);
    return h(args);
  });
  const onError = (what: string) => (e: unknown) => log.warn(`${what} failed`, e);
  const stops = [periodic(config.reportIntervalSec, report, onError('resource report')), periodic(config.powerSyncIntervalSec, sync, onError('power sync'))];
  return {
    manager: m,
    syncPowerStates: sync,
    async stop() {
      for (const s of stops) s();
      await stopServe();
      await driver.close();
    },
  };
}
