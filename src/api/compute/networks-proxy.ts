/**
 * Nova's deprecated network proxies, up to microversion 2.35 (404 from 2.36, as Nova), as Nova
 * answers them with Neutron: /os-networks list and show (id and label real, the nova-network
 * fields null; the admin-only fields only for admins), /os-tenant-networks list and show
 * ({id, cidr: "None", label}); creating, deleting and (dis)associating networks through them
 * is not supported (501), as with Neutron: the Network API at /network/v2.0 does that.
 */
import { isNovaError, notFound, notImplemented } from '../../errors.js';
import { ctxOf, type ApiRequest, type RequestContext } from '../../http/types.js';
import type { NetworkApi, NeutronView } from '../../network/client.js';
import { API_PREFIX, type MountFn } from './common.js';
import { NETWORKING_UNAVAILABLE } from './server-networks.js';

const FIELDS = ['id', 'cidr', 'netmask', 'gateway', 'broadcast', 'dns1', 'dns2', 'cidr_v6', 'gateway_v6', 'label', 'netmask_v6'];
const ADMIN_FIELDS = [
  'created_at', 'updated_at', 'deleted_at', 'deleted', 'injected', 'bridge', 'vlan', 'vpn_public_address', 'vpn_public_port',
  'vpn_private_address', 'dhcp_start', 'project_id', 'host', 'bridge_interface', 'multi_host', 'priority', 'rxtx_base', 'mtu',
  'dhcp_server', 'enable_dhcp', 'share_address',
];
const UNSUPPORTED = 'The requested functionality is not supported.';

/** Nova's network_dict with Neutron behind it. */
function networkView(ctx: RequestContext, n: NeutronView): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of ctx.isAdmin ? [...FIELDS, ...ADMIN_FIELDS] : FIELDS) out[f] = f === 'id' ? n.id : f === 'label' ? (n.name ?? null) : null;
  return out;
}

/** os-tenant-networks' view: cidr is the text "None" with Neutron, as Nova prints it. */
const tenantNetworkView = (n: NeutronView) => ({ id: n.id, cidr: 'None', label: n.name ?? null });

export const mountNetworksProxy: MountFn = (router, deps) => {
  const gate = (req: ApiRequest): { ctx: RequestContext; api: NetworkApi } => {
    if (req.mv.atLeast('2.36')) throw notFound('The resource could not be found.');
    if (!deps.network) throw notImplemented(NETWORKING_UNAVAILABLE);
    return { ctx: ctxOf(req), api: deps.network.api };
  };
  const show = async (req: ApiRequest) => {
    const { ctx, api } = gate(req);
    try {
      return { ctx, net: await api.showNetwork(ctx, req.params.id) };
    } catch (e) {
      if (isNovaError(e) && e.kind === 'NotFound') throw notFound('Network not found');
      throw e;
    }
  };
  const unsupported = (req: ApiRequest) => {
    gate(req);
    throw notImplemented(UNSUPPORTED);
  };

  for (const base of [`${API_PREFIX}/os-networks`, `${API_PREFIX}/os-tenant-networks`]) {
    const tenant = base.endsWith('os-tenant-networks');
    router.get(base, async (req) => {
      const { ctx, api } = gate(req);
      const nets = await api.listNetworks(ctx);
      return { status: 200, body: { networks: nets.map((n) => (tenant ? tenantNetworkView(n) : networkView(ctx, n))) } };
    });
    router.get(`${base}/:id`, async (req) => {
      const { ctx, net } = await show(req);
      return { status: 200, body: { network: tenant ? tenantNetworkView(net) : networkView(ctx, net) } };
    });
    router.post(base, unsupported);
    router.delete(`${base}/:id`, unsupported);
  }
  router.post(`${API_PREFIX}/os-networks/add`, unsupported);
  router.post(`${API_PREFIX}/os-networks/:id/action`, unsupported);
};
