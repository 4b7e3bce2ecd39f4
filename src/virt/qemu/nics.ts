/**
 * NICs of a running QEMU guest, hot-plugged over QMP: a tap backend (netdev) and a virtio-net
 * device on it, named by nicIds(port) so the same NIC always has the same QEMU ids. Both calls
 * are idempotent: plugging a NIC that is there, or unplugging one that is gone, does nothing.
 */
import type { Vif } from '../../network/types.js';
import { nicIds, type GuestNic } from './process.js';
import { QmpError, type QmpClient } from './qmp.js';

/** How long a guest gets to release a NIC (ACPI eject) before detaching fails. */
export const UNPLUG_TIMEOUT_MS = 20_000;

export const nicOf = (vif: Vif): GuestNic => ({ port: vif.id, devname: vif.devname, mac: vif.address });

/** Ids of the devices added with an id (-device ... ,id= or device_add). */
async function peripherals(c: QmpClient): Promise<Set<string>> {
  const list = await c.execute<{ name: string }[]>('qom-list', { path: '/machine/peripheral' });
  return new Set(list.map((p) => p.name));
}

const isDuplicate = (e: unknown) => e instanceof QmpError && /duplicate/i.test(e.message);
const isMissing = (e: unknown) => e instanceof QmpError && (e.errorClass === 'DeviceNotFound' || /not found/i.test(e.message));

/**
 * Adds the tap backend and the virtio-net device. When the device cannot be added, a backend
 * this call created is removed again (nothing half-plugged is left).
 */
export async function plugNic(c: QmpClient, nic: GuestNic): Promise<void> {
  const ids = nicIds(nic.port);
  if ((await peripherals(c)).has(ids.device)) return;
  let added = false;
  try {
    await c.execute('netdev_add', { type: 'tap', id: ids.netdev, ifname: nic.devname, script: 'no', downscript: 'no' });
    added = true;
  } catch (e) {
    if (!isDuplicate(e)) throw new Error(`Cannot attach the tap ${nic.devname} of port ${nic.port}: ${qmpReason(e)}`, { cause: e });
  }
  try {
    await c.execute('device_add', { driver: 'virtio-net-pci', netdev: ids.netdev, mac: nic.mac, id: ids.device });
  } catch (e) {
    if (added) await c.execute('netdev_del', { id: ids.netdev }).catch(() => undefined);
    throw new Error(`Cannot add the NIC of port ${nic.port} to the guest: ${qmpReason(e)}`, { cause: e });
  }
}

/**
 * Asks the guest to release the NIC (ACPI eject), waits for QEMU's DEVICE_DELETED (up to
 * timeoutMs) and then removes the tap backend. Rejects, with the NIC still attached, when the
 * guest does not release it in time (a paused guest, or one without PCI hot-plug support).
 */
export async function unplugNic(c: QmpClient, nic: GuestNic, timeoutMs = UNPLUG_TIMEOUT_MS): Promise<void> {
  const ids = nicIds(nic.port);
  if ((await peripherals(c)).has(ids.device)) {
    const deleted = c.waitEvent('DEVICE_DELETED', timeoutMs, (e) => e.data?.device === ids.device);
    deleted.catch(() => undefined);
    try {
      await c.execute('device_del', { id: ids.device });
    } catch (e) {
      // Gone meanwhile; or still being removed after an earlier detach that timed out (wait on).
      if (isMissing(e)) return removeNetdev(c, ids.netdev);
      if (!/already in the process of unplug/i.test(String((e as Error).message)))
        throw new Error(`Cannot remove the NIC of port ${nic.port}: ${qmpReason(e)}`, { cause: e });
    }
    try {
      await deleted;
    } catch {
      // The event can race with a device that went away otherwise; trust what QEMU lists.
      if ((await peripherals(c)).has(ids.device))
        throw new Error(
          `The guest did not release the NIC of port ${nic.port} within ${Math.round(timeoutMs / 1000)} s ` +
            '(it must be running and support PCI hot-plug); the NIC is still attached.',
        );
    }
  }
  await removeNetdev(c, ids.netdev);
}

async function removeNetdev(c: QmpClient, id: string): Promise<void> {
  try {
    await c.execute('netdev_del', { id });
  } catch (e) {
    if (!isMissing(e)) throw new Error(`Cannot remove the tap backend ${id}: ${qmpReason(e)}`, { cause: e });
  }
}

const qmpReason = (e: unknown) => String((e as Error).message).replace(/^QMP [\w-]+: /, '');
