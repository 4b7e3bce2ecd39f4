/**
 * What compute hosts, the conductor and the Compute API need from the network service. The
 * all-in-one uses the in-process implementation (src/network/service.ts); separate hosts will
 * reach it over the bus. Errors are NovaErrors whose messages a user can act on.
 */
import type { RequestContext } from '../http/types.js';
import type { Vif } from './types.js';

/** What a server create asked for (stored on the instance as requested_networks). */
export type RequestedNetworks = 'auto' | 'none' | { uuid?: string; port?: string; fixed_ip?: string; tag?: string }[];

/** Service-level calls (no user context: the caller already checked the request). */
export interface NetworkClient {
  /**
   * Creates the instance's ports (or binds the ports it was given) on host and returns its
   * network_info, in the requested order. Idempotent: ports already bound to the instance are
   * reused (a reschedule rebinds them to the new host). `security_groups` are names or ids in
   * the instance's project; none means the project's default group.
   */
  allocateForInstance(a: {
    instance_uuid: string;
    project_id: string;
    hostname: string;
    host: string;
    requested: RequestedNetworks;
    security_groups: string[];
  }): Promise<Vif[]>;
  /**
   * Binds every port of the instance (its addresses kept) to host and returns its network_info
   * (evacuate: the instance moves to another host). Idempotent.
   */
  rebindPorts(a: { instance_uuid: string; host: string }): Promise<Vif[]>;
  /** Deletes the ports nova-ts created for the instance and unbinds the ones the user made. Idempotent. */
  deallocateForInstance(a: { instance_uuid: string }): Promise<void>;
  /** The instance's current network_info (after security group or interface changes). */
  instanceNetworkInfo(a: { instance_uuid: string }): Promise<Vif[]>;
  /** os-interface attach: a new port on net_id (with fixed_ip), or the user's port_id, bound to host. */
  attachInterface(a: { instance_uuid: string; project_id: string; hostname: string; host: string; net_id?: string; port_id?: string; fixed_ip?: string }): Promise<Vif>;
  /** os-interface detach: the port is deleted (nova-ts's own) or unbound (the user's). */
  detachInterface(a: { instance_uuid: string; port_id: string }): Promise<void>;
}

/** A Neutron resource as the Network API shows it (its JSON fields). */
export type NeutronView = Record<string, unknown> & { id: string };

/**
 * The Network API as the Compute API's proxies and checks use it, with the caller's context
 * (visibility and policy as for a Neutron request). Views are Neutron's JSON objects.
 */
export interface NetworkApi {
  listNetworks(ctx: RequestContext, filters?: { id?: string[]; name?: string; shared?: boolean; project_id?: string }): Promise<NeutronView[]>;
  showNetwork(ctx: RequestContext, id: string): Promise<NeutronView>;
  listPorts(ctx: RequestContext, filters: { device_id?: string; network_id?: string; id?: string[] }): Promise<NeutronView[]>;
  showPort(ctx: RequestContext, id: string): Promise<NeutronView>;
  /** Changes a port's security groups (ids); the agents apply the change. */
  updatePortSecurityGroups(ctx: RequestContext, id: string, securityGroupIds: string[]): Promise<NeutronView>;
  listSecurityGroups(ctx: RequestContext, filters?: { id?: string[]; name?: string; project_id?: string }): Promise<NeutronView[]>;
  showSecurityGroup(ctx: RequestContext, id: string): Promise<NeutronView>;
  createSecurityGroup(ctx: RequestContext, body: { name: string; description?: string }): Promise<NeutronView>;
  updateSecurityGroup(ctx: RequestContext, id: string, body: { name?: string; description?: string }): Promise<NeutronView>;
  deleteSecurityGroup(ctx: RequestContext, id: string): Promise<void>;
  /** body: Neutron's rule fields (security_group_id, direction, ethertype, protocol, port_range_min/max, remote_ip_prefix, remote_group_id). */
  createSecurityGroupRule(ctx: RequestContext, body: Record<string, unknown>): Promise<NeutronView>;
  showSecurityGroupRule(ctx: RequestContext, id: string): Promise<NeutronView>;
  deleteSecurityGroupRule(ctx: RequestContext, id: string): Promise<void>;
}
