/**
 * Shared vocabulary of the block storage service (src/volume) and its users (Compute API,
 * conductor, compute hosts, virt drivers).
 */

/** Cinder's volume statuses. */
export const VOLUME_STATUSES = [
  'creating', 'available', 'reserved', 'attaching', 'in-use', 'detaching', 'deleting',
  'extending', 'downloading', 'error', 'error_deleting', 'error_extending', 'maintenance',
  'awaiting-transfer',
] as const;
export type VolumeStatus = (typeof VOLUME_STATUSES)[number];

/** Cinder's attachment statuses (v3 attachments API). */
export type AttachmentStatus = 'reserved' | 'attaching' | 'attached' | 'detaching' | 'detached' | 'error_attaching' | 'error_detaching';

export interface VolumeRow {
  id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  size: number;
  status: VolumeStatus;
  attach_status: 'attached' | 'detached';
  volume_type_id: string | null;
  availability_zone: string;
  bootable: number;
  multiattach: number;
  source_volid: string | null;
  snapshot_id: string | null;
  image_id: string | null;
  /** JSON: the image properties a volume made from an image carries (kernel_id, ramdisk_id, ...). */
  volume_image_metadata: string;
  metadata: string;
  /** The storage host whose volume manager owns the file. */
  host: string | null;
  path: string | null;
  format: 'qcow2' | 'raw';
  error: string | null;
  created_at: string;
  updated_at: string | null;
  deleted: number;
}

export interface AttachmentRow {
  id: string;
  volume_id: string;
  instance_uuid: string;
  attached_host: string | null;
  mountpoint: string | null;
  attach_mode: 'rw' | 'ro';
  status: AttachmentStatus;
  connector: string | null;
  connection_info: string | null;
  created_at: string;
  updated_at: string | null;
  attach_time: string | null;
  detach_time: string | null;
  deleted: number;
}

/**
 * What a compute host sends when it asks to reach a volume (Nova's connector), and what it
 * gets back. Volumes are files on the storage host's disk: `driver_volume_type: 'file'`, the
 * file's path and format. (Remote storage hosts are the distributed issue's: an NBD or iSCSI
 * export would be another driver_volume_type.)
 */
export interface Connector {
  host: string;
  /** The instance the volume is for. */
  instance_uuid?: string;
  multipath?: boolean;
}

export interface ConnectionInfo {
  driver_volume_type: 'file';
  data: {
    volume_id: string;
    path: string;
    format: 'qcow2' | 'raw';
    access_mode: 'rw' | 'ro';
    /** True for multiattach volumes: the driver must not lock the file exclusively. */
    shareable: boolean;
  };
}

/** One volume as a virt driver plugs it into a guest. */
export interface VolumeDevice {
  volume_id: string;
  /** Guest device name, e.g. /dev/vdb (the root volume of a boot from volume is /dev/vda). */
  device_name: string;
  /** 0 for the boot volume, null for data volumes. */
  boot_index: number | null;
  connection_info: ConnectionInfo;
}

/** Bus topic of the volume managers (per storage host: `volume.<host>`). */
export const VOLUME_TOPIC = 'volume';
