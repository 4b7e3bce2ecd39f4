/**
 * A server's security groups (Nova's os-security-groups on servers, over Neutron): the
 * addSecurityGroup and removeSecurityGroup actions change the groups of every port of the
 * server through the network service (the agents apply the change) and keep the instance's
 * `security_groups` names, which the server view shows and later port allocations use;
 * GET /servers/{id}/os-security-groups shows the groups its ports are in. Not limited by
 * microversion, no state or lock check (as Nova).
 */
import { invalid, notFound, notImplemented } from '../../errors.js';
import { json } from '../../db/sql.js';
import { updateInstance } from '../../db/instances.js';
import { ctxOf, type ApiRequest, type ApiResponse } from '../../http/types.js';
import type { NetworkApi, NeutronView } from '../../network/client.js';
import { requireWriter } from '../policy.js';
import { API_PREFIX, type MountFn } from './common.js';
import type { ComputeApiDeps } from './deps.js';
import type { ActionHandler } from './server-action-flow.js';
import { loadServer } from './server-access.js';
import { findProjectSecurityGroup, NETWORKING_UNAVAILABLE } from './server-networks.js';
import { novaGroupViews } from './security-group-view.js';

/** Nova's _parse of the action body: {"name": "<group>"}. */
function groupName(value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('Missing parameter dict');
  if (!('name' in value)) throw invalid('Security group not specified');
  const name = (value as { name: unknown }).name;
  if (typeof name !== 'string' || name.trim() === '') throw invalid('Security group name cannot be empty');
  return name;
}

function api(deps: ComputeApiDeps): NetworkApi {
  if (!deps.network) throw notImplemented(NETWORKING_UNAVAILABLE);
  return deps.network.api;
}

/**
 * The common part: the server, the group (404 naming the project when unknown) and the
 * server's ports (404 when it has none, as Nova).
 */
async function prepare(deps: ComputeApiDeps, req: ApiRequest, value: unknown, policy: string) {
  const ctx = ctxOf(req);
  requireWriter(ctx, policy);
  const name = groupName(value);
  const row = await loadServer(deps.sql, ctx, req.params.id);
  const net = api(deps);
  const projectId = ctx.projectId ?? row.project_id;
  const group = await findProjectSecurityGroup(net, ctx, projectId, name);
  if (!group) throw notFound(`Security group ${name} is not found for project ${projectId}`);
  const ports = await net.listPorts(ctx, { device_id: row.uuid });
  if (!ports.length) throw notFound(`instance_id ${row.uuid} could not be found as device id on any ports`);
  return { ctx, net, row, name, group, ports };
}

const groupsOf = (p: NeutronView) => ((p.security_groups as string[] | undefined) ?? []);

/** Rewrites the instance's group names: fn gets and returns the list (duplicates dropped). */
async function setNames(deps: ComputeApiDeps, uuid: string, fn: (names: string[]) => string[]): Promise<void> {
  await deps.sql.tx(async (tx) => {
    const cur = await tx.get<{ security_groups: string }>('SELECT security_groups FROM instances WHERE uuid = ? AND deleted = 0', [uuid]);
    if (!cur) return;
    const names = [...new Set(fn(json<string[]>(cur.security_groups, [])))];
    await updateInstance(tx, uuid, { security_groups: JSON.stringify(names) });
  });
}

const addSecurityGroup: ActionHandler = async (deps, req, value) => {
  const { ctx, net, row, name, group, ports } = await prepare(deps, req, value, 'os_compute_api:os-security-groups:add');
  const missing = ports.filter((p) => !groupsOf(p).includes(group.id));
  if (!missing.length) throw invalid(`Security group ${name} is already associated with the instance ${row.uuid}`);
  for (const p of ports) {
    if (p.port_security_enabled === false || !(p.fixed_ips as unknown[] | undefined)?.length)
      throw invalid('Network requires port_security_enabled and subnet associated in order to apply security groups.');
  }
  for (const p of missing) await net.updatePortSecurityGroups(ctx, p.id, [...groupsOf(p), group.id]);
  await setNames(deps, row.uuid, (names) => [...names.filter((n) => n !== group.id), String(group.name)]);
  return { status: 202 };
};

const removeSecurityGroup: ActionHandler = async (deps, req, value) => {
  const { ctx, net, row, name, group, ports } = await prepare(deps, req, value, 'os_compute_api:os-security-groups:remove');
  const having = ports.filter((p) => groupsOf(p).includes(group.id));
  if (!having.length) throw notFound(`Security group ${name} not associated with the instance ${row.uuid}`);
  for (const p of having) await net.updatePortSecurityGroups(ctx, p.id, groupsOf(p).filter((g) => g !== group.id));
  await setNames(deps, row.uuid, (names) => names.filter((n) => n !== group.name && n !== group.id));
  return { status: 202 };
};

export const securityGroupActions: Record<string, ActionHandler> = { addSecurityGroup, removeSecurityGroup };

/** GET /servers/{id}/os-security-groups: the groups of the server's ports, in Nova's shape. */
async function listServerGroups(deps: ComputeApiDeps, req: ApiRequest): Promise<ApiResponse> {
  const ctx = ctxOf(req);
  const row = await loadServer(deps.sql, ctx, req.params.id);
  if (!deps.network) return { status: 200, body: { security_groups: [] } };
  const net = deps.network.api;
  const ports = await net.listPorts(ctx, { device_id: row.uuid });
  const ids = [...new Set(ports.flatMap(groupsOf))];
  const groups = ids.length ? await net.listSecurityGroups(ctx, { id: ids }) : [];
  return { status: 200, body: { security_groups: await novaGroupViews(net, ctx, groups) } };
}

export const mountServerSecurityGroups: MountFn = (router, deps) => {
  router.get(`${API_PREFIX}/servers/:id/os-security-groups`, (req) => listServerGroups(deps, req));
};
