/**
 * The admin side of the Compute API as the Admin pages use it: hypervisors, host aggregates,
 * services and flavor management (availability zones are in compute.ts). Every call takes the
 * compute endpoint from the catalog and sends COMPUTE_MICROVERSION (2.79): hypervisor and
 * service ids are UUIDs (2.53+), hypervisors still carry their usage numbers (below 2.88).
 */
import { getJson, request } from './http';
import { COMPUTE_MICROVERSION, type Flavor } from './compute';

const MV = { 'openstack-api-version': `compute ${COMPUTE_MICROVERSION}` };

export interface Hypervisor {
  id: string;
  hypervisor_hostname: string;
  hypervisor_type?: string;
  hypervisor_version?: number;
  state: 'up' | 'down';
  status: 'enabled' | 'disabled';
  host_ip?: string;
  vcpus: number;
  vcpus_used: number;
  memory_mb: number;
  memory_mb_used: number;
  local_gb: number;
  local_gb_used: number;
  running_vms: number;
  service: { host: string; id: string; disabled_reason: string | null };
}

export async function listHypervisors(base: string): Promise<Hypervisor[]> {
  return (await getJson<{ hypervisors: Hypervisor[] }>(`${base}/os-hypervisors/detail`, MV)).hypervisors;
}

export interface Aggregate {
  id: number;
  uuid?: string;
  name: string;
  availability_zone: string | null;
  hosts?: string[];
  metadata?: Record<string, string>;
  created_at?: string;
}

export async function listAggregates(base: string): Promise<Aggregate[]> {
  return (await getJson<{ aggregates: Aggregate[] }>(`${base}/os-aggregates`, MV)).aggregates;
}

/** A new aggregate, in availabilityZone when given (an empty zone: none). */
export async function createAggregate(base: string, name: string, availabilityZone?: string): Promise<Aggregate> {
  const aggregate: Record<string, string> = { name };
  if (availabilityZone) aggregate.availability_zone = availabilityZone;
  return (await request<{ aggregate: Aggregate }>(`${base}/os-aggregates`, { method: 'POST', body: { aggregate }, headers: MV })).body.aggregate;
}

export async function deleteAggregate(base: string, id: number): Promise<void> {
  await request(`${base}/os-aggregates/${id}`, { method: 'DELETE', headers: MV });
}

/** add_host, remove_host or set_metadata (a null value removes that key); returns the aggregate after it. */
export async function aggregateAction(
  base: string,
  id: number,
  action: { add_host: { host: string } } | { remove_host: { host: string } } | { set_metadata: { metadata: Record<string, string | null> } },
): Promise<Aggregate> {
  return (await request<{ aggregate: Aggregate }>(`${base}/os-aggregates/${id}/action`, { method: 'POST', body: action, headers: MV })).body.aggregate;
}

export interface ComputeService {
  id: string;
  binary: string;
  host: string;
  zone: string;
  status: 'enabled' | 'disabled';
  state: 'up' | 'down';
  updated_at: string | null;
  disabled_reason: string | null;
  forced_down?: boolean;
}

export async function listServices(base: string): Promise<ComputeService[]> {
  return (await getJson<{ services: ComputeService[] }>(`${base}/os-services`, MV)).services;
}

/** Enables a service, or disables it with a reason (optional). */
export async function setServiceStatus(base: string, id: string, enabled: boolean, reason?: string): Promise<ComputeService> {
  const body: Record<string, string> = { status: enabled ? 'enabled' : 'disabled' };
  if (!enabled && reason) body.disabled_reason = reason;
  return (await request<{ service: ComputeService }>(`${base}/os-services/${encodeURIComponent(id)}`, { method: 'PUT', body, headers: MV })).body.service;
}

export interface NewFlavor {
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  isPublic: boolean;
}

export async function createFlavor(base: string, f: NewFlavor): Promise<Flavor> {
  const flavor = { name: f.name, vcpus: f.vcpus, ram: f.ram, disk: f.disk, 'os-flavor-access:is_public': f.isPublic };
  return (await request<{ flavor: Flavor }>(`${base}/flavors`, { method: 'POST', body: { flavor }, headers: MV })).body.flavor;
}

export async function deleteFlavor(base: string, id: string): Promise<void> {
  await request(`${base}/flavors/${encodeURIComponent(id)}`, { method: 'DELETE', headers: MV });
}

/** Every flavor, private ones included (is_public=None, for admins). */
export async function listAllFlavors(base: string): Promise<Flavor[]> {
  return (await getJson<{ flavors: Flavor[] }>(`${base}/flavors/detail?is_public=None`, MV)).flavors;
}
