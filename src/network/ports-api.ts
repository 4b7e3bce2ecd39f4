/** The Network API's ports: list, show, create (one or native bulk), update, delete. */
import { inList } from '../db/sql.js';
import { policyForbidden } from '../errors.js';
import type { Router } from '../http/router.js';
import { ctxOf, type RequestContext } from '../http/types.js';
import { validate } from '../http/validate.js';
import { createItems } from './bulk.js';
import { requireWriter, targetProject, visibleNetwork, visiblePort } from './access.js';
import { notifyHosts, portViews, type NetCore } from './core.js';
import { createPort, deletePort, updatePort, type PortChanges, type PortInput } from './ports.js';
import { listResponse, selectFields } from './query.js';
import { DHCP_OWNER, getNetwork, getPort, portNotFound, type NetworkRow, type PortRow } from './repo.js';
import { PORT_FIELDS } from './views.js';

const text255 = { type: 'string', maxLength: 255 };
const attrs = {
  name: text255,
  description: text255,
  admin_state_up: { type: 'boolean' },
  mac_address: { type: 'string', maxLength: 32 },
  fixed_ips: {
    type: 'array',
    items: { type: 'object', additionalProperties: false, properties: { subnet_id: text255, ip_address: { type: 'string', maxLength: 64 } } },
  },
  device_owner: text255,
  device_id: text255,
  'binding:host_id': text255,
  'binding:vnic_type': { type: 'string', enum: ['normal'] },
  'binding:profile': { type: 'object', maxProperties: 0 },
  port_security_enabled: { type: 'boolean' },
  security_groups: { type: 'array', items: text255 },
};
const createSchema = {
  type: 'object', required: ['port'], additionalProperties: false,
  properties: { port: { type: 'object', required: ['network_id'], additionalProperties: false, properties: { ...attrs, network_id: text255, tenant_id: text255, project_id: text255 } } },
};
const updateSchema = {
  type: 'object', required: ['port'], additionalProperties: false,
  properties: { port: { type: 'object', additionalProperties: false, properties: attrs } },
};

type PortBody = Omit<PortInput, 'project_id' | 'binding_host_id'> & { network_id?: string; 'binding:host_id'?: string; tenant_id?: string; project_id?: string };

/**
 * Who may set which port attributes (Neutron's create_port:* / update_port:* defaults):
 * binding:host_id admins only; mac_address on create admins or the network's owner, on update
 * admins only; a specific fixed IP address admins or the network's owner (a subnet_id alone is
 * fine on a shared network); a network:dhcp device_owner admins only.
 */
function checkAttrs(ctx: RequestContext, b: PortBody, action: 'create_port' | 'update_port', network: NetworkRow): PortChanges {
  if (ctx.isAdmin) return { ...b, binding_host_id: b['binding:host_id'] };
  const networkOwner = ctx.projectId === network.project_id;
  if (b.mac_address !== undefined && !(action === 'create_port' && networkOwner)) throw policyForbidden(`${action}:mac_address`);
  if (b.fixed_ips?.some((f) => f.ip_address !== undefined) && !networkOwner) throw policyForbidden(`${action}:fixed_ips:ip_address`);
  if (b['binding:host_id'] !== undefined) throw policyForbidden(`${action}:binding:host_id`);
  if (b.device_owner === DHCP_OWNER) throw policyForbidden(`${action}:device_owner`);
  return { ...b };
}

function strip(b: PortChanges): PortChanges {
  const { 'binding:host_id': _h, 'binding:vnic_type': _v, 'binding:profile': _p, network_id: _n, tenant_id: _t, project_id: _pr, ...rest } = b as any;
  return rest;
}

/** The ports ctx may see, narrowed in SQL by the indexed filters the query carries. */
export async function visiblePorts(core: NetCore, ctx: RequestContext, q: URLSearchParams): Promise<PortRow[]> {
  const where: string[] = [];
  const params: string[] = [];
  if (!ctx.isAdmin) {
    where.push('project_id = ?');
    params.push(ctx.projectId ?? '');
  }
  for (const col of ['device_id', 'network_id', 'id']) {
    const vals = q.getAll(col);
    if (!vals.length) continue;
    where.push(`${col} IN ${inList(vals.length)}`);
    params.push(...vals);
  }
  return core.sql.all<PortRow>(`SELECT * FROM ports ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at, id`, params);
}

export function mountPorts(router: Router, core: NetCore): void {
  const { sql, sg } = core;
  const show = async (ctx: RequestContext, id: string) => (await portViews(core, [await getPort(sql, id)], ctx))[0];
  router.get('/v2.0/ports', async (req) => {
    const ctx = ctxOf(req);
    const views = await portViews(core, await visiblePorts(core, ctx, req.query), ctx);
    return listResponse(req, views, { collection: 'ports', fields: PORT_FIELDS, markerNotFound: portNotFound });
  });
  router.get('/v2.0/ports/:id', async (req) => {
    const ctx = ctxOf(req);
    const row = await visiblePort(sql, ctx, req.params.id);
    return { status: 200, body: { port: selectFields(req, (await portViews(core, [row], ctx))[0]) } };
  });
  router.post('/v2.0/ports', async (req) => {
    const ctx = ctxOf(req);
    requireWriter(ctx, 'create_port');
    const { items, bulk, each } = createItems<PortBody>(req.body, 'port', 'ports', createSchema);
    // Every item is checked before anything is written; then all are created in one transaction.
    const checked: { network: NetworkRow; input: PortInput }[] = [];
    for (const [i, b] of items.entries())
      checked.push(
        await each(i, async () => {
          const network = await visibleNetwork(sql, ctx, b.network_id!);
          const changes = checkAttrs(ctx, b, 'create_port', network);
          return { network, input: { ...strip(changes), binding_host_id: changes.binding_host_id, project_id: targetProject(ctx, b) } };
        }),
      );
    const rows = await sql.tx(async (tx) => {
      const out: PortRow[] = [];
      for (const [i, c] of checked.entries()) out.push(await each(i, () => createPort(tx, sg, c.network, c.input)));
      return out;
    });
    await notifyHosts(core, rows.map((r) => r.binding_host_id));
    const views = await portViews(core, rows, ctx);
    return { status: 201, body: bulk ? { ports: views } : { port: views[0] } };
  });
  router.put('/v2.0/ports/:id', async (req) => {
    const ctx = ctxOf(req);
    requireWriter(ctx, 'update_port');
    const b = validate<{ port: PortBody }>(updateSchema, req.body).port;
    const before = await visiblePort(sql, ctx, req.params.id);
    const changes = checkAttrs(ctx, b, 'update_port', await getNetwork(sql, before.network_id));
    const row = await updatePort(sql, sg, before.id, { ...strip(changes), binding_host_id: changes.binding_host_id });
    await notifyHosts(core, [before.binding_host_id, row.binding_host_id]);
    return { status: 200, body: { port: await show(ctx, row.id) } };
  });
  router.delete('/v2.0/ports/:id', async (req) => {
    const ctx = ctxOf(req);
    requireWriter(ctx, 'delete_port');
    const row = await visiblePort(sql, ctx, req.params.id);
    await deletePort(sql, row.id);
    await notifyHosts(core, [row.binding_host_id]);
    return { status: 204 };
  });
}
