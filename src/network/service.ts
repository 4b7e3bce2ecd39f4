/**
 * The network service (a Neutron v2.0 subset over nova-network's dataplane): its HTTP API
 * (mounted at `/network`), the NetworkApi the Compute API's proxies use acting for a user, the
 * NetworkClient compute hosts use, the agents' HostStateSource, and the start-up seed.
 */
import type { Bus } from '../bus/bus.js';
import type { Sql } from '../db/sql.js';
import { Router } from '../http/router.js';
import type { RequestContext } from '../http/types.js';
import { requireWriter, visibleNetwork, visiblePort } from './access.js';
import type { NetworkApi, NetworkClient, NeutronView } from './client.js';
import { networkViews, notifyHosts, portViews, type NetCore } from './core.js';
import { mountExtensions } from './extensions.js';
import { hostStateSource } from './host-state.js';
import { inProcessNetworkClient } from './in-process-client.js';
import { mountNetworks, visibleNetworks } from './networks-api.js';
import { mountPorts, visiblePorts } from './ports-api.js';
import { updatePort } from './ports.js';
import { mountQuotas } from './quotas.js';
import { mountSecurityGroups, securityGroupApi, securityGroupLink } from './security-groups.js';
import { seedNetworks } from './seed.js';
import type { SecurityGroupLink } from './sg-link.js';
import { mountSubnets } from './subnets-api.js';
import type { HostStateSource } from './types.js';

export interface NetworkService {
  router: Router;
  api: NetworkApi;
  client: NetworkClient;
  agentSource: HostStateSource;
  /** The port holding a fixed IP (the metadata service's lookup), null when none does. */
  portByFixedIp(ip: string): Promise<{ port_id: string; device_id: string } | null>;
  /** Creates the shared network `private` and its subnet when missing. Idempotent. */
  seed(): Promise<void>;
}

/** The networks/ports half of NetworkApi, with the REST API's visibility and policy. */
function coreApi(core: NetCore): Omit<NetworkApi, keyof ReturnType<typeof securityGroupApi>> {
  const { sql } = core;
  return {
    async listNetworks(ctx: RequestContext, f = {}): Promise<NeutronView[]> {
      const rows = (await visibleNetworks(core, ctx)).filter(
        (n) =>
          (!f.id || f.id.includes(n.id)) &&
          (f.name === undefined || n.name === f.name) &&
          (f.shared === undefined || !!n.shared === f.shared) &&
          (f.project_id === undefined || n.project_id === f.project_id),
      );
      return networkViews(core, rows);
    },
    async showNetwork(ctx, id) {
      return (await networkViews(core, [await visibleNetwork(sql, ctx, id)]))[0];
    },
    async listPorts(ctx, f) {
      const q = new URLSearchParams();
      if (f.device_id !== undefined) q.append('device_id', f.device_id);
      if (f.network_id !== undefined) q.append('network_id', f.network_id);
      for (const id of f.id ?? []) q.append('id', id);
      if (f.id && !f.id.length) return [];
      return portViews(core, await visiblePorts(core, ctx, q), ctx);
    },
    async showPort(ctx, id) {
      return (await portViews(core, [await visiblePort(sql, ctx, id)], ctx))[0];
    },
    async updatePortSecurityGroups(ctx, id, ids) {
      requireWriter(ctx, 'update_port:security_groups');
      const before = await visiblePort(sql, ctx, id);
      const row = await updatePort(sql, core.sg, before.id, { security_groups: ids });
      await notifyHosts(core, [row.binding_host_id]);
      return (await portViews(core, [row], ctx))[0];
    },
  };
}

/** `sg` replaces the security group half's DB functions (tests of the core alone). */
export function createNetworkService(deps: { sql: Sql; bus: Bus; sg?: SecurityGroupLink }): NetworkService {
  const core: NetCore = { sql: deps.sql, bus: deps.bus, sg: deps.sg ?? securityGroupLink };
  const router = new Router('neutron');
  mountExtensions(router);
  mountNetworks(router, core);
  mountSubnets(router, core);
  mountPorts(router, core);
  mountQuotas(router, deps.sql);
  mountSecurityGroups(router, { sql: deps.sql, bus: deps.bus });
  return {
    router,
    api: { ...coreApi(core), ...securityGroupApi({ sql: deps.sql, bus: deps.bus }) },
    client: inProcessNetworkClient(core),
    agentSource: hostStateSource(deps.sql, core.sg),
    async portByFixedIp(ip) {
      const row = await deps.sql.get<{ port_id: string; device_id: string }>(
        'SELECT a.port_id, p.device_id FROM ip_allocations a JOIN ports p ON p.id = a.port_id WHERE a.ip_address = ? LIMIT 1',
        [ip],
      );
      return row ?? null;
    },
    seed: () => seedNetworks(deps.sql, core.sg),
  };
}
