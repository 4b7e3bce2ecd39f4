/**
 * Start-up cleanup of a compute host whose instances were evacuated while it was down (Nova's
 * _destroy_evacuated_instances). Runs in startCompute before any other recovery, so a guest of
 * an instance that now lives elsewhere is never adopted, powered on or reported as this host's.
 *
 * For each evacuation away from this host (migration status accepted, pre-migrating or done,
 * from the conductor): when the instance is no longer on this host (moved on, or deleted),
 * its guest here is destroyed (disks and all; its volumes are not touched: their attachments
 * belong to the new host now) and its taps are removed from this host's dataplane; its ports
 * stay (they are bound to the new host). A done evacuation is then marked completed. An
 * evacuation still in progress whose instance is still recorded here is left alone (the
 * conductor has not moved it yet). Per-migration failures are logged; the next start retries.
 */
import type { ConductorRpcApi } from '../conductor/rpcapi.js';
import type { Logger } from '../util/log.js';
import type { ComputeDriver } from '../virt/driver.js';
import type { InstanceNetworking } from './networking.js';

export async function destroyEvacuated(d: { host: string; driver: ComputeDriver; conductor: ConductorRpcApi; net: InstanceNetworking; log: Logger }): Promise<string[]> {
  const evacuations = await d.conductor.evacuationsFrom({ host: d.host });
  if (evacuations.length === 0) return [];
  const guests = new Set(await d.driver.listInstances());
  const destroyed: string[] = [];
  for (const { migration: m, instance } of evacuations) {
    const uuid = m.instance_uuid;
    try {
      if (instance && instance.host === d.host) {
        // Still here (not moved yet), or evacuated back here since: this host's own.
        if (m.status === 'done') await d.conductor.evacuationCleaned({ migration_uuid: m.uuid });
        continue;
      }
      if (guests.has(uuid)) {
        await d.driver.destroy(uuid);
        guests.delete(uuid);
        destroyed.push(uuid);
        d.log.info(`instance ${uuid} was evacuated to ${instance?.host ?? m.dest_compute ?? 'another host'} while this host was down: its guest here is destroyed`);
      }
      if (instance) await d.net.unplug(instance).catch((e) => d.log.warn(`removing the taps of evacuated instance ${uuid} failed`, e));
      if (m.status === 'done') await d.conductor.evacuationCleaned({ migration_uuid: m.uuid });
    } catch (e) {
      d.log.warn(`cleaning up evacuated instance ${uuid} failed`, e);
    }
  }
  return destroyed;
}
