/**
 * What the network core needs from the security group half (src/network/security-groups*.ts),
 * as one object so the core does not depend on how that half is laid out. service.ts builds
 * it from the security group functions; tests may pass their own. Every call takes the
 * caller's Sql so it joins the caller's transaction.
 */
import type { Sql } from '../db/sql.js';
import type { AgentRule } from './types.js';

/** A port as the rule resolver needs it. */
export interface RulePort {
  id: string;
  project_id: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
}

export interface SecurityGroupLink {
  /** Creates the project's `default` group when missing; idempotent. */
  ensureDefault(sql: Sql, projectId: string): Promise<unknown>;
  /** Group ids for names or ids in projectId (the default group for an empty list); 400/404 naming an unknown one. */
  resolve(sql: Sql, projectId: string, namesOrIds: string[]): Promise<string[]>;
  /** Replaces the port's groups (in order). */
  setPortGroups(sql: Sql, portId: string, ids: string[]): Promise<void>;
  /** Group ids of each port (an entry for every port asked about). */
  portGroups(sql: Sql, portIds: string[]): Promise<Map<string, string[]>>;
  /** Each port's rules with remote groups expanded. */
  agentRules(sql: Sql, ports: RulePort[]): Promise<Map<string, { ingress: AgentRule[]; egress: AgentRule[] }>>;
}

/** No security groups at all (tests of the core alone): ports keep no groups, nothing is filtered by group. */
export const noSecurityGroups: SecurityGroupLink = {
  ensureDefault: async () => undefined,
  resolve: async () => [],
  setPortGroups: async () => undefined,
  portGroups: async (_sql, ids) => new Map(ids.map((id) => [id, []])),
  agentRules: async (_sql, ports) => new Map(ports.map((p) => [p.id, { ingress: [], egress: [] }])),
};
