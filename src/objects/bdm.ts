/**
 * A block device mapping as stored (block_device_mappings) and passed between the conductor
 * and compute hosts, and the pure helpers both sides use. No DB access here: compute hosts
 * import it.
 */
import type { ConnectionInfo } from '../volume/types.js';

export interface BdmRow {
  id: number;
  uuid: string;
  instance_uuid: string;
  source_type: 'image' | 'volume' | 'snapshot' | 'blank';
  destination_type: 'volume' | 'local';
  boot_index: number | null;
  device_name: string | null;
  volume_id: string | null;
  attachment_id: string | null;
  image_id: string | null;
  snapshot_id: string | null;
  volume_size: number | null;
  delete_on_termination: number;
  tag: string | null;
  /** JSON ConnectionInfo, or null while the volume is not connected. */
  connection_info: string | null;
  created_at: string;
  updated_at: string | null;
  deleted: number;
}

/** The guest device name in its /dev form ('vdb' -> '/dev/vdb'). */
export const devPath = (name: string): string => (name.startsWith('/dev/') ? name : `/dev/${name}`);

/** A stored connection_info (JSON text), or null when absent or unreadable. */
export function connectionInfoOf(text: string | null | undefined): ConnectionInfo | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as ConnectionInfo;
  } catch {
    return null;
  }
}
