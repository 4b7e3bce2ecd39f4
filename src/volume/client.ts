/**
 * What the Compute API, the conductor and compute hosts need from the block storage service:
 * service-level calls (the caller already checked who may act on the volume). The all-in-one
 * uses the in-process implementation (src/volume/service.ts); separate hosts will reach it
 * over the bus. Errors are NovaErrors whose messages say what to fix, e.g. Conflict "Volume
 * <id> is in-use (attached to server <uuid>); it is not multiattach" or NotFound.
 *
 * The attach flow (Cinder's v3 attachments, as Nova uses them):
 *   createAttachment (volume reserved) -> updateAttachment with the host's connector (volume
 *   attaching; answers connection_info) -> driver plugs it -> completeAttachment (in-use).
 * Detach: beginDetaching (detaching) -> driver unplugs -> deleteAttachment (available, or
 * still in-use while other attachments of a multiattach volume remain). rollDetaching puts a
 * failed detach back to in-use. Every step is idempotent so a restart can finish or undo it.
 */
import type { AttachmentRow, ConnectionInfo, Connector, VolumeRow } from './types.js';

export interface CreateVolumeRequest {
  project_id: string;
  user_id: string;
  size: number;
  name?: string | null;
  description?: string | null;
  /** Create from this Glance image (bootable, with the image's properties in volume_image_metadata). */
  image_id?: string | null;
  source_volid?: string | null;
  snapshot_id?: string | null;
  availability_zone?: string | null;
  volume_type?: string | null;
  multiattach?: boolean;
  metadata?: Record<string, string>;
}

export interface VolumeClient {
  /** The volume (NotFound when missing or deleted). */
  get(volumeId: string): Promise<VolumeRow>;
  /** Creates a volume; answers at once (status creating), the volume manager fills it. Quota checked. */
  create(req: CreateVolumeRequest): Promise<VolumeRow>;
  /** Resolves when the volume is available; rejects with the volume's error when it ends in error or on timeout. */
  waitAvailable(volumeId: string, timeoutMs?: number): Promise<VolumeRow>;
  /** Deletes an available or error volume (and its file). Conflict when in use or has snapshots. */
  delete(volumeId: string): Promise<void>;
  createAttachment(a: { volume_id: string; instance_uuid: string; mode?: 'rw' | 'ro' }): Promise<AttachmentRow>;
  updateAttachment(a: { attachment_id: string; connector: Connector; mountpoint?: string | null }): Promise<ConnectionInfo>;
  completeAttachment(attachmentId: string): Promise<void>;
  deleteAttachment(attachmentId: string): Promise<void>;
  beginDetaching(volumeId: string): Promise<void>;
  rollDetaching(volumeId: string): Promise<void>;
  /** Live attachments of an instance (recovery after a restart). */
  attachmentsOf(instanceUuid: string): Promise<AttachmentRow[]>;
  /**
   * Snapshots a volume (available, or in-use with force) for Nova's os-snapshots proxy; quota
   * checked; answers the new snapshot's id (status creating). Optional: absent, the proxy
   * answers that snapshots are not available.
   */
  createSnapshot?(req: { volume_id: string; project_id: string; user_id: string; name?: string | null; description?: string | null; force?: boolean }): Promise<{ id: string }>;
  /** Deletes an available or error snapshot (optional, as createSnapshot). */
  deleteSnapshot?(snapshotId: string): Promise<void>;
}
