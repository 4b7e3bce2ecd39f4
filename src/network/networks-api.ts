/** The Network API's networks: list, show, create (one or native bulk), update, delete (Neutron v2.0). */
import type { Sql } from '../db/sql.js';
import { NovaError, policyForbidden } from '../errors.js';
import type { Router } from '../http/router.js';
import { ctxOf, type RequestContext } from '../http/types.js';
import { validate } from '../http/validate.js';
import { uuid } from '../util/ids.js';
import { nowIso } from '../util/time.js';
import { createItems } from './bulk.js';
import { networkScope, ownedNetwork, requireWriter, targetProject, visibleNetwork } from './access.js';
import { networkViews, notifyHosts, hostsOnNetworks, type NetCore } from './core.js';
import { listResponse, selectFields } from './query.js';
import { checkQuota } from './quotas.js';
import { DHCP_OWNER, getNetwork, networkNotFound, type NetworkRow } from './repo.js';
import { NETWORK_FIELDS } from './views.js';

const text255 = { type: 'string', maxLength: 255 };
const attrs = {
  name: text255,
  description: text255,
  admin_state_up: { type: 'boolean' },
  shared: { type: 'boolean' },
  mtu: { type: 'integer', minimum: 68, maximum: 9000 },
  port_security_enabled: { type: 'boolean' },
  'router:external': { type: 'boolean' },
  availability_zone_hints: { type: 'array', items: { type: 'string', enum: ['nova'] } },
};
const createSchema = {
  type: 'object', required: ['network'], additionalProperties: false,
  properties: { network: { type: 'object', additionalProperties: false, properties: { ...attrs, tenant_id: text255, project_id: text255 } } },
};
const updateSchema = {
  type: 'object', required: ['network'], additionalProperties: false,
  properties: { network: { type: 'object', additionalProperties: false, properties: attrs } },
};

type NetworkBody = { name?: string; description?: string; admin_state_up?: boolean; shared?: boolean; mtu?: number; port_security_enabled?: boolean; 'router:external'?: boolean; tenant_id?: string; project_id?: string };

function adminOnlyAttrs(ctx: RequestContext, b: NetworkBody, action: string): void {
  if (ctx.isAdmin) return;
  if (b.shared) throw policyForbidden(`${action}:shared`);
  if (b['router:external']) throw policyForbidden(`${action}:router:external`);
}

/** The networks ctx may see (all columns), in creation order. */
export async function visibleNetworks(core: NetCore, ctx: RequestContext): Promise<NetworkRow[]> {
  const s = networkScope(ctx);
  return core.sql.all<NetworkRow>(`SELECT * FROM networks WHERE ${s.where} ORDER BY created_at, id`, s.params);
}

/** Checks who may create network b and builds its row (nothing written yet). */
function newNetworkRow(ctx: RequestContext, b: NetworkBody): NetworkRow {
  adminOnlyAttrs(ctx, b, 'create_network');
  const project = targetProject(ctx, b);
  const now = nowIso();
  return {
    id: uuid(), project_id: project, name: b.name ?? '', description: b.description ?? '', admin_state_up: b.admin_state_up === false ? 0 : 1,
    shared: b.shared ? 1 : 0, external: b['router:external'] ? 1 : 0, status: 'ACTIVE', mtu: b.mtu ?? 1500,
    port_security_enabled: b.port_security_enabled === false ? 0 : 1, tags: '[]', revision_number: 1, created_at: now, updated_at: now,
  };
}

async function insertNetwork(tx: Sql, row: NetworkRow): Promise<void> {
  await checkQuota(tx, row.project_id, 'network');
  await tx.run(
    `INSERT INTO networks (id, project_id, name, description, admin_state_up, shared, external, status, mtu, port_security_enabled, tags,
      revision_number, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [row.id, row.project_id, row.name, row.description, row.admin_state_up, row.shared, row.external, row.status, row.mtu,
      row.port_security_enabled, row.tags, row.revision_number, row.created_at, row.updated_at],
  );
}

/** Creates a network for the caller (or, for admins, the project the body names). */
export async function createNetwork(core: NetCore, ctx: RequestContext, b: NetworkBody): Promise<NetworkRow> {
  return (await createNetworks(core, ctx, [b]))[0];
}

/**
 * Creates all the networks or none: every body is checked first, then all are inserted in one
 * transaction (quota counted for the whole batch). Errors of bulk requests name the item.
 */
export async function createNetworks(
  core: NetCore, ctx: RequestContext, bodies: NetworkBody[], each: <R>(i: number, fn: () => R) => R = (_i, fn) => fn(),
): Promise<NetworkRow[]> {
  requireWriter(ctx, 'create_network');
  const rows = bodies.map((b, i) => each(i, () => newNetworkRow(ctx, b)));
  await core.sql.tx(async (tx) => {
    for (const [i, row] of rows.entries()) await each(i, () => insertNetwork(tx, row));
  });
  return rows;
}

/** Deletes a network and its subnets; 409 'NetworkInUse' while ports other than DHCP ones remain. */
export async function deleteNetwork(core: NetCore, ctx: RequestContext, id: string): Promise<void> {
  requireWriter(ctx, 'delete_network');
  await ownedNetwork(core.sql, ctx, id, 'delete_network');
  await core.sql.tx(async (tx) => {
    const used = await tx.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ports WHERE network_id = ? AND device_owner <> '${DHCP_OWNER}'`, [id]);
    if (Number(used?.n) > 0)
      throw new NovaError('Conflict', `Unable to complete operation on network ${id}. There are one or more ports still in use on the network.`, { neutronType: 'NetworkInUse' });
    await tx.run(`DELETE FROM sg_port_bindings WHERE port_id IN (SELECT id FROM ports WHERE network_id = ?)`, [id]);
    await tx.run('DELETE FROM ip_allocations WHERE network_id = ?', [id]);
    await tx.run('DELETE FROM ports WHERE network_id = ?', [id]);
    await tx.run('DELETE FROM subnets WHERE network_id = ?', [id]);
    await tx.run('DELETE FROM networks WHERE id = ?', [id]);
  });
}

export function mountNetworks(router: Router, core: NetCore): void {
  const { sql } = core;
  router.get('/v2.0/networks', async (req) => {
    const views = await networkViews(core, await visibleNetworks(core, ctxOf(req)));
    return listResponse(req, views, { collection: 'networks', fields: NETWORK_FIELDS, markerNotFound: networkNotFound });
  });
  router.get('/v2.0/networks/:id', async (req) => {
    const [view] = await networkViews(core, [await visibleNetwork(sql, ctxOf(req), req.params.id)]);
    return { status: 200, body: { network: selectFields(req, view) } };
  });
  router.post('/v2.0/networks', async (req) => {
    const { items, bulk, each } = createItems<NetworkBody>(req.body, 'network', 'networks', createSchema);
    const views = await networkViews(core, await createNetworks(core, ctxOf(req), items, each));
    return { status: 201, body: bulk ? { networks: views } : { network: views[0] } };
  });
  router.put('/v2.0/networks/:id', async (req) => {
    const ctx = ctxOf(req);
    requireWriter(ctx, 'update_network');
    const b = validate<{ network: NetworkBody }>(updateSchema, req.body).network;
    adminOnlyAttrs(ctx, b, 'update_network');
    const row = await ownedNetwork(sql, ctx, req.params.id, 'update_network');
    const next: NetworkRow = {
      ...row,
      name: b.name ?? row.name,
      description: b.description ?? row.description,
      admin_state_up: b.admin_state_up === undefined ? row.admin_state_up : b.admin_state_up ? 1 : 0,
      shared: b.shared === undefined ? row.shared : b.shared ? 1 : 0,
      external: b['router:external'] === undefined ? row.external : b['router:external'] ? 1 : 0,
      mtu: b.mtu ?? row.mtu,
      port_security_enabled: b.port_security_enabled === undefined ? row.port_security_enabled : b.port_security_enabled ? 1 : 0,
      revision_number: row.revision_number + 1,
      updated_at: nowIso(),
    };
    await sql.run(
      `UPDATE networks SET name = ?, description = ?, admin_state_up = ?, shared = ?, external = ?, mtu = ?, port_security_enabled = ?,
        revision_number = ?, updated_at = ? WHERE id = ?`,
      [next.name, next.description, next.admin_state_up, next.shared, next.external, next.mtu, next.port_security_enabled,
        next.revision_number, next.updated_at, row.id],
    );
    if (next.mtu !== row.mtu) await notifyHosts(core, await hostsOnNetworks(core, [row.id]));
    return { status: 200, body: { network: (await networkViews(core, [await getNetwork(sql, row.id)]))[0] } };
  });
  router.delete('/v2.0/networks/:id', async (req) => {
    await deleteNetwork(core, ctxOf(req), req.params.id);
    return { status: 204 };
  });
}
