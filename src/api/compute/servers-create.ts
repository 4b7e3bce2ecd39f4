/**
 * POST /servers: validates the request against its microversion's schema and everything it
 * refers to, then records the instances, their metadata, tags and 'create' actions and checks
 * the quota in one transaction (nothing is half-created on any error), and only then asks the
 * conductor to schedule and build them.
 */
import { invalid, overQuota, policyForbidden } from '../../errors.js';
import { startAction } from '../../db/instances.js';
import { json, type Sql } from '../../db/sql.js';
import { ctxOf, type ApiRequest, type ApiResponse, type RequestContext } from '../../http/types.js';
import { validate } from '../../http/validate.js';
import { ConductorRpcApi } from '../../conductor/rpcapi.js';
import { TaskState, VmState } from '../../compute/vm-states.js';
import type { FlavorSnapshot } from '../../objects/flavor.js';
import { isUuidLike, uuid } from '../../util/ids.js';
import { nowIso } from '../../util/time.js';
import { requireProject, requireWriter } from '../policy.js';
import { links } from './common.js';
import type { ComputeApiDeps } from './deps.js';
import { maxAllowedCount, quotaLimits } from './quota.js';
import { canonicalIPv6, createSchema, decodeUserData, MAX_USER_DATA_BYTES, parseBool } from './server-schemas.js';
import { availabilityZones, checkFlavorFitsImage, flavorForBoot, imageForBoot, keyPairData } from './server-lookups.js';
import { displayNameFor, newAdminPass, newReservationId, sanitizeHostname } from './server-hostname.js';
import type { ImageView } from '../../image/service.js';
import { addGroupMembers } from './server-group-store.js';
import { checkRequestedNetworks, checkSecurityGroups } from './server-networks.js';
import type { RequestedNetworks } from '../../network/client.js';
import { planBlockDevices, type BlockDevicePlan } from './server-create-bdms.js';
import { insertBdm } from './bdm-store.js';
import { asInvalidVolume } from './server-volume-attachments.js';

type Body = { server: Record<string, any>; 'os:scheduler_hints'?: Record<string, unknown>; 'OS-SCH-HNT:scheduler_hints'?: Record<string, unknown> };

/** Raises Nova's 403 when a server's metadata would pass the metadata_items quota. */
export async function checkMetadataQuota(sql: Sql, projectId: string, count: number): Promise<void> {
  const limit = (await quotaLimits(sql, projectId)).metadata_items;
  if (limit !== undefined && limit >= 0 && count > limit) throw overQuota(`Quota exceeded for metadata_items: Requested ${count}, but already used 0 of ${limit} metadata_items`);
}

/** Parses `az`, `az:host`, `az:host:node` (and `:host`); forcing a host needs admin. */
async function placement(deps: ComputeApiDeps, ctx: RequestContext, s: Record<string, any>) {
  let az: string | null = null;
  let host: string | null = null;
  let node: string | null = null;
  if (s.availability_zone !== undefined) {
    const parts = String(s.availability_zone).split(':');
    if (parts.length > 3) throw invalid(`Invalid availability zone format: ${s.availability_zone}`);
    az = parts[0] || null;
    host = parts[1] || null;
    node = parts[2] || null;
    if ((host || node) && !ctx.isAdmin) throw policyForbidden('os_compute_api:servers:create:forced_host');
    if (az && !(await availabilityZones(deps)).has(az)) throw invalid('The requested availability zone is not available');
  }
  let requested: { host?: string; node?: string } | null = null;
  if (s.host !== undefined || s.hypervisor_hostname !== undefined) {
    if (!ctx.isAdmin) throw policyForbidden('compute:servers:create:requested_destination');
    if (s.host !== undefined) {
      const h = await deps.sql.get(`SELECT 1 AS ok FROM services WHERE host = ? AND "binary" = 'nova-compute' AND deleted = 0`, [s.host]);
      if (!h) throw invalid(`Compute host ${s.host} could not be found.`);
    }
    if (s.hypervisor_hostname !== undefined) {
      const n = await deps.sql.get('SELECT 1 AS ok FROM compute_nodes WHERE hypervisor_hostname = ? AND deleted = 0', [s.hypervisor_hostname]);
      if (!n) throw invalid(`Compute host ${s.hypervisor_hostname} could not be found.`);
    }
    requested = { ...(s.host !== undefined ? { host: s.host } : {}), ...(s.hypervisor_hostname !== undefined ? { node: s.hypervisor_hostname } : {}) };
  }
  return { az, host, node, requested };
}

/** The requested networks as stored for the networking service: 'auto', 'none' or a list. */
function requestedNetworks(req: ApiRequest, s: Record<string, any>): unknown {
  const n = s.networks;
  if (n === undefined) return 'auto';
  if (typeof n === 'string') return n;
  for (const net of n as Record<string, unknown>[]) {
    if (net.uuid === undefined && net.port === undefined)
      throw invalid('Bad networks format: network uuid is not in proper format (None)');
    if (net.uuid !== undefined && !isUuidLike(net.uuid)) throw invalid(`Bad networks format: network uuid is not in proper format (${net.uuid})`);
  }
  void req;
  return n;
}

/**
 * Creates an attachment (volume reserved) of each volume for the new server; on an error the
 * ones made are deleted and the error is a 400 naming the volume. Answers volume -> attachment.
 */
async function reserveVolumes(deps: ComputeApiDeps, instanceUuid: string, volumeIds: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const volumeId of volumeIds) {
    try {
      out.set(volumeId, (await deps.volumes!.createAttachment({ volume_id: volumeId, instance_uuid: instanceUuid })).id);
    } catch (e) {
      for (const a of out.values()) await deps.volumes!.deleteAttachment(a).catch(() => undefined);
      throw asInvalidVolume(e);
    }
  }
  return out;
}

/** The boot image metadata of a boot from volume without imageRef (its properties and minimums). */
function bootVolumeImage(d: BlockDevicePlan): ImageView {
  const bv = d.bootVolume!;
  if ('image' in bv) return bv.image;
  if ('snapshot' in bv) return { id: '', name: null, status: 'active' } as ImageView;
  const meta = json<Record<string, unknown>>(bv.volume.volume_image_metadata, {});
  return { ...meta, id: String(meta.image_id ?? ''), name: (meta.image_name as string | undefined) ?? null, status: 'active' } as ImageView;
}

/** A boot from volume's root is the volume: only the image's min_ram applies to the flavor. */
function checkFlavorRamFitsImage(flavor: FlavorSnapshot, image: ImageView): void {
  if (Number(image.min_ram ?? 0) > flavor.memory_mb) throw invalid("Flavor's memory is too small for requested image.");
}

/** Scheduler-hint keys the conductor reads as a forced or requested destination. */
const FORCING_HINTS = ['force_hosts', 'force_nodes', 'requested_destination'] as const;

export async function createServer(deps: ComputeApiDeps, req: ApiRequest): Promise<ApiResponse> {
  const ctx = ctxOf(req);
  const projectId = requireProject(ctx);
  requireWriter(ctx, 'os_compute_api:servers:create');
  const body = validate<Body>(createSchema(req.mv), req.body);
  const s = body.server;
  const hints: Record<string, unknown> = { ...(body['OS-SCH-HNT:scheduler_hints'] ?? {}), ...(body['os:scheduler_hints'] ?? {}) };
  // The keys that force a host are set only below, from the admin-checked placement; a user's
  // hints never carry them.
  for (const k of FORCING_HINTS) delete hints[k];

  const minCount = s.min_count !== undefined ? Number(s.min_count) : 1;
  const maxCount = s.max_count !== undefined ? Number(s.max_count) : minCount;
  if (minCount > maxCount) throw invalid('min_count must be <= max_count');
  if (s.hostname !== undefined && maxCount > 1) throw invalid('Cannot request a hostname when creating multiple servers.');

  if (s.user_data !== undefined) {
    const data = decodeUserData(s.user_data);
    if (!data) throw invalid(`Invalid input for field/attribute user_data. Value: ${s.user_data}. '${s.user_data}' is not a 'base64'`);
    if (data.length > MAX_USER_DATA_BYTES) throw invalid(`User data too large. User data must be no larger than ${MAX_USER_DATA_BYTES} bytes once base64 encoded.`);
  }

  const networks = requestedNetworks(req, s);
  const flavor = await flavorForBoot(deps.sql, ctx, s.flavorRef);
  const devices = await planBlockDevices(deps, ctx, s, maxCount);
  // A boot from volume without imageRef records image '' (as Nova shows it) and checks the
  // flavor against the boot image's metadata (the image's, or the volume's image properties).
  const imageRef = devices.bootImageId ?? '';
  const image = devices.bootImageId ? await imageForBoot(deps, ctx, devices.bootImageId) : bootVolumeImage(devices);
  if (devices.bootVolume) checkFlavorRamFitsImage(flavor, image);
  else checkFlavorFitsImage(flavor, image);
  const keyData = s.key_name !== undefined ? await keyPairData(deps.sql, ctx.userId, s.key_name) : null;
  const where = await placement(deps, ctx, s);
  const metadata = (s.metadata ?? {}) as Record<string, string>;
  await checkMetadataQuota(deps.sql, projectId, Object.keys(metadata).length);

  const sgNames = [...new Set(((s.security_groups ?? [{ name: 'default' }]) as { name?: string }[]).map((g) => g.name ?? 'default'))];
  // Networks, ports, fixed IPs and security groups must be usable before anything is recorded.
  await checkRequestedNetworks(deps, ctx, projectId, networks as RequestedNetworks, { maxCount, explicit: s.networks !== undefined });
  await checkSecurityGroups(deps, ctx, projectId, sgNames);
  const tags = [...new Set((s.tags ?? []) as string[])];
  const reservationId = newReservationId();
  const adminPass = typeof s.adminPass === 'string' ? s.adminPass : newAdminPass();
  const schedulerHints: Record<string, unknown> = { ...hints };
  if (where.host) schedulerHints.force_hosts = [where.host];
  if (where.node) schedulerHints.force_nodes = [where.node];
  if (where.requested) schedulerHints.requested_destination = where.requested;

  // Existing volumes (only with a single server) are reserved for it first; should recording the
  // server fail, the reservations are released again.
  const firstId = uuid();
  const reserved = await reserveVolumes(deps, firstId, devices.reserve);
  const uuids = await deps.sql.tx(async (tx) => {
    const count = await maxAllowedCount(tx, projectId, { instances: 1, cores: flavor.vcpus, ram: flavor.memory_mb }, minCount, maxCount);
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = i === 0 ? firstId : uuid();
      await insertInstance(tx, {
        id, index: i, count, ctx, projectId, s, flavor, image, imageRef, keyData, az: where.az,
        sgNames, networks, bdms: devices.local, reservationId, schedulerHints,
      });
      for (const b of devices.volumes)
        await insertBdm(tx, { ...b, instance_uuid: id, attachment_id: b.volume_id ? (reserved.get(b.volume_id) ?? null) : null });
      for (const [k, v] of Object.entries(metadata))
        await tx.run('INSERT INTO instance_metadata (instance_uuid, key, value) VALUES (?, ?, ?)', [id, k, v]);
      for (const t of tags) await tx.run('INSERT INTO instance_tags (instance_uuid, tag) VALUES (?, ?)', [id, t]);
      await startAction(tx, { uuid: id, action: 'create', requestId: req.requestId, userId: ctx.userId, projectId });
      out.push(id);
    }
    // Server groups: the `group` hint makes the new servers members (400 unknown group, 403 over quota).
    if (typeof hints.group === 'string') await addGroupMembers(tx, hints.group, out, ctx);
    return out;
  }).catch(async (e) => {
    for (const attachmentId of reserved.values()) await deps.volumes?.deleteAttachment(attachmentId).catch(() => undefined);
    throw e;
  });

  await new ConductorRpcApi(deps.bus).buildInstances({ instance_uuids: uuids, request_id: req.requestId });

  if (parseBool(s.return_reservation_id)) return { status: 202, body: { reservation_id: reservationId } };
  const id = uuids[0];
  const server: Record<string, unknown> = {
    id,
    links: links(req, 'servers', id),
    'OS-DCF:diskConfig': diskConfigOf(s, image) ? 'AUTO' : 'MANUAL',
    security_groups: sgNames.map((name) => ({ name })),
    adminPass,
  };
  return { status: 202, body: { server }, headers: { location: `${req.baseUrl}/v2.1/servers/${id}` } };
}

/** AUTO unless asked for MANUAL or the image says auto_disk_config is off. */
function diskConfigOf(s: Record<string, any>, image: ImageView): boolean {
  if (s['OS-DCF:diskConfig'] !== undefined) return s['OS-DCF:diskConfig'] === 'AUTO';
  const prop = image.auto_disk_config;
  return prop === undefined || prop === null ? true : parseBool(prop);
}

/** Glance's own image attributes: everything else in an image view is a property. */
const IMAGE_BASE_ATTRIBUTES = new Set([
  'id', 'name', 'status', 'visibility', 'protected', 'os_hidden', 'checksum', 'os_hash_algo', 'os_hash_value', 'owner', 'size',
  'virtual_size', 'min_ram', 'min_disk', 'disk_format', 'container_format', 'created_at', 'updated_at', 'tags', 'self', 'file',
  'schema', 'locations', 'direct_url', 'stores',
]);
/** Properties Nova never copies to an instance (signatures, encryption keys, block device mappings). */
const NON_INHERITABLE = new Set([
  'img_signature', 'img_signature_hash_method', 'img_signature_key_type', 'img_signature_certificate_uuid',
  'cinder_encryption_key_id', 'cinder_encryption_key_deletion_policy', 'mappings', 'block_device_mapping', 'bdm_v2', 'root_device_name',
]);

/**
 * System metadata Nova keeps about the boot image (read by createImage and rebuild): every image
 * property as `image_<key>` (truncated to 255 characters), plus min_ram, min_disk and the
 * formats, as Nova's get_system_metadata_from_image. So a snapshot inherits, for example, the
 * kernel_id and ramdisk_id an AMI-style image boots with.
 */
export function imageSystemMetadata(image: ImageView, imageRef: string): Record<string, string> {
  const out: Record<string, string> = { image_base_image_ref: imageRef };
  for (const [k, v] of Object.entries(image)) {
    if (IMAGE_BASE_ATTRIBUTES.has(k) || NON_INHERITABLE.has(k) || v === undefined || v === null) continue;
    out[`image_${k}`] = (typeof v === 'string' ? v : JSON.stringify(v)).slice(0, 255);
  }
  for (const k of ['min_ram', 'min_disk', 'disk_format', 'container_format'])
    if (image[k] !== undefined && image[k] !== null) out[`image_${k}`] = String(image[k]);
  if (image.name) out.image_name = String(image.name);
  return out;
}

async function insertInstance(
  tx: Sql,
  a: {
    id: string; index: number; count: number; ctx: RequestContext; projectId: string; s: Record<string, any>;
    flavor: FlavorSnapshot; image: ImageView; imageRef: string; keyData: string | null; az: string | null;
    sgNames: string[]; networks: unknown; bdms: unknown[]; reservationId: string; schedulerHints: Record<string, unknown>;
  },
): Promise<void> {
  const { s, flavor, image } = a;
  const now = nowIso();
  const displayName = displayNameFor(s.name, a.index, a.count);
  const hostname = s.hostname ?? sanitizeHostname(displayName, `Server-${a.id}`);
  const prop = (k: string) => (image[k] ?? null) as string | null;
  await tx.run(
    `INSERT INTO instances (uuid, project_id, user_id, display_name, display_description, hostname, availability_zone,
      flavor_id, flavor, image_ref, kernel_id, ramdisk_id, key_name, key_data, user_data, config_drive, vm_state, task_state,
      power_state, memory_mb, vcpus, root_gb, ephemeral_gb, access_ip_v4, access_ip_v6, auto_disk_config, launch_index,
      reservation_id, os_type, security_groups, requested_networks, network_info, block_devices, system_metadata,
      scheduler_hints, trusted_image_certificates, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      a.id, a.projectId, a.ctx.userId, displayName, s.description ?? null, hostname, a.az,
      flavor.id, JSON.stringify(flavor), a.imageRef, prop('kernel_id'), prop('ramdisk_id'), s.key_name ?? null, a.keyData,
      s.user_data ?? null, parseBool(s.config_drive) ? 'True' : '', VmState.BUILDING, TaskState.SCHEDULING,
      0, flavor.memory_mb, flavor.vcpus, flavor.root_gb, flavor.ephemeral_gb, s.accessIPv4 ?? null, s.accessIPv6 !== undefined ? canonicalIPv6(s.accessIPv6) : null,
      diskConfigOf(s, image) ? 1 : 0, a.index, a.reservationId, prop('os_type'), JSON.stringify(a.sgNames),
      JSON.stringify(a.networks), '[]', JSON.stringify(a.bdms), JSON.stringify(imageSystemMetadata(image, a.imageRef)),
      JSON.stringify(a.schedulerHints), s.trusted_image_certificates ? JSON.stringify(s.trusted_image_certificates) : null, now, now,
    ],
  );
}
