/**
 * The security group half of the network service, in one import:
 * - DB-level functions the network core uses for ports (default group, name resolution,
 *   bindings, the agents' rules, which hosts a change reaches);
 * - mountSecurityGroups: the REST routes;
 * - securityGroupApi: the security group part of NetworkApi (Compute API proxies);
 * - securityGroupLink: the same DB functions in the shape src/network/sg-link.ts expects.
 */
import { inList, type Sql } from '../db/sql.js';
import type { RequestContext } from '../http/types.js';
import type { NetworkApi, NeutronView } from './client.js';
import { agentRules } from './security-groups-agent.js';
import { createRules, deleteRule, showRule } from './security-group-rules-api.js';
import { createGroup, deleteGroup, listGroupViews, showGroup, updateGroup, type SecurityGroupDeps } from './security-groups-api.js';
import { ensureDefaultSecurityGroup, portSecurityGroupIds, resolveSecurityGroups, setPortSecurityGroups } from './security-groups-store.js';

export { agentRules, agentProtocol, type PortGroups, type PortRules } from './security-groups-agent.js';
export { mountSecurityGroups } from './security-groups-routes.js';
export type { SecurityGroupDeps } from './security-groups-api.js';
export {
  DEFAULT_GROUP, ensureDefaultSecurityGroup, groupsOfPortsAffectedBy, hostsAffectedByPorts, portSecurityGroupIds,
  resolveSecurityGroups, setPortSecurityGroups,
} from './security-groups-store.js';

export type SecurityGroupApi = Pick<
  NetworkApi,
  | 'listSecurityGroups' | 'showSecurityGroup' | 'createSecurityGroup' | 'updateSecurityGroup' | 'deleteSecurityGroup'
  | 'createSecurityGroupRule' | 'showSecurityGroupRule' | 'deleteSecurityGroupRule'
>;

/** The security group calls of NetworkApi, with the same checks and errors as the REST routes. */
export function securityGroupApi(deps: SecurityGroupDeps): SecurityGroupApi {
  return {
    async listSecurityGroups(ctx: RequestContext, filters = {}): Promise<NeutronView[]> {
      return (await listGroupViews(deps.sql, ctx)).filter(
        (g) =>
          (!filters.id || filters.id.includes(g.id)) &&
          (filters.name === undefined || g.name === filters.name) &&
          (filters.project_id === undefined || g.project_id === filters.project_id),
      );
    },
    showSecurityGroup: (ctx, id) => showGroup(deps.sql, ctx, id),
    createSecurityGroup: (ctx, body) => createGroup(deps, ctx, body),
    updateSecurityGroup: (ctx, id, body) => updateGroup(deps, ctx, id, body),
    deleteSecurityGroup: (ctx, id) => deleteGroup(deps, ctx, id),
    createSecurityGroupRule: async (ctx, body) => (await createRules(deps, ctx, [body]))[0],
    showSecurityGroupRule: (ctx, id) => showRule(deps.sql, ctx, id),
    deleteSecurityGroupRule: (ctx, id) => deleteRule(deps, ctx, id),
  };
}

/**
 * The DB functions as the network core's SecurityGroupLink (src/network/sg-link.ts). Its
 * agentRules reads the ports' groups and port security itself (two queries more).
 */
export const securityGroupLink = {
  ensureDefault: (sql: Sql, projectId: string) => ensureDefaultSecurityGroup(sql, projectId),
  resolve: resolveSecurityGroups,
  setPortGroups: setPortSecurityGroups,
  portGroups: portSecurityGroupIds,
  async agentRules(sql: Sql, ports: { id: string }[]) {
    const ids = ports.map((p) => p.id);
    const groups = await portSecurityGroupIds(sql, ids);
    const rows = ids.length
      ? await sql.all<{ id: string; port_security_enabled: number }>(`SELECT id, port_security_enabled FROM ports WHERE id IN ${inList(ids.length)}`, ids)
      : [];
    const secured = new Map(rows.map((r) => [r.id, !!r.port_security_enabled]));
    return agentRules(
      sql,
      ids.map((id) => ({ id, security_group_ids: groups.get(id) ?? [], port_security: secured.get(id) ?? true })),
    );
  },
};
