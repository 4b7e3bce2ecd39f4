/** The Network API's subnets (IPv4 only): list, show, create (one or native bulk), update, delete. */
import type { Sql } from '../db/sql.js';
import { invalid, NovaError } from '../errors.js';
import type { Router } from '../http/router.js';
import { ctxOf, type RequestContext } from '../http/types.js';
import { validate } from '../http/validate.js';
import { createItems } from './bulk.js';
import { ownedNetwork, ownedSubnet, requireWriter, targetProject, visibleSubnet } from './access.js';
import { hostsOnNetworks, notifyHosts, type NetCore } from './core.js';
import { listResponse, selectFields } from './query.js';
import { subnetNotFound, type NetworkRow, type SubnetRow } from './repo.js';
import { createSubnet, deleteSubnet, updateSubnet, type SubnetChanges, type SubnetInput } from './subnets.js';
import { SUBNET_FIELDS, subnetView } from './views.js';

const text255 = { type: 'string', maxLength: 255 };
const ipText = { type: 'string', maxLength: 64 };
const attrs = {
  name: text255,
  description: text255,
  gateway_ip: { type: ['string', 'null'], maxLength: 64 },
  enable_dhcp: { type: 'boolean' },
  allocation_pools: {
    type: 'array',
    items: { type: 'object', required: ['start', 'end'], additionalProperties: false, properties: { start: ipText, end: ipText } },
  },
  dns_nameservers: { type: 'array', items: ipText },
  host_routes: {
    type: 'array',
    items: { type: 'object', required: ['destination', 'nexthop'], additionalProperties: false, properties: { destination: ipText, nexthop: ipText } },
  },
  service_types: { type: 'array', maxItems: 0 },
};
const createSchema = {
  type: 'object', required: ['subnet'], additionalProperties: false,
  properties: {
    subnet: {
      type: 'object', required: ['network_id'], additionalProperties: false,
      properties: {
        ...attrs, network_id: text255, cidr: { type: 'string', maxLength: 64 }, ip_version: { type: 'integer' }, tenant_id: text255, project_id: text255,
        subnetpool_id: { type: 'null' }, use_default_subnetpool: { type: 'boolean' }, prefixlen: { type: 'integer' },
        ipv6_ra_mode: { type: 'null' }, ipv6_address_mode: { type: 'null' },
      },
    },
  },
};
const updateSchema = {
  type: 'object', required: ['subnet'], additionalProperties: false,
  properties: { subnet: { type: 'object', additionalProperties: false, properties: attrs } },
};

type CreateBody = SubnetInput & { network_id: string; ip_version?: number; cidr?: string; tenant_id?: string; project_id?: string; use_default_subnetpool?: boolean; prefixlen?: number };

/** Checks a create body (IPv4 with a cidr, no subnet pools) and who may add a subnet to its network. */
async function checkCreate(sql: Sql, ctx: RequestContext, b: CreateBody): Promise<{ network: NetworkRow; project: string; body: CreateBody }> {
  if (b.ip_version !== undefined && b.ip_version !== 4) {
    if (b.ip_version === 6) throw new NovaError('Invalid', 'Invalid input for ip_version. Reason: IPv6 subnets are not supported here; only ip_version 4 is.', { neutronType: 'InvalidInput' });
    throw invalid(`Invalid input for ip_version. Reason: ${b.ip_version} is not in [4, 6].`);
  }
  if (b.cidr === undefined) throw invalid('Invalid input for cidr. Reason: a cidr is required (subnet pools are not supported).');
  if (b.use_default_subnetpool || b.prefixlen !== undefined) throw invalid('Subnet pools are not supported: give the subnet a cidr.');
  const network = await ownedNetwork(sql, ctx, b.network_id, 'create_subnet');
  return { network, project: targetProject(ctx, b), body: b };
}

export function mountSubnets(router: Router, core: NetCore): void {
  const { sql, sg } = core;
  router.get('/v2.0/subnets', async (req) => {
    const ctx = ctxOf(req);
    const rows = ctx.isAdmin
      ? await sql.all<SubnetRow>('SELECT * FROM subnets ORDER BY created_at, id')
      : await sql.all<SubnetRow>(
          'SELECT s.* FROM subnets s JOIN networks n ON n.id = s.network_id WHERE s.project_id = ? OR n.shared = 1 ORDER BY s.created_at, s.id',
          [ctx.projectId ?? ''],
        );
    return listResponse(req, rows.map(subnetView), { collection: 'subnets', fields: SUBNET_FIELDS, markerNotFound: subnetNotFound });
  });
  router.get('/v2.0/subnets/:id', async (req) => {
    return { status: 200, body: { subnet: selectFields(req, subnetView(await visibleSubnet(sql, ctxOf(req), req.params.id))) } };
  });
  router.post('/v2.0/subnets', async (req) => {
    const ctx = ctxOf(req);
    requireWriter(ctx, 'create_subnet');
    const { items, bulk, each } = createItems<CreateBody>(req.body, 'subnet', 'subnets', createSchema);
    // Every item is checked before anything is written; then all are created in one transaction.
    const checked: { network: NetworkRow; project: string; body: CreateBody }[] = [];
    for (const [i, b] of items.entries()) checked.push(await each(i, () => checkCreate(sql, ctx, b)));
    const rows = await sql.tx(async (tx) => {
      const out: SubnetRow[] = [];
      for (const [i, c] of checked.entries()) out.push(await each(i, () => createSubnet(tx, sg, c.network, c.project, c.body as SubnetInput)));
      return out;
    });
    return { status: 201, body: bulk ? { subnets: rows.map(subnetView) } : { subnet: subnetView(rows[0]) } };
  });
  router.put('/v2.0/subnets/:id', async (req) => {
    const ctx = ctxOf(req);
    requireWriter(ctx, 'update_subnet');
    const b = validate<{ subnet: SubnetChanges }>(updateSchema, req.body).subnet;
    const before = await ownedSubnet(sql, ctx, req.params.id, 'update_subnet');
    const row = await updateSubnet(sql, sg, before.id, b);
    await notifyHosts(core, await hostsOnNetworks(core, [row.network_id]));
    return { status: 200, body: { subnet: subnetView(row) } };
  });
  router.delete('/v2.0/subnets/:id', async (req) => {
    const ctx = ctxOf(req);
    requireWriter(ctx, 'delete_subnet');
    const row = await ownedSubnet(sql, ctx, req.params.id, 'delete_subnet');
    await deleteSubnet(sql, row.id);
    await notifyHosts(core, await hostsOnNetworks(core, [row.network_id]));
    return { status: 204 };
  });
}
