/**
 * GET /limits: the project's absolute limits and usage in Nova's names. Rate limits are gone
 * (always []). Network limits disappear at 2.36, maxImageMeta at 2.39, personality at 2.57.
 * Admins may ask about another project with ?tenant_id=.
 */
import { policyForbidden } from '../../errors.js';
import { ctxOf } from '../../http/types.js';
import { requireProject } from '../policy.js';
import { API_PREFIX, type MountFn } from './common.js';
import { quotaLimits, quotaUsage } from './quota.js';
import { rejectUnknownQuery } from './query.js';

export const mountLimits: MountFn = (router, { sql }) => {
  router.get(`${API_PREFIX}/limits`, async (req) => {
    const ctx = ctxOf(req);
    if (req.mv.atLeast('2.75')) rejectUnknownQuery(req, ['tenant_id', 'reserved']);
    let projectId = requireProject(ctx);
    const asked = req.query.get('tenant_id');
    if (asked !== null && asked !== projectId) {
      if (!ctx.isAdmin) throw policyForbidden('os_compute_api:limits:other_project');
      projectId = asked;
    }
    const lim = await quotaLimits(sql, projectId);
    const used = await quotaUsage(sql, projectId);
    const abs: Record<string, number> = {
      maxServerMeta: lim.metadata_items,
      maxTotalCores: lim.cores,
      maxTotalInstances: lim.instances,
      maxTotalKeypairs: lim.key_pairs,
      maxTotalRAMSize: lim.ram,
      maxServerGroups: lim.server_groups,
      maxServerGroupMembers: lim.server_group_members,
      totalCoresUsed: used.cores ?? 0,
      totalInstancesUsed: used.instances ?? 0,
      totalRAMUsed: used.ram ?? 0,
      totalServerGroupsUsed: used.server_groups ?? 0,
    };
    if (!req.mv.atLeast('2.36')) {
      Object.assign(abs, { maxSecurityGroupRules: -1, maxSecurityGroups: -1, maxTotalFloatingIps: -1, totalSecurityGroupsUsed: 0, totalFloatingIpsUsed: 0 });
    }
    if (!req.mv.atLeast('2.39')) abs.maxImageMeta = lim.metadata_items;
    if (!req.mv.atLeast('2.57')) {
      abs.maxPersonality = lim.injected_files;
      abs.maxPersonalitySize = lim.injected_file_content_bytes;
    }
    return { status: 200, body: { limits: { rate: [], absolute: abs } } };
  });
};
