/**
 * Client side of the volume manager's RPC interface (topic `volume.<host>`, one manager per
 * storage host; the all-in-one's host is its own name). Casts: the manager moves the row's
 * status itself (creating -> available | error, deleting -> deleted | error_deleting,
 * extending -> available | error_extending, snapshot creating -> available | error) and writes
 * `error` in words on failure, so the API never waits on the bus.
 *
 * Version history:
 *   1.0 - create_volume, delete_volume, extend_volume, create_snapshot, delete_snapshot
 */
import type { Bus } from '../bus/bus.js';
import { VOLUME_TOPIC } from './types.js';

export const VOLUME_RPC_VERSION = '1.0';
export const volumeTopic = (host: string) => `${VOLUME_TOPIC}.${host}`;

export class VolumeRpcApi {
  constructor(private readonly bus: Bus) {}
  private cast(host: string, method: string, args: Record<string, unknown>): Promise<void> {
    return this.bus.cast(volumeTopic(host), method, { ...args, version: VOLUME_RPC_VERSION });
  }
  /** Fills the volume's file: empty, from its image_id, source_volid or snapshot_id (row already 'creating'). */
  createVolume(host: string, a: { volume_id: string }) {
    return this.cast(host, 'create_volume', a);
  }
  /** Removes the file and soft-deletes the row (row already 'deleting'). */
  deleteVolume(host: string, a: { volume_id: string }) {
    return this.cast(host, 'delete_volume', a);
  }
  /** Grows the file to new_size GiB (row already 'extending'). */
  extendVolume(host: string, a: { volume_id: string; new_size: number }) {
    return this.cast(host, 'extend_volume', a);
  }
  /** Copies the volume's data into the snapshot (snapshot row already 'creating'). */
  createSnapshot(host: string, a: { snapshot_id: string }) {
    return this.cast(host, 'create_snapshot', a);
  }
  deleteSnapshot(host: string, a: { snapshot_id: string }) {
    return this.cast(host, 'delete_snapshot', a);
  }
}
