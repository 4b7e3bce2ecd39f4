/**
 * The Compute API (Nova v2.1) as the dashboard uses it. Every call takes the compute endpoint
 * from the catalog (session.endpoints.compute) and sends COMPUTE_MICROVERSION unless told
 * otherwise; at 2.47+ a server embeds its flavor (original_name, vcpus, ram, disk).
 */
import { getJson, query, request } from './http';

/** The microversion the dashboard speaks (Train): embedded flavors, tags, lock reasons, 2.79 volume delete_on_termination. */
export const COMPUTE_MICROVERSION = '2.79';

function mv(version = COMPUTE_MICROVERSION): Record<string, string> {
  return { 'openstack-api-version': `compute ${version}` };
}

export interface Link {
  rel: string;
  href: string;
}

export interface ServerAddress {
  addr: string;
  version: number;
  'OS-EXT-IPS:type'?: 'fixed' | 'floating';
  'OS-EXT-IPS-MAC:mac_addr'?: string;
}

export interface EmbeddedFlavor {
  original_name: string;
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral?: number;
  swap?: number;
  extra_specs?: Record<string, string>;
}

export interface Server {
  id: string;
  name: string;
  /** ACTIVE, BUILD, SHUTOFF, ERROR, DELETED (changes-since only), ... */
  status: string;
  tenant_id: string;
  user_id: string;
  created: string;
  updated: string;
  /** "" for a server booted from a volume. */
  image: { id: string; links?: Link[] } | '';
  flavor: EmbeddedFlavor;
  addresses: Record<string, ServerAddress[]>;
  key_name: string | null;
  metadata: Record<string, string>;
  locked?: boolean;
  locked_reason?: string | null;
  tags?: string[];
  fault?: { code: number; message: string; created: string; details?: string };
  hostId?: string;
  'OS-EXT-AZ:availability_zone'?: string;
  'OS-EXT-STS:task_state'?: string | null;
  'OS-EXT-STS:vm_state'?: string;
  'OS-EXT-STS:power_state'?: number;
  'OS-EXT-SRV-ATTR:host'?: string | null;
  'OS-EXT-SRV-ATTR:hypervisor_hostname'?: string | null;
  'OS-SRV-USG:launched_at'?: string | null;
  'os-extended-volumes:volumes_attached'?: { id: string; delete_on_termination?: boolean }[];
  security_groups?: { name: string }[];
  config_drive?: string;
  progress?: number;
}

/** Nova's power_state numbers as Horizon names them. */
export const POWER_STATES: Record<number, string> = { 0: 'No State', 1: 'Running', 3: 'Paused', 4: 'Shut Down', 6: 'Crashed', 7: 'Suspended' };

export interface ListServersOptions {
  /** ISO time: only servers changed since then, deleted ones included (status DELETED). */
  changesSince?: string;
  allTenants?: boolean;
  limit?: number;
  marker?: string;
  name?: string;
  status?: string;
}

/** One page of GET /servers/detail. */
export async function listServersPage(base: string, o: ListServersOptions = {}, signal?: AbortSignal): Promise<{ servers: Server[]; next: string | null; date: string | null }> {
  const q = query({ 'changes-since': o.changesSince, all_tenants: o.allTenants ? 'True' : undefined, limit: o.limit, marker: o.marker, name: o.name, status: o.status });
  const r = await request<{ servers: Server[]; servers_links?: Link[] }>(`${base}/servers/detail${q}`, { headers: mv(), signal });
  const body = r.body;
  const next = body.servers_links?.find((l) => l.rel === 'next');
  return { servers: body.servers, next: next && body.servers.length ? body.servers[body.servers.length - 1].id : null, date: r.headers.get('date') };
}

/**
 * Every server matching o (follows the pages), with the server's clock at the first answer
 * (its Date header, ms since the epoch; null when absent): the base of the next changes-since.
 */
export async function listServersWithDate(base: string, o: ListServersOptions = {}, signal?: AbortSignal): Promise<{ servers: Server[]; serverTime: number | null }> {
  const out: Server[] = [];
  let marker = o.marker;
  let serverTime: number | null = null;
  for (;;) {
    const page = await listServersPage(base, { ...o, marker }, signal);
    if (serverTime === null && page.date) serverTime = Date.parse(page.date);
    out.push(...page.servers);
    if (!page.next) return { servers: out, serverTime };
    marker = page.next;
  }
}

/** Every server matching o (follows the pages). */
export async function listServers(base: string, o: ListServersOptions = {}, signal?: AbortSignal): Promise<Server[]> {
  return (await listServersWithDate(base, o, signal)).servers;
}

export async function getServer(base: string, id: string): Promise<Server> {
  return (await getJson<{ server: Server }>(`${base}/servers/${encodeURIComponent(id)}`, mv())).server;
}

export async function deleteServer(base: string, id: string): Promise<void> {
  await request(`${base}/servers/${encodeURIComponent(id)}`, { method: 'DELETE', headers: mv() });
}

/** POST /servers/{id}/action with one action body, e.g. {"os-stop": null}; returns the body (if any). */
export async function serverAction<T = unknown>(base: string, id: string, action: Record<string, unknown>, version?: string): Promise<T> {
  return (await request<T>(`${base}/servers/${encodeURIComponent(id)}/action`, { method: 'POST', body: action, headers: mv(version) })).body;
}

/** The row actions of the Instances page, by name. */
export const ACTIONS = {
  start: { 'os-start': null },
  stop: { 'os-stop': null },
  softReboot: { reboot: { type: 'SOFT' } },
  hardReboot: { reboot: { type: 'HARD' } },
  pause: { pause: null },
  unpause: { unpause: null },
  suspend: { suspend: null },
  resume: { resume: null },
  lock: { lock: null },
  unlock: { unlock: null },
  confirmResize: { confirmResize: null },
  revertResize: { revertResize: null },
} as const satisfies Record<string, Record<string, unknown>>;
export type ActionName = keyof typeof ACTIONS;

/** Resizes a server to another flavor (202); it then waits in VERIFY_RESIZE for confirmResize or revertResize. */
export async function resizeServer(base: string, id: string, flavorRef: string): Promise<void> {
  await serverAction(base, id, { resize: { flavorRef } });
}

/**
 * Snapshots a server into a new image (createImage); returns the image's id (2.45+ body).
 * The image is queued in Glance at once and becomes active when the snapshot is uploaded.
 */
export async function createServerImage(base: string, id: string, name: string): Promise<string> {
  return (await serverAction<{ image_id: string }>(base, id, { createImage: { name } })).image_id;
}

export async function consoleOutput(base: string, id: string, length?: number): Promise<string> {
  const body = await serverAction<{ output: string }>(base, id, { 'os-getConsoleOutput': length ? { length } : {} });
  return body.output;
}

export interface RemoteConsole {
  protocol: string;
  type: string;
  url: string;
}

/** A console URL (noVNC by default; serial: {protocol: 'serial', type: 'serial'}). */
export async function remoteConsole(base: string, id: string, protocol = 'vnc', type = 'novnc'): Promise<RemoteConsole> {
  const r = await request<{ remote_console: RemoteConsole }>(`${base}/servers/${encodeURIComponent(id)}/remote-consoles`, {
    method: 'POST',
    body: { remote_console: { protocol, type } },
    headers: mv(),
  });
  return r.body.remote_console;
}

export interface InstanceAction {
  action: string;
  request_id: string;
  user_id: string;
  project_id: string;
  start_time: string;
  updated_at?: string;
  message: string | null;
  events?: { event: string; start_time: string; finish_time: string | null; result: string | null; traceback?: string | null }[];
}

export async function instanceActions(base: string, id: string): Promise<InstanceAction[]> {
  return (await getJson<{ instanceActions: InstanceAction[] }>(`${base}/servers/${encodeURIComponent(id)}/os-instance-actions`, mv())).instanceActions;
}

export async function instanceAction(base: string, id: string, requestId: string): Promise<InstanceAction> {
  return (await getJson<{ instanceAction: InstanceAction }>(`${base}/servers/${encodeURIComponent(id)}/os-instance-actions/${encodeURIComponent(requestId)}`, mv())).instanceAction;
}

/** The body of POST /servers (the wizard fills it; see the Nova API reference for every field). */
export interface CreateServerRequest {
  name: string;
  flavorRef: string;
  imageRef?: string;
  availability_zone?: string;
  key_name?: string;
  security_groups?: { name: string }[];
  networks?: { uuid?: string; port?: string; fixed_ip?: string }[] | 'auto' | 'none';
  user_data?: string;
  config_drive?: boolean;
  'OS-DCF:diskConfig'?: 'AUTO' | 'MANUAL';
  min_count?: number;
  max_count?: number;
  block_device_mapping_v2?: Record<string, unknown>[];
  metadata?: Record<string, string>;
  [k: string]: unknown;
}

export async function createServer(
  base: string,
  server: CreateServerRequest,
  schedulerHints?: Record<string, unknown>,
): Promise<{ id?: string; reservation_id?: string; adminPass?: string }> {
  const body: Record<string, unknown> = { server };
  if (schedulerHints) body['os:scheduler_hints'] = schedulerHints;
  const r = await request<{ server?: { id: string; adminPass?: string }; reservation_id?: string }>(`${base}/servers`, { method: 'POST', body, headers: mv() });
  return { id: r.body.server?.id, adminPass: r.body.server?.adminPass, reservation_id: r.body.reservation_id };
}

export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  'OS-FLV-EXT-DATA:ephemeral'?: number;
  swap?: number | '';
  'os-flavor-access:is_public'?: boolean;
  description?: string | null;
  extra_specs?: Record<string, string>;
}

export async function listFlavors(base: string): Promise<Flavor[]> {
  return (await getJson<{ flavors: Flavor[] }>(`${base}/flavors/detail`, mv())).flavors;
}

export interface Keypair {
  name: string;
  fingerprint: string;
  public_key: string;
  type?: string;
  /** Only in the answer to a create that generated the key. */
  private_key?: string;
}

export async function listKeypairs(base: string): Promise<Keypair[]> {
  return (await getJson<{ keypairs: { keypair: Keypair }[] }>(`${base}/os-keypairs`, mv())).keypairs.map((k) => k.keypair);
}

/** Imports public_key, or (below 2.92) generates a key pair whose private_key comes back once. */
export async function createKeypair(base: string, name: string, publicKey?: string, type = 'ssh'): Promise<Keypair> {
  const keypair: Record<string, string> = { name, type };
  if (publicKey) keypair.public_key = publicKey;
  return (await request<{ keypair: Keypair }>(`${base}/os-keypairs`, { method: 'POST', body: { keypair }, headers: mv(publicKey ? undefined : '2.91') })).body.keypair;
}

export async function deleteKeypair(base: string, name: string): Promise<void> {
  await request(`${base}/os-keypairs/${encodeURIComponent(name)}`, { method: 'DELETE', headers: mv() });
}

export interface AbsoluteLimits {
  maxTotalInstances: number;
  maxTotalCores: number;
  maxTotalRAMSize: number;
  maxTotalKeypairs: number;
  maxServerGroups: number;
  maxServerGroupMembers: number;
  maxServerMeta: number;
  totalInstancesUsed: number;
  totalCoresUsed: number;
  totalRAMUsed: number;
  totalServerGroupsUsed: number;
  [k: string]: number;
}

export async function limits(base: string): Promise<AbsoluteLimits> {
  return (await getJson<{ limits: { absolute: AbsoluteLimits } }>(`${base}/limits`, mv())).limits.absolute;
}

export interface AvailabilityZone {
  zoneName: string;
  zoneState: { available: boolean };
  hosts: Record<string, Record<string, { available: boolean; active: boolean; updated_at: string | null }>> | null;
}

/** The zones a user may pick (detail: admins also see hosts and services). */
export async function availabilityZones(base: string, detail = false): Promise<AvailabilityZone[]> {
  return (await getJson<{ availabilityZoneInfo: AvailabilityZone[] }>(`${base}/os-availability-zone${detail ? '/detail' : ''}`, mv())).availabilityZoneInfo;
}

export interface ServerGroup {
  id: string;
  name: string;
  policy?: string;
  policies?: string[];
  members: string[];
  rules?: Record<string, unknown>;
}

export async function listServerGroups(base: string): Promise<ServerGroup[]> {
  return (await getJson<{ server_groups: ServerGroup[] }>(`${base}/os-server-groups`, mv())).server_groups;
}

/** A volume attached to a server (os-volume_attachments). */
export interface VolumeAttachment {
  id: string;
  serverId: string;
  volumeId: string;
  device: string | null;
}

/** Attaches a volume to a server; the device is chosen by the cloud unless given. */
export async function attachVolume(base: string, serverId: string, volumeId: string, device?: string): Promise<VolumeAttachment> {
  const volumeAttachment: Record<string, string> = { volumeId };
  if (device) volumeAttachment.device = device;
  return (await request<{ volumeAttachment: VolumeAttachment }>(`${base}/servers/${encodeURIComponent(serverId)}/os-volume_attachments`, { method: 'POST', body: { volumeAttachment }, headers: mv() })).body.volumeAttachment;
}

export async function detachVolume(base: string, serverId: string, volumeId: string): Promise<void> {
  await request(`${base}/servers/${encodeURIComponent(serverId)}/os-volume_attachments/${encodeURIComponent(volumeId)}`, { method: 'DELETE', headers: mv() });
}
