/**
 * Cinder's response shapes (v3) for volumes, snapshots, types and attachments. Times are
 * Cinder's `2018-11-29T06:50:07.770785` (UTC, microseconds, no zone). As Cinder's policy: the
 * volume's project (os-vol-tenant-attr) to whoever may see the volume, its host and migration
 * attributes to admins only.
 */
import { json } from '../db/sql.js';
import type { Microversion } from '../http/microversion.js';
import type { SnapshotRow, VolumeTypeRow } from './repo.js';
import type { AttachmentRow, VolumeRow } from './types.js';

export function cinderTime(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z?$/.exec(iso);
  if (!m) return iso;
  return `${m[1]}.${(m[2] ?? '').padEnd(6, '0').slice(0, 6)}`;
}

export interface ViewCtx {
  /** Public URL of the service prefix, e.g. http://h/volume */
  baseUrl: string;
  projectId: string;
  isAdmin: boolean;
  mv: Microversion;
}

export function links(v: ViewCtx, collection: string, id: string) {
  return [
    { href: `${v.baseUrl}/v3/${v.projectId}/${collection}/${id}`, rel: 'self' },
    { href: `${v.baseUrl}/${v.projectId}/${collection}/${id}`, rel: 'bookmark' },
  ];
}

/** A volume's attachment as the volume view lists it (Cinder: id is the volume's id). */
function volumeAttachment(a: AttachmentRow) {
  return {
    id: a.volume_id,
    attachment_id: a.id,
    volume_id: a.volume_id,
    server_id: a.instance_uuid,
    host_name: a.attached_host,
    device: a.mountpoint,
    attached_at: cinderTime(a.attach_time),
  };
}

export function volumeSummary(v: ViewCtx, row: VolumeRow) {
  return { id: row.id, links: links(v, 'volumes', row.id), name: row.name };
}

/**
 * The detail view; attachments are the volume's live attachments (only attached ones are shown).
 * `extended`: Cinder's API extensions (volume_image_metadata, and for admins the tenant, host
 * and migration attributes) extend only show and list-detail, not the create and update answers.
 */
export function volumeView(v: ViewCtx, row: VolumeRow, attachments: AttachmentRow[], typeName: string | null, typeId: string | null, extended = true) {
  const out: Record<string, unknown> = {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status,
    size: Number(row.size),
    availability_zone: row.availability_zone,
    created_at: cinderTime(row.created_at),
    updated_at: cinderTime(row.updated_at),
    attachments: attachments.filter((a) => a.status === 'attached').map(volumeAttachment),
    bootable: row.bootable ? 'true' : 'false',
    encrypted: false,
    multiattach: !!row.multiattach,
    volume_type: typeName,
    metadata: json<Record<string, string>>(row.metadata, {}),
    user_id: row.user_id,
    snapshot_id: row.snapshot_id,
    source_volid: row.source_volid,
    consistencygroup_id: null,
    replication_status: null,
    migration_status: null,
    links: links(v, 'volumes', row.id),
  };
  const imageMeta = json<Record<string, string>>(row.volume_image_metadata, {});
  if (extended && Object.keys(imageMeta).length) out.volume_image_metadata = imageMeta;
  // Cinder's policy: the project attribute for the project's readers too, host and migration for admins only.
  if (extended) out['os-vol-tenant-attr:tenant_id'] = row.project_id;
  if (extended && v.isAdmin) {
    out['os-vol-host-attr:host'] = row.host ? `${row.host}@file#file` : null;
    out['os-vol-mig-status-attr:migstat'] = null;
    out['os-vol-mig-status-attr:name_id'] = null;
  }
  if (v.mv.atLeast('3.13')) out.group_id = null;
  if (v.mv.atLeast('3.21')) out.provider_id = null;
  if (v.mv.atLeast('3.48')) {
    out.shared_targets = false;
    out.service_uuid = null;
  }
  if (v.mv.atLeast('3.61') && v.isAdmin) out.cluster_name = null;
  if (v.mv.atLeast('3.63')) out.volume_type_id = typeId;
  if (v.mv.atLeast('3.65')) out.consumes_quota = true;
  return out;
}

/** A snapshot; `extended` (show and list-detail only, as Cinder's extension): progress and project. */
export function snapshotView(v: ViewCtx, row: SnapshotRow, extended = false) {
  const out: Record<string, unknown> = {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status,
    size: Number(row.size),
    volume_id: row.volume_id,
    metadata: json<Record<string, string>>(row.metadata, {}),
    created_at: cinderTime(row.created_at),
    updated_at: cinderTime(row.updated_at),
  };
  if (extended) {
    out['os-extended-snapshot-attributes:progress'] = row.status === 'available' ? '100%' : '0%';
    out['os-extended-snapshot-attributes:project_id'] = row.project_id;
  }
  if (v.mv.atLeast('3.14')) out.group_snapshot_id = null;
  if (v.mv.atLeast('3.41')) out.user_id = row.user_id;
  if (v.mv.atLeast('3.65')) out.consumes_quota = true;
  return out;
}

/** A volume type; `qos` (admins only, not on the create answer, as Cinder): qos_specs_id. */
export function typeView(v: ViewCtx, row: VolumeTypeRow, qos = true) {
  const out: Record<string, unknown> = {
    id: row.id,
    name: row.name,
    description: row.description,
    is_public: !!row.is_public,
    'os-volume-type-access:is_public': !!row.is_public,
    extra_specs: json<Record<string, string>>(row.extra_specs, {}),
  };
  if (qos && v.isAdmin) out.qos_specs_id = null;
  return out;
}

/** The v3 attachments API's view; connection_info only where the caller may see it (detail, show, update). */
export function attachmentView(a: AttachmentRow, detail: boolean) {
  const base: Record<string, unknown> = { id: a.id, status: a.status, instance: a.instance_uuid, volume_id: a.volume_id };
  if (!detail) return base;
  return {
    ...base,
    attached_at: cinderTime(a.attach_time),
    detached_at: cinderTime(a.detach_time),
    attach_mode: a.attach_mode,
    connection_info: json<Record<string, unknown>>(a.connection_info, {}),
  };
}
