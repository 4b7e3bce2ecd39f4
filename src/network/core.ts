/**
 * What every part of the network service shares: the DB, the bus (agent notices) and the
 * security group link. Also the reads that render views for a caller.
 */
import type { Bus } from '../bus/bus.js';
import { inList, type Sql } from '../db/sql.js';
import type { RequestContext } from '../http/types.js';
import type { NeutronView } from './client.js';
import { notifyAgents } from './notify.js';
import { fixedIpsByPort, subnetIdsByNetwork, type NetworkRow, type PortRow } from './repo.js';
import type { SecurityGroupLink } from './sg-link.js';
import { networkView, portView } from './views.js';

export interface NetCore {
  sql: Sql;
  bus: Bus;
  sg: SecurityGroupLink;
}

export async function networkViews(core: NetCore, rows: NetworkRow[]): Promise<NeutronView[]> {
  const subnets = await subnetIdsByNetwork(core.sql, rows.map((r) => r.id));
  return rows.map((r) => networkView(r, subnets.get(r.id) ?? []));
}

export async function portViews(core: NetCore, rows: PortRow[], ctx: RequestContext | null): Promise<NeutronView[]> {
  const ids = rows.map((r) => r.id);
  const ips = await fixedIpsByPort(core.sql, ids);
  const groups = await core.sg.portGroups(core.sql, ids);
  return rows.map((r) => portView(r, ips.get(r.id) ?? [], groups.get(r.id) ?? [], ctx));
}

/** Notifies the agents of the hosts the given ports are bound to (none bound: no notice). */
export async function notifyHosts(core: NetCore, hosts: (string | null | undefined)[]): Promise<void> {
  const set = [...new Set(hosts.filter((h): h is string => !!h))];
  if (set.length) await notifyAgents(core.bus, set);
}

/** Hosts with ports bound on any of the networks (their agents render those networks). */
export async function hostsOnNetworks(core: NetCore, networkIds: string[]): Promise<string[]> {
  if (!networkIds.length) return [];
  const rows = await core.sql.all<{ h: string }>(
    `SELECT DISTINCT binding_host_id AS h FROM ports WHERE network_id IN ${inList(networkIds.length)} AND binding_host_id <> ''`,
    networkIds,
  );
  return rows.map((r) => r.h);
}
