/**
 * An in-memory VolumeClient for tests of the compute side (no volume manager, no files). It
 * follows the status machine of src/volume/client.ts: create -> creating -> available | error
 * (on the next tick), reserve/attach/complete/delete of attachments, begin/roll detaching.
 * Knobs: `failCreate` makes the next creates end in error with that message; `calls` records
 * every call (method and first argument) in order.
 */
import { randomUUID } from 'node:crypto';
import { conflict, invalid, notFound } from '../errors.js';
import { nowIso } from '../util/time.js';
import type { CreateVolumeRequest, VolumeClient } from './client.js';
import type { AttachmentRow, ConnectionInfo, Connector, VolumeRow } from './types.js';

export class MemoryVolumeClient implements VolumeClient {
  readonly volumes = new Map<string, VolumeRow>();
  readonly attachments = new Map<string, AttachmentRow>();
  readonly calls: string[] = [];
  /** When set, created volumes end in error with this message. */
  failCreate: string | null = null;

  /** Adds an available volume (or with the given fields) and answers it. */
  add(over: Partial<VolumeRow> = {}): VolumeRow {
    const now = nowIso();
    const v: VolumeRow = {
      id: randomUUID(), project_id: 'p1', user_id: 'u1', name: null, description: null, size: 1, status: 'available',
      attach_status: 'detached', volume_type_id: null, availability_zone: 'nova', bootable: 0, multiattach: 0,
      source_volid: null, snapshot_id: null, image_id: null, volume_image_metadata: '{}', metadata: '{}',
      host: 'storage1', path: null, format: 'qcow2', error: null, created_at: now, updated_at: null, deleted: 0, ...over,
    };
    v.path ??= `/fake-volumes/${v.id}`;
    this.volumes.set(v.id, v);
    return v;
  }

  /** Live attachments of a volume. */
  attachmentsOfVolume(volumeId: string): AttachmentRow[] {
    return [...this.attachments.values()].filter((a) => a.volume_id === volumeId && !a.deleted);
  }

  private vol(id: string): VolumeRow {
    const v = this.volumes.get(id);
    if (!v || v.deleted) throw notFound(`Volume ${id} could not be found.`);
    return v;
  }

  private att(id: string): AttachmentRow {
    const a = this.attachments.get(id);
    if (!a || a.deleted) throw notFound(`Volume attachment ${id} could not be found.`);
    return a;
  }

  private set(v: VolumeRow, status: VolumeRow['status']): void {
    v.status = status;
    v.updated_at = nowIso();
  }

  async get(volumeId: string): Promise<VolumeRow> {
    this.calls.push(`get ${volumeId}`);
    return { ...this.vol(volumeId) };
  }

  async create(req: CreateVolumeRequest): Promise<VolumeRow> {
    if (!(req.size > 0)) throw invalid('Volume size must be a positive integer.');
    const v = this.add({ project_id: req.project_id, user_id: req.user_id, size: req.size, name: req.name ?? null, image_id: req.image_id ?? null, status: 'creating', bootable: req.image_id ? 1 : 0 });
    this.calls.push(`create ${v.id}`);
    const fail = this.failCreate;
    setImmediate(() => {
      if (v.deleted) return;
      if (fail) v.error = fail;
      this.set(v, fail ? 'error' : 'available');
    });
    return { ...v };
  }

  async waitAvailable(volumeId: string, timeoutMs = 5000): Promise<VolumeRow> {
    for (const end = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 2))) {
      const v = this.vol(volumeId);
      if (v.status === 'available') return { ...v };
      if (v.status === 'error') throw new Error(v.error ?? `Volume ${volumeId} is in error.`);
      if (Date.now() > end) throw new Error(`Volume ${volumeId} did not become available within ${timeoutMs} ms (status ${v.status}).`);
    }
  }

  async delete(volumeId: string): Promise<void> {
    this.calls.push(`delete ${volumeId}`);
    const v = this.vol(volumeId);
    if (this.attachmentsOfVolume(volumeId).length) throw conflict(`Volume ${volumeId} is attached; detach it first.`);
    if (!['available', 'error', 'error_restoring', 'error_extending'].includes(v.status))
      throw invalid(`Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer, but current status is: ${v.status}.`);
    v.deleted = 1;
  }

  async createAttachment(a: { volume_id: string; instance_uuid: string; mode?: 'rw' | 'ro' }): Promise<AttachmentRow> {
    this.calls.push(`createAttachment ${a.volume_id}`);
    const v = this.vol(a.volume_id);
    const ok = v.status === 'available' || (v.multiattach && ['in-use', 'reserved', 'attaching'].includes(v.status));
    if (!ok) throw conflict(`Volume ${a.volume_id} is ${v.status}; it is not multiattach.`);
    this.set(v, v.status === 'available' ? 'reserved' : v.status);
    const row: AttachmentRow = {
      id: randomUUID(), volume_id: a.volume_id, instance_uuid: a.instance_uuid, attached_host: null, mountpoint: null, attach_mode: a.mode ?? 'rw',
      status: 'reserved', connector: null, connection_info: null, created_at: nowIso(), updated_at: null, attach_time: null, detach_time: null, deleted: 0,
    };
    this.attachments.set(row.id, row);
    return { ...row };
  }

  async updateAttachment(a: { attachment_id: string; connector: Connector; mountpoint?: string | null }): Promise<ConnectionInfo> {
    this.calls.push(`updateAttachment ${a.attachment_id}`);
    const att = this.att(a.attachment_id);
    const v = this.vol(att.volume_id);
    const ci: ConnectionInfo = { driver_volume_type: 'file', data: { volume_id: v.id, path: v.path!, format: v.format, access_mode: att.attach_mode, shareable: !!v.multiattach } };
    att.connector = JSON.stringify(a.connector);
    att.connection_info = JSON.stringify(ci);
    att.attached_host = a.connector.host;
    att.mountpoint = a.mountpoint ?? null;
    if (att.status !== 'attached') att.status = 'attaching';
    if (v.status === 'reserved') this.set(v, 'attaching');
    return ci;
  }

  async completeAttachment(attachmentId: string): Promise<void> {
    this.calls.push(`completeAttachment ${attachmentId}`);
    const att = this.att(attachmentId);
    att.status = 'attached';
    att.attach_time = nowIso();
    const v = this.vol(att.volume_id);
    v.attach_status = 'attached';
    this.set(v, 'in-use');
  }

  async deleteAttachment(attachmentId: string): Promise<void> {
    this.calls.push(`deleteAttachment ${attachmentId}`);
    const att = this.attachments.get(attachmentId);
    if (!att || att.deleted) return;
    att.deleted = 1;
    att.status = 'detached';
    att.detach_time = nowIso();
    const v = this.volumes.get(att.volume_id);
    if (v && !v.deleted && this.attachmentsOfVolume(v.id).length === 0) {
      v.attach_status = 'detached';
      this.set(v, 'available');
    }
  }

  async beginDetaching(volumeId: string): Promise<void> {
    this.calls.push(`beginDetaching ${volumeId}`);
    const v = this.vol(volumeId);
    if (v.status === 'detaching') return;
    if (v.status !== 'in-use') throw invalid(`Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.`);
    this.set(v, 'detaching');
  }

  async rollDetaching(volumeId: string): Promise<void> {
    this.calls.push(`rollDetaching ${volumeId}`);
    const v = this.vol(volumeId);
    if (v.status === 'detaching') this.set(v, 'in-use');
  }

  async attachmentsOf(instanceUuid: string): Promise<AttachmentRow[]> {
    return [...this.attachments.values()].filter((a) => a.instance_uuid === instanceUuid && !a.deleted).map((a) => ({ ...a }));
  }
}
