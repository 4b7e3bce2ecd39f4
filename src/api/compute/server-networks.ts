/**
 * What POST /servers checks about networking before it records anything, as Nova's
 * compute API and validate_networks do with Neutron: the requested networks and ports exist
 * and are usable by the project, fixed IPs are free addresses of the network, one network is
 * unambiguous when none is named, and the security groups exist. Nothing here changes state:
 * the ports are made (or bound) later by the compute host through the NetworkClient.
 */
import { isIPv4 } from 'node:net';
import { conflict, invalid, isNovaError, NovaError } from '../../errors.js';
import type { Sql } from '../../db/sql.js';
import type { RequestContext } from '../../http/types.js';
import type { NetworkApi, NeutronView, RequestedNetworks } from '../../network/client.js';
import { isUuidLike } from '../../util/ids.js';
import type { ComputeApiDeps } from './deps.js';

export const NETWORKING_UNAVAILABLE = 'Networking is not available';
export const AMBIGUOUS_NETWORK = 'Multiple possible networks found, use a Network ID to be more specific.';

/**
 * The networks a project may boot on without naming one: its own networks and the shared ones
 * (Nova's _get_available_networks), each once.
 */
export async function availableNetworks(api: NetworkApi, ctx: RequestContext, projectId: string): Promise<NeutronView[]> {
  const own = await api.listNetworks(ctx, { project_id: projectId, shared: false });
  const shared = await api.listNetworks(ctx, { shared: true });
  const seen = new Set<string>();
  return [...own, ...shared].filter((n) => !seen.has(n.id) && seen.add(n.id));
}

/** Runs fn; a NotFound from the network service becomes the given error (Nova maps them to 400 at create). */
async function orElse<T>(fn: () => Promise<T>, err: () => NovaError): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isNovaError(e) && e.kind === 'NotFound') throw err();
    throw e;
  }
}

/** The CIDRs of a network's subnets (read from the network tables: the Neutron view carries only subnet ids). */
async function subnetCidrs(sql: Sql, networkId: string): Promise<string[]> {
  const rows = await sql.all<{ cidr: string }>('SELECT cidr FROM subnets WHERE network_id = ? AND ip_version = 4', [networkId]);
  return rows.map((r) => r.cidr);
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** True when the IPv4 address lies inside the IPv4 CIDR. */
export function cidrContains(cidr: string, ip: string): boolean {
  const [net, bits] = cidr.split('/');
  const prefix = Number(bits);
  if (!isIPv4(net) || !isIPv4(ip) || !(prefix >= 0 && prefix <= 32)) return false;
  const size = 2 ** (32 - prefix);
  return Math.floor(ipToInt(ip) / size) === Math.floor(ipToInt(net) / size);
}

/** The instance (device_id) holding a fixed IP on a network, '' for a port of no instance; null when free. */
async function fixedIpHolder(sql: Sql, networkId: string, ip: string): Promise<string | null> {
  const row = await sql.get<{ device_id: string }>(
    'SELECT p.device_id FROM ip_allocations a JOIN ports p ON p.id = a.port_id WHERE a.network_id = ? AND a.ip_address = ?',
    [networkId, ip],
  );
  return row ? row.device_id : null;
}

/**
 * Checks the requested networks of a server create (see the file comment). `explicit` is false
 * when the request named no networks at all (before 2.37). Raises Nova's 400/409 on the first
 * problem; answers nothing (the stored request stays as given).
 */
export async function checkRequestedNetworks(
  deps: ComputeApiDeps,
  ctx: RequestContext,
  projectId: string,
  requested: RequestedNetworks,
  o: { maxCount: number; explicit: boolean },
): Promise<void> {
  if (requested === 'none') return;
  const net = deps.network;
  if (requested === 'auto') {
    if (!net) return;
    const nets = await availableNetworks(net.api, ctx, projectId);
    if (nets.length > 1) throw conflict(AMBIGUOUS_NETWORK);
    if (nets.length === 0 && o.explicit) throw invalid(`Unable to automatically allocate a network for project ${projectId}`);
    return;
  }
  if (requested.length === 0) return;
  if (!net) throw invalid(NETWORKING_UNAVAILABLE);

  for (const r of requested) {
    if (r.port && r.fixed_ip !== undefined)
      throw invalid(`Specified Fixed IP '${r.fixed_ip}' cannot be used with port '${r.port}': the two cannot be specified together.`);
    if (o.maxCount > 1 && r.port) throw invalid('Failed to launch instances: max_count cannot be greater than 1 if an port_id is specified.');
    if (o.maxCount > 1 && r.fixed_ip !== undefined)
      throw invalid('Failed to launch instances: max_count cannot be greater than 1 if an fixed_ip is specified.');
  }

  const seenPorts = new Set<string>();
  const netIds: string[] = [];
  for (const r of requested) {
    if (r.port) {
      if (seenPorts.has(r.port)) throw conflict(`Port ${r.port} is still in use.`);
      seenPorts.add(r.port);
      const port = await orElse(() => net.api.showPort(ctx, r.port!), () => invalid(`Port id ${r.port} could not be found.`));
      if (port.device_id) throw conflict(`Port ${r.port} is still in use.`);
      const ips = port.fixed_ips as unknown[] | undefined;
      if (!ips?.length) throw invalid(`Port ${r.port} requires a FixedIP in order to be used.`);
    } else if (r.uuid) {
      netIds.push(r.uuid);
      if (r.fixed_ip !== undefined && !isIPv4(r.fixed_ip))
        throw invalid(`Fixed IP address ${r.fixed_ip} is not valid: networks here are IPv4 only.`);
    }
  }
  if (netIds.length === 0) return;

  const unique = [...new Set(netIds)];
  const found = new Map((await net.api.listNetworks(ctx, { id: unique })).map((n) => [n.id, n]));
  const missing = unique.filter((id) => !found.has(id));
  if (missing.length) throw invalid(`Network ${missing.join(', ')} could not be found.`);
  for (const id of unique) {
    const subnets = found.get(id)!.subnets as unknown[] | undefined;
    if (!subnets?.length) throw invalid(`Network ${id} requires a subnet in order to boot instances on.`);
  }
  const wanted = new Set<string>();
  for (const r of requested) {
    if (!r.uuid || r.fixed_ip === undefined) continue;
    const key = `${r.uuid} ${r.fixed_ip}`;
    if (wanted.has(key)) throw invalid(`Fixed IP address ${r.fixed_ip} is requested more than once on network ${r.uuid}.`);
    wanted.add(key);
    await checkFixedIp(deps.sql, r.uuid, r.fixed_ip, invalid);
  }
}

/**
 * A requested fixed IP must lie in a subnet of the network (400) and be free; a taken one
 * raises inUse(message) (server create: 400, interface attach: 409, as Nova).
 */
export async function checkFixedIp(sql: Sql, networkId: string, ip: string, inUse: (msg: string) => NovaError): Promise<void> {
  if (!isIPv4(ip)) throw invalid(`Fixed IP address ${ip} is not valid: networks here are IPv4 only.`);
  const cidrs = await subnetCidrs(sql, networkId);
  if (!cidrs.some((c) => cidrContains(c, ip))) throw invalid(`IP address ${ip} is not a valid IP for any of the subnets on network ${networkId}.`);
  const holder = await fixedIpHolder(sql, networkId, ip);
  if (holder !== null) throw inUse(`Fixed IP address ${ip} is already in use on instance ${holder}.`);
}

/**
 * Checks that each requested security group (a name, or an id) exists in the project, as
 * Nova's _check_requested_secgroups: 'default' is always accepted (the network service makes
 * it on first need). Unknown: 400; a name several groups share: 409. No network service: no check.
 */
export async function checkSecurityGroups(deps: ComputeApiDeps, ctx: RequestContext, projectId: string, names: string[]): Promise<void> {
  const api = deps.network?.api;
  if (!api) return;
  for (const name of names) {
    if (name === 'default') continue;
    const found = await findProjectSecurityGroup(api, ctx, projectId, name);
    if (!found) throw invalid(`Security group ${name} not found for project ${projectId}.`);
  }
}

/**
 * The project's security group with this name (or id), null when there is none; 409 when
 * several share the name (as neutronclient's find_resourceid_by_name_or_id).
 */
export async function findProjectSecurityGroup(api: NetworkApi, ctx: RequestContext, projectId: string, nameOrId: string): Promise<NeutronView | null> {
  const byName = await api.listSecurityGroups(ctx, { name: nameOrId, project_id: projectId });
  if (byName.length > 1) throw conflict(`Multiple security_group matches found for name '${nameOrId}', use an ID to be more specific.`);
  if (byName.length === 1) return byName[0];
  if (!isUuidLike(nameOrId)) return null;
  const byId = await api.listSecurityGroups(ctx, { id: [nameOrId], project_id: projectId });
  return byId[0] ?? null;
}
