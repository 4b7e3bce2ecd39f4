/**
 * Port writes: create (MAC, fixed IPs from IPAM, security groups), update, delete. Each runs in
 * the caller's transaction and leaves nothing half-made when it throws. Callers check who may
 * do it and notify the agents afterwards.
 */
import { randomBytes } from 'node:crypto';
import type { Sql } from '../db/sql.js';
import { invalid, NovaError } from '../errors.js';
import { uuid } from '../util/ids.js';
import { nowIso } from '../util/time.js';
import { allocateNext, allocateSpecific, noMoreIps, releaseIps } from './ipam.js';
import { contains, parseCidr, parseIp } from './ipv4.js';
import { checkQuota } from './quotas.js';
import { DHCP_OWNER, getPort, type NetworkRow, type PortRow, type SubnetRow } from './repo.js';
import type { SecurityGroupLink } from './sg-link.js';
import { portStatus } from './views.js';

export interface FixedIpRequest {
  subnet_id?: string;
  ip_address?: string;
}

export interface PortInput {
  project_id: string;
  name?: string;
  description?: string;
  admin_state_up?: boolean;
  mac_address?: string;
  /** undefined: one address from the first subnet with room; []: none. */
  fixed_ips?: FixedIpRequest[];
  device_owner?: string;
  device_id?: string;
  binding_host_id?: string;
  port_security_enabled?: boolean;
  /** Names or ids in the port's project; undefined: the project's default group (when port security is on). */
  security_groups?: string[];
  tags?: string[];
  /** Made by the network service for an instance (deleted with it). */
  auto_created?: boolean;
  device_index?: number;
}

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

export const randomMac = (): string => 'fa:16:3e:' + [...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0')).join(':');

const macInUse = (networkId: string, mac: string) =>
  new NovaError('Conflict', `Unable to complete operation for network ${networkId}. The mac address ${mac} is in use.`, { neutronType: 'MacAddressInUse' });

async function macTaken(sql: Sql, networkId: string, mac: string): Promise<boolean> {
  return !!(await sql.get('SELECT 1 AS x FROM ports WHERE network_id = ? AND mac_address = ?', [networkId, mac]));
}

async function pickMac(sql: Sql, networkId: string, wanted: string | undefined): Promise<string> {
  if (wanted !== undefined) {
    const mac = wanted.toLowerCase();
    if (!MAC.test(mac)) throw new NovaError('Invalid', `Invalid input for mac_address. Reason: '${wanted}' is not a valid MAC address.`, { neutronType: 'InvalidInput' });
    if (await macTaken(sql, networkId, mac)) throw macInUse(networkId, mac);
    return mac;
  }
  for (;;) {
    const mac = randomMac();
    if (!(await macTaken(sql, networkId, mac))) return mac;
  }
}

/** Allocates the requested fixed IPs (or one automatic one) of a port on network. */
async function allocate(sql: Sql, network: NetworkRow, portId: string, wanted: FixedIpRequest[] | undefined): Promise<void> {
  const subnets = await sql.all<SubnetRow>('SELECT * FROM subnets WHERE network_id = ? ORDER BY created_at, id', [network.id]);
  if (wanted === undefined) {
    if (!subnets.length) return;
    for (const s of subnets) if ((await allocateNext(sql, s, portId)) !== null) return;
    throw noMoreIps(network.id);
  }
  const seen = new Set<string>();
  for (const f of wanted) {
    let subnet: SubnetRow | undefined;
    if (f.ip_address !== undefined && parseIp(f.ip_address) === null)
      throw new NovaError('Invalid', `Invalid input for fixed_ips. Reason: '${f.ip_address}' is not a valid IP address.`, { neutronType: 'InvalidInput' });
    if (f.subnet_id !== undefined) {
      subnet = subnets.find((s) => s.id === f.subnet_id);
      if (!subnet)
        throw invalid(`Failed to create port on network ${network.id}, because fixed_ips included invalid subnet ${f.subnet_id}.`);
    } else if (f.ip_address !== undefined) {
      const n = parseIp(f.ip_address)!;
      subnet = subnets.find((s) => contains(parseCidr(s.cidr)!, n));
      if (!subnet)
        throw new NovaError('Invalid', `IP address ${f.ip_address} is not a valid IP for any of the subnets on the specified network.`, { neutronType: 'InvalidIpForNetwork' });
    } else throw invalid('Invalid input for fixed_ips. Reason: each entry needs a subnet_id, an ip_address or both.');
    const key = `${subnet.id}/${f.ip_address ?? '*'}`;
    if (f.ip_address !== undefined && seen.has(key)) throw invalid(`Duplicate IP address ${f.ip_address} in fixed_ips.`);
    seen.add(key);
    if (f.ip_address !== undefined) await allocateSpecific(sql, subnet, portId, f.ip_address);
    else if ((await allocateNext(sql, subnet, portId)) === null) throw noMoreIps(network.id);
  }
}

async function applyGroups(sql: Sql, sg: SecurityGroupLink, portId: string, projectId: string, security: boolean, groups: string[] | undefined): Promise<void> {
  if (!security) {
    if (groups?.length)
      throw new NovaError('Conflict', 'Port has security group associated. Cannot disable port security or ip address until security group is removed', {
        neutronType: 'PortSecurityAndIPRequiredForSecurityGroups',
      });
    await sg.setPortGroups(sql, portId, []);
    return;
  }
  if (groups === undefined) await sg.ensureDefault(sql, projectId);
  const ids = groups === undefined ? await sg.resolve(sql, projectId, ['default']) : groups.length ? await sg.resolve(sql, projectId, groups) : [];
  await sg.setPortGroups(sql, portId, ids);
}

/** Creates a port on network (quota counted unless it is a DHCP port); answers its row. */
export async function createPort(sql: Sql, sg: SecurityGroupLink, network: NetworkRow, input: PortInput): Promise<PortRow> {
  return sql.tx(async (tx) => {
    const owner = input.device_owner ?? '';
    if (owner !== DHCP_OWNER) await checkQuota(tx, input.project_id, 'port');
    const id = uuid();
    const now = nowIso();
    const mac = await pickMac(tx, network.id, input.mac_address);
    const security = input.port_security_enabled ?? !!network.port_security_enabled;
    const row: PortRow = {
      id, network_id: network.id, project_id: input.project_id, name: input.name ?? '', description: input.description ?? '',
      mac_address: mac, admin_state_up: input.admin_state_up === false ? 0 : 1, status: 'DOWN', device_owner: owner,
      device_id: input.device_id ?? '', binding_host_id: input.binding_host_id ?? '', port_security_enabled: security ? 1 : 0,
      tags: JSON.stringify(input.tags ?? []), revision_number: 1, created_at: now, updated_at: now,
      auto_created: input.auto_created ? 1 : 0, device_index: input.device_index ?? 0,
    };
    row.status = portStatus(row);
    await tx.run(
      `INSERT INTO ports (id, network_id, project_id, name, description, mac_address, admin_state_up, status, device_owner, device_id,
        binding_host_id, port_security_enabled, tags, revision_number, created_at, updated_at, auto_created, device_index)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [row.id, row.network_id, row.project_id, row.name, row.description, row.mac_address, row.admin_state_up, row.status, row.device_owner,
        row.device_id, row.binding_host_id, row.port_security_enabled, row.tags, row.revision_number, row.created_at, row.updated_at,
        row.auto_created, row.device_index],
    );
    await allocate(tx, network, id, input.fixed_ips);
    if (owner !== DHCP_OWNER) await applyGroups(tx, sg, id, input.project_id, security, input.security_groups);
    return row;
  });
}

export type PortChanges = Partial<Omit<PortInput, 'project_id'>>;

/** Applies changes to a port; fixed_ips replaces the port's addresses (kept ones stay). */
export async function updatePort(sql: Sql, sg: SecurityGroupLink, id: string, ch: PortChanges): Promise<PortRow> {
  return sql.tx(async (tx) => {
    const row = await getPort(tx, id);
    const next: PortRow = { ...row };
    if (ch.name !== undefined) next.name = ch.name;
    if (ch.description !== undefined) next.description = ch.description;
    if (ch.admin_state_up !== undefined) next.admin_state_up = ch.admin_state_up ? 1 : 0;
    if (ch.device_owner !== undefined) next.device_owner = ch.device_owner;
    if (ch.device_id !== undefined) next.device_id = ch.device_id;
    if (ch.binding_host_id !== undefined) next.binding_host_id = ch.binding_host_id;
    if (ch.tags !== undefined) next.tags = JSON.stringify(ch.tags);
    if (ch.auto_created !== undefined) next.auto_created = ch.auto_created ? 1 : 0;
    if (ch.device_index !== undefined) next.device_index = ch.device_index;
    if (ch.mac_address !== undefined && ch.mac_address.toLowerCase() !== row.mac_address) {
      if (row.binding_host_id) throw new NovaError('Conflict', `Port ${id} is bound to a host; its MAC address cannot change.`, { neutronType: 'PortBound' });
      next.mac_address = await pickMac(tx, row.network_id, ch.mac_address);
    }
    if (ch.fixed_ips !== undefined) {
      const keep = new Set(ch.fixed_ips.filter((f) => f.subnet_id && f.ip_address).map((f) => `${f.subnet_id}/${f.ip_address}`));
      const current = await tx.all<{ subnet_id: string; ip_address: string }>('SELECT subnet_id, ip_address FROM ip_allocations WHERE port_id = ?', [id]);
      await releaseIps(tx, id, keep);
      const kept = new Set(current.map((c) => `${c.subnet_id}/${c.ip_address}`).filter((k) => keep.has(k)));
      const network = (await tx.get<NetworkRow>('SELECT * FROM networks WHERE id = ?', [row.network_id]))!;
      await allocate(tx, network, id, ch.fixed_ips.filter((f) => !(f.subnet_id && f.ip_address && kept.has(`${f.subnet_id}/${f.ip_address}`))));
    }
    const security = ch.port_security_enabled ?? !!row.port_security_enabled;
    next.port_security_enabled = security ? 1 : 0;
    if (ch.security_groups !== undefined || ch.port_security_enabled !== undefined) {
      const groups = ch.security_groups ?? (security ? (await sg.portGroups(tx, [id])).get(id) : []);
      await applyGroups(tx, sg, id, row.project_id, security, groups?.length || ch.security_groups !== undefined ? groups : undefined);
    }
    next.status = portStatus(next);
    next.revision_number = row.revision_number + 1;
    next.updated_at = nowIso();
    await tx.run(
      `UPDATE ports SET name = ?, description = ?, admin_state_up = ?, status = ?, device_owner = ?, device_id = ?, binding_host_id = ?,
        mac_address = ?, port_security_enabled = ?, tags = ?, revision_number = ?, updated_at = ?, auto_created = ?, device_index = ? WHERE id = ?`,
      [next.name, next.description, next.admin_state_up, next.status, next.device_owner, next.device_id, next.binding_host_id,
        next.mac_address, next.port_security_enabled, next.tags, next.revision_number, next.updated_at, next.auto_created, next.device_index, id],
    );
    return next;
  });
}

/** Deletes a port with its addresses and group memberships. Idempotent. */
export async function deletePort(sql: Sql, id: string): Promise<void> {
  await sql.tx(async (tx) => {
    await tx.run('DELETE FROM sg_port_bindings WHERE port_id = ?', [id]);
    await tx.run('DELETE FROM ip_allocations WHERE port_id = ?', [id]);
    await tx.run('DELETE FROM ports WHERE id = ?', [id]);
  });
}
