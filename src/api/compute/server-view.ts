/**
 * The server view (Nova's views/servers.py): one renderer for show, detail lists, and the
 * reduced bodies of update and rebuild before 2.75, each shaped by the request's microversion
 * and the caller's role. Related rows (metadata, tags, faults, host status) load in bulk, one
 * query each, so a detail page costs a fixed number of queries.
 */
import { DEFAULT_SERVICE_DOWN_TIME_SEC } from '../../config.js';
import { createHash } from 'node:crypto';
import { inList, json, type Sql } from '../../db/sql.js';
import type { InstanceRow } from '../../db/instances.js';
import type { ApiRequest } from '../../http/types.js';
import { statusFromState } from '../../compute/vm-states.js';
import { apiTime } from '../../util/time.js';
import type { FlavorSnapshot } from '../../objects/flavor.js';
import { links } from './common.js';
import { groupsOfInstances } from './server-group-store.js';
import { volumeBdmsOf, type BdmRow } from './bdm-store.js';

/** Which variant of the view: full show, a detail list item, or the pre-2.75 update/rebuild body. */
export type ViewMode = 'show' | 'detail' | 'brief';

const PROGRESS_STATUSES = new Set(['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING']);
const FAULT_STATUSES = new Set(['ERROR', 'DELETED']);
/** Nova's hostId: sha224 of project id and host, '' while the server has no host. */
export function hostId(projectId: string, host: string | null): string {
  if (!host) return '';
  return createHash('sha224').update(projectId + host).digest('hex');
}

/** Times as Nova's extended attributes print them: microseconds, no zone. */
export function usecTime(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z?$/.exec(iso);
  if (!m) return iso;
  return `${m[1]}.${(m[2] ?? '').padEnd(6, '0').slice(0, 6)}`;
}

/** Nova's instance name on the hypervisor. */
export const instanceName = (id: number) => `instance-${id.toString(16).padStart(8, '0')}`;

interface Related {
  metadata: Map<string, Record<string, string>>;
  tags: Map<string, string[]>;
  faults: Map<string, { code: number; message: string; details: string; created_at: string }>;
  hostStatus: Map<string, string>;
  /** Server groups of each instance (show from 2.71). */
  groups?: Map<string, string[]>;
  /** Block device mappings with a volume, per instance (os-extended-volumes). */
  volumes: Map<string, BdmRow[]>;
}

async function loadRelated(sql: Sql, req: ApiRequest, rows: InstanceRow[], mode: ViewMode, downTimeSec: number): Promise<Related> {
  const uuids = rows.map((r) => r.uuid);
  const out: Related = { metadata: new Map(), tags: new Map(), faults: new Map(), hostStatus: new Map(), volumes: new Map() };
  if (uuids.length === 0) return out;
  if (mode !== 'brief') out.volumes = await volumeBdmsOf(sql, uuids);
  for (const r of rows) {
    out.metadata.set(r.uuid, {});
    out.tags.set(r.uuid, []);
  }
  const md = await sql.all<{ instance_uuid: string; key: string; value: string }>(
    `SELECT instance_uuid, key, value FROM instance_metadata WHERE instance_uuid IN ${inList(uuids.length)} ORDER BY key`,
    uuids,
  );
  for (const m of md) out.metadata.get(m.instance_uuid)![m.key] = m.value;
  if (req.mv.atLeast('2.26')) {
    const tags = await sql.all<{ instance_uuid: string; tag: string }>(
      `SELECT instance_uuid, tag FROM instance_tags WHERE instance_uuid IN ${inList(uuids.length)} ORDER BY tag`,
      uuids,
    );
    for (const t of tags) out.tags.get(t.instance_uuid)!.push(t.tag);
  }
  const faulty = rows.filter((r) => FAULT_STATUSES.has(statusFromState(r.vm_state, r.task_state))).map((r) => r.uuid);
  if (faulty.length) {
    const faults = await sql.all<{ instance_uuid: string; code: number; message: string; details: string; created_at: string }>(
      `SELECT instance_uuid, code, message, details, created_at FROM instance_faults WHERE instance_uuid IN ${inList(faulty.length)} ORDER BY id`,
      faulty,
    );
    for (const f of faults) out.faults.set(f.instance_uuid, f);
  }
  if (mode !== 'brief' && req.mv.atLeast('2.16') && req.ctx?.isAdmin) {
    const hosts = [...new Set(rows.map((r) => r.host).filter((h): h is string => !!h))];
    if (hosts.length) {
      const svcs = await sql.all<{ host: string; disabled: number; forced_down: number; last_seen_up: string | null }>(
        `SELECT host, disabled, forced_down, last_seen_up FROM services WHERE "binary" = 'nova-compute' AND deleted = 0 AND host IN ${inList(hosts.length)}`,
        hosts,
      );
      const now = Date.now();
      for (const s of svcs) {
        const up = !s.forced_down && s.last_seen_up !== null && now - Date.parse(s.last_seen_up) <= downTimeSec * 1000;
        out.hostStatus.set(s.host, s.disabled ? 'MAINTENANCE' : up ? 'UP' : 'DOWN');
      }
    }
  }
  if (mode !== 'detail' && req.mv.atLeast('2.71')) out.groups = await groupsOfInstances(sql, uuids);
  return out;
}

function flavorView(req: ApiRequest, f: FlavorSnapshot) {
  if (req.mv.atLeast('2.47'))
    return {
      vcpus: f.vcpus,
      ram: f.memory_mb,
      disk: f.root_gb,
      ephemeral: f.ephemeral_gb,
      swap: f.swap,
      original_name: f.name,
      extra_specs: f.extra_specs ?? {},
    };
  return { id: f.flavorid, links: [{ rel: 'bookmark', href: `${req.baseUrl}/flavors/${f.flavorid}` }] };
}

function imageView(req: ApiRequest, ref: string | null) {
  if (!ref) return '';
  return { id: ref, links: [{ rel: 'bookmark', href: `${req.baseUrl}/images/${ref}` }] };
}

/** os-extended-volumes:volumes_attached: the instance's volumes, delete_on_termination from 2.3. */
function volumesAttached(req: ApiRequest, bdms: BdmRow[]) {
  return bdms.map((b) => (req.mv.atLeast('2.3') ? { id: b.volume_id, delete_on_termination: !!b.delete_on_termination } : { id: b.volume_id }));
}

function renderOne(req: ApiRequest, row: InstanceRow, rel: Related, mode: ViewMode): Record<string, unknown> {
  const mv = req.mv;
  const admin = !!req.ctx?.isAdmin;
  const status = statusFromState(row.vm_state, row.task_state);
  const s: Record<string, unknown> = {
    id: row.uuid,
    name: row.display_name,
    status,
    tenant_id: row.project_id,
    user_id: row.user_id,
    metadata: rel.metadata.get(row.uuid) ?? {},
    hostId: hostId(row.project_id, row.host),
    image: imageView(req, row.image_ref),
    flavor: flavorView(req, json<FlavorSnapshot>(row.flavor, null as never)),
    created: apiTime(row.created_at),
    updated: apiTime(row.updated_at),
    // Nova's brief (update/rebuild before 2.75) view has no extended address keys.
    addresses: addressesOf(row, mode !== 'brief'),
    accessIPv4: row.access_ip_v4 ?? '',
    accessIPv6: row.access_ip_v6 ?? '',
    links: links(req, 'servers', row.uuid),
    'OS-DCF:diskConfig': row.auto_disk_config ? 'AUTO' : 'MANUAL',
  };
  if (PROGRESS_STATUSES.has(status)) s.progress = row.progress ?? 0;
  const fault = rel.faults.get(row.uuid);
  if (fault) {
    const f: Record<string, unknown> = { code: fault.code, created: apiTime(fault.created_at), message: fault.message };
    if (admin || fault.code !== 500) f.details = fault.details ?? '';
    s.fault = f;
  }
  if (mode !== 'brief') {
    s['OS-EXT-AZ:availability_zone'] = row.availability_zone ?? '';
    s.config_drive = row.config_drive ?? '';
    s.key_name = row.key_name;
    s['OS-SRV-USG:launched_at'] = usecTime(row.launched_at);
    s['OS-SRV-USG:terminated_at'] = usecTime(row.terminated_at);
    s['OS-EXT-STS:task_state'] = row.task_state;
    s['OS-EXT-STS:vm_state'] = row.vm_state;
    s['OS-EXT-STS:power_state'] = row.power_state;
    s['os-extended-volumes:volumes_attached'] = volumesAttached(req, rel.volumes.get(row.uuid) ?? []);
    s.security_groups = json<string[]>(row.security_groups, []).map((name) => ({ name }));
    if (admin) {
      s['OS-EXT-SRV-ATTR:host'] = row.host;
      s['OS-EXT-SRV-ATTR:instance_name'] = instanceName(row.id);
      s['OS-EXT-SRV-ATTR:hypervisor_hostname'] = row.node;
      if (mv.atLeast('2.3')) {
        s['OS-EXT-SRV-ATTR:reservation_id'] = row.reservation_id;
        s['OS-EXT-SRV-ATTR:launch_index'] = row.launch_index;
        s['OS-EXT-SRV-ATTR:kernel_id'] = row.kernel_id ?? '';
        s['OS-EXT-SRV-ATTR:ramdisk_id'] = row.ramdisk_id ?? '';
        s['OS-EXT-SRV-ATTR:root_device_name'] = row.root_device_name;
        s['OS-EXT-SRV-ATTR:user_data'] = row.user_data;
      }
    }
    if ((admin && mv.atLeast('2.3')) || mv.atLeast('2.90')) s['OS-EXT-SRV-ATTR:hostname'] = row.hostname;
    if (admin && mv.atLeast('2.16')) s.host_status = row.host ? (rel.hostStatus.get(row.host) ?? 'UNKNOWN') : '';
  }
  if (mv.atLeast('2.9')) s.locked = !!row.locked;
  if (mv.atLeast('2.73')) s.locked_reason = row.locked_reason;
  if (mv.atLeast('2.19')) s.description = row.display_description;
  if (mv.atLeast('2.26')) s.tags = rel.tags.get(row.uuid) ?? [];
  if (mv.atLeast('2.63')) s.trusted_image_certificates = json<string[] | null>(row.trusted_image_certificates, null);
  // Show, and the update/rebuild bodies (brief before 2.75), carry groups; list items never do.
  if (mode !== 'detail' && mv.atLeast('2.71')) s.server_groups = rel.groups?.get(row.uuid) ?? [];
  return s;
}

/**
 * `addresses` from the instance's network_info (Nova's shape, grouped by network label): each
 * entry {version, addr}, plus OS-EXT-IPS:type and OS-EXT-IPS-MAC:mac_addr when extended (show
 * and detail views; Nova's extend_address).
 */
export function addressesOf(row: Pick<InstanceRow, 'network_info'>, extended = true): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const vif of json<any[]>(row.network_info, [])) {
    const label = vif?.network?.label ?? vif?.network?.name ?? 'private';
    const list = (out[label] ??= []);
    for (const subnet of vif?.network?.subnets ?? []) {
      for (const ip of subnet?.ips ?? []) {
        const version = String(ip.address).includes(':') ? 6 : 4;
        const entry = (addr: unknown, type: unknown) =>
          extended ? { version, addr, 'OS-EXT-IPS:type': type, 'OS-EXT-IPS-MAC:mac_addr': vif.address } : { version, addr };
        list.push(entry(ip.address, ip.type ?? 'fixed'));
        for (const fip of ip.floating_ips ?? []) list.push(entry(fip.address, 'floating'));
      }
    }
  }
  return out;
}

/**
 * Renders rows in the given mode (order kept). downTimeSec: the deployment's service_down_time,
 * for the admin-only host_status (2.16+).
 */
export async function renderServers(sql: Sql, req: ApiRequest, rows: InstanceRow[], mode: ViewMode, downTimeSec = DEFAULT_SERVICE_DOWN_TIME_SEC): Promise<Record<string, unknown>[]> {
  const rel = await loadRelated(sql, req, rows, mode, downTimeSec);
  return rows.map((r) => renderOne(req, r, rel, mode));
}

/** One server as GET /servers/{id} shows it. */
export async function renderServer(sql: Sql, req: ApiRequest, row: InstanceRow, mode: ViewMode = 'show', downTimeSec = DEFAULT_SERVICE_DOWN_TIME_SEC): Promise<Record<string, unknown>> {
  return (await renderServers(sql, req, [row], mode, downTimeSec))[0];
}

/** The body of PUT /servers/{id} and of rebuild: the full view from 2.75, the brief one before. */
export function updateViewMode(req: ApiRequest): ViewMode {
  return req.mv.atLeast('2.75') ? 'show' : 'brief';
}
