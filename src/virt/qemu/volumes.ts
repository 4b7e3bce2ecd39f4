/**
 * Volumes of QEMU guests: each a virtio-blk device on a block node (QEMU's -blockdev) over the
 * volume's file, as connection_info names it. A guest's definition records its volumes, so a
 * restart, start, reboot, restore or re-adoption gives it the same disks; a running guest gets
 * them by hot-plug over QMP (blockdev-add, device_add) and loses them by hot-unplug (device_del,
 * wait for the guest to release the device, blockdev-del).
 *
 * Contracts:
 * - A volume's QEMU ids are fixed by its id (volumeIds), and its serial is the first 20
 *   characters of the id (virtio-blk's limit), so the guest finds it in /sys/block/vdX/serial.
 * - Data volumes sit at a fixed PCI slot (0x10 and up), chosen when they are first recorded and
 *   kept in guest.json: a guest started again, or restored from a suspend (whose saved memory
 *   needs the same devices at the same addresses), has them where they were. The boot volume
 *   (boot_index 0) takes the root disk's place instead.
 * - Shareable (multiattach) volumes are opened without file locking and with share-rw; others
 *   are locked by QEMU, so one file is never written by two guests at once by accident.
 * - plugVolume and unplugVolume are idempotent; unplugVolume rejects, with the volume still
 *   attached, when the guest does not release it in time.
 */
import { createHash } from 'node:crypto';
import type { VolumeDevice } from '../../volume/types.js';
import { QmpError, type QmpClient } from './qmp.js';

/** One volume of a guest, as guest.json records it. */
export interface GuestVolume {
  id: string;
  /** The device name Nova knows it by (/dev/vdb); the guest names its disks itself. */
  device: string;
  /** 0: the boot volume (the guest's root disk); null: a data volume. */
  bootIndex: number | null;
  path: string;
  format: 'qcow2' | 'raw';
  readOnly: boolean;
  shareable: boolean;
  /** PCI slot on bus 0 of a data volume (absent for the boot volume). */
  slot?: number;
}

/** The first PCI slot of data volumes; slots below stay for the devices QEMU places itself. */
export const FIRST_VOLUME_SLOT = 0x10;
const LAST_SLOT = 0x1f;

export const volumeOf = (v: VolumeDevice): GuestVolume => ({
  id: v.volume_id,
  device: v.device_name,
  bootIndex: v.boot_index === 0 ? 0 : null,
  path: v.connection_info.data.path,
  format: v.connection_info.data.format,
  readOnly: v.connection_info.data.access_mode === 'ro',
  shareable: !!v.connection_info.data.shareable,
});

/**
 * QEMU ids of a volume: the block node (node names are at most 31 characters, so a hash of the
 * id), the virtio-blk device, and the serial the guest sees.
 */
export function volumeIds(volumeId: string): { node: string; device: string; serial: string } {
  const hash = createHash('sha256').update(volumeId).digest('hex').slice(0, 24);
  return { node: `vol-${hash}`, device: `volume-${volumeId.replace(/[^A-Za-z0-9._-]/g, '_')}`, serial: volumeId.slice(0, 20) };
}

/** blockdev-add's argument (also -blockdev's JSON form) for a volume. */
export function blockdevOf(v: GuestVolume): Record<string, unknown> {
  return {
    driver: v.format,
    'node-name': volumeIds(v.id).node,
    'read-only': v.readOnly,
    'discard': 'unmap',
    cache: { direct: false, 'no-flush': false },
    file: { driver: 'file', filename: v.path, locking: v.shareable ? 'off' : 'auto' },
  };
}

/** device_add's argument (also -device's JSON form) for a volume; bootindex for the boot volume. */
export function deviceOf(v: GuestVolume, bootindex?: number): Record<string, unknown> {
  const ids = volumeIds(v.id);
  return {
    driver: 'virtio-blk-pci',
    drive: ids.node,
    id: ids.device,
    serial: ids.serial,
    ...(v.shareable ? { 'share-rw': true } : {}),
    ...(v.slot !== undefined ? { bus: 'pci.0', addr: `0x${v.slot.toString(16)}` } : {}),
    ...(bootindex !== undefined ? { bootindex } : {}),
  };
}

/**
 * -device's argument for a volume, in the key=value syntax: QEMU creates JSON -device options
 * only after all the others, which would put a boot volume behind the config drive.
 */
export function deviceArg(v: GuestVolume, bootindex?: number): string {
  return Object.entries(deviceOf(v, bootindex))
    .map(([k, val]) => (k === 'driver' ? String(val) : `${k}=${val === true ? 'on' : String(val).replace(/,/g, ',,')}`))
    .join(',');
}

/** The command-line arguments of the data volumes, in device-name order. */
export function dataVolumeArgs(volumes: GuestVolume[]): string[] {
  return [...volumes]
    .filter((v) => v.bootIndex !== 0)
    .sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : 0))
    .flatMap((v) => ['-blockdev', JSON.stringify(blockdevOf(v)), '-device', deviceArg(v)]);
}

/** The boot volume, when the guest boots from one. */
export const bootVolume = (volumes: GuestVolume[] | undefined): GuestVolume | null => volumes?.find((v) => v.bootIndex === 0) ?? null;

/** The volume with a free PCI slot (the lowest not taken by the other volumes); Error when none is left. */
export function withSlot(v: GuestVolume, others: GuestVolume[]): GuestVolume {
  if (v.bootIndex === 0) return { ...v, slot: undefined };
  const taken = new Set(others.filter((o) => o.id !== v.id).map((o) => o.slot));
  if (v.slot !== undefined && !taken.has(v.slot)) return v;
  for (let s = FIRST_VOLUME_SLOT; s <= LAST_SLOT; s++) if (!taken.has(s)) return { ...v, slot: s };
  throw new Error(`Cannot attach volume ${v.id}: the guest has no free PCI slot left for another disk (at most ${LAST_SLOT - FIRST_VOLUME_SLOT + 1} volumes).`);
}

/** Ids of the devices added with an id (-device ... id= or device_add). */
async function peripherals(c: QmpClient): Promise<Set<string>> {
  const list = await c.execute<{ name: string }[]>('qom-list', { path: '/machine/peripheral' });
  return new Set(list.map((p) => p.name));
}

async function hasNode(c: QmpClient, node: string): Promise<boolean> {
  const nodes = await c.execute<{ 'node-name'?: string }[]>('query-named-block-nodes', { flat: true });
  return nodes.some((n) => n['node-name'] === node);
}

const isMissing = (e: unknown) => e instanceof QmpError && (e.errorClass === 'DeviceNotFound' || /not found|cannot find/i.test(e.message));
const qmpReason = (e: unknown) => String((e as Error).message).replace(/^QMP [\w-]+: /, '');

/**
 * Opens the volume's file as a block node and adds its virtio-blk device. When the device cannot
 * be added, a node this call created is removed again (nothing half-plugged is left).
 */
export async function plugVolume(c: QmpClient, v: GuestVolume): Promise<void> {
  const ids = volumeIds(v.id);
  if ((await peripherals(c)).has(ids.device)) return;
  let added = false;
  if (!(await hasNode(c, ids.node))) {
    try {
      await c.execute('blockdev-add', blockdevOf(v));
      added = true;
    } catch (e) {
      throw new Error(`Cannot open volume ${v.id} (${v.path}): ${qmpReason(e)}`, { cause: e });
    }
  }
  try {
    await c.execute('device_add', deviceOf(v));
  } catch (e) {
    if (added) await c.execute('blockdev-del', { 'node-name': ids.node }).catch(() => undefined);
    throw new Error(`Cannot add volume ${v.id} to the guest: ${qmpReason(e)}`, { cause: e });
  }
}

/** The Error of a detach the guest did not complete in time; the volume stays attached. */
export const notReleased = (v: Pick<GuestVolume, 'id' | 'device'>, timeoutSec: number) =>
  new Error(
    `The guest did not release volume ${v.id} (${v.device}) within ${timeoutSec} s; it stays attached. ` +
      'Try again when the guest is idle, or stop the server first.',
  );

/**
 * Asks the guest to release the volume's device (ACPI eject), waits for QEMU's DEVICE_DELETED
 * (up to timeoutSec) and then closes its block node. Rejects with notReleased when the guest does
 * not release it in time (a paused guest, one busy or without PCI hot-plug support); a later call
 * finishes the job once the guest has let go.
 */
export async function unplugVolume(c: QmpClient, v: Pick<GuestVolume, 'id' | 'device'>, timeoutSec: number): Promise<void> {
  const ids = volumeIds(v.id);
  if ((await peripherals(c)).has(ids.device)) {
    const deleted = c.waitEvent('DEVICE_DELETED', timeoutSec * 1000, (e) => e.data?.device === ids.device);
    deleted.catch(() => undefined);
    let gone = false;
    try {
      await c.execute('device_del', { id: ids.device });
    } catch (e) {
      // Gone meanwhile; or still being removed after an earlier detach that timed out (wait on).
      if (isMissing(e)) gone = true;
      else if (!/already in the process of unplug/i.test(String((e as Error).message)))
        throw new Error(`Cannot remove volume ${v.id} from the guest: ${qmpReason(e)}`, { cause: e });
    }
    if (!gone) {
      try {
        await deleted;
      } catch {
        // The event can race with a device that went away otherwise; trust what QEMU lists.
        if ((await peripherals(c)).has(ids.device)) throw notReleased(v, timeoutSec);
      }
    }
  }
  if (await hasNode(c, ids.node)) {
    try {
      await c.execute('blockdev-del', { 'node-name': ids.node });
    } catch (e) {
      if (!isMissing(e)) throw new Error(`Cannot close volume ${v.id}: ${qmpReason(e)}`, { cause: e });
    }
  }
}
