/**
 * Nova's deprecated security group proxies to the network service, up to microversion 2.35
 * (404 from 2.36, as Nova): /os-security-groups (list, show, create, update, delete) and
 * /os-security-group-rules (create, delete) in Nova's shapes. Nova's own checks and messages
 * come first (names and descriptions, its ingress-only rule model: ip_protocol tcp/udp/icmp,
 * from_port/to_port, cidr or group_id), then the rule goes to the network service as a Neutron
 * ingress rule. Network service outcomes map as Nova maps Neutron's: a conflict on create is
 * 403 (Nova's SecurityGroupLimitExceeded), on delete 400. A rule the group already has is 400
 * before the network service is asked (Nova's _rule_exists).
 */
import { isIP } from 'node:net';
import { forbidden, invalid, isNovaError, notFound, notImplemented } from '../../errors.js';
import { ctxOf, type ApiRequest, type RequestContext } from '../../http/types.js';
import type { NetworkApi } from '../../network/client.js';
import { isUuidLike } from '../../util/ids.js';
import { requireWriter } from '../policy.js';
import { API_PREFIX, type MountFn } from './common.js';
import { NETWORKING_UNAVAILABLE } from './server-networks.js';
import { novaGroupViews, novaRuleView, remoteGroupsOf } from './security-group-view.js';

/** Runs fn with the network service's Conflict turned into err(message). */
async function onConflict<T>(fn: () => Promise<T>, err: (msg: string) => Error): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw isNovaError(e) && e.kind === 'Conflict' ? err(e.message) : e;
  }
}

/** Nova's _from_body: the body must hold the key. */
function fromBody(body: unknown, key: string): Record<string, unknown> {
  if (body === undefined || body === null || (typeof body === 'object' && !Object.keys(body).length)) throw invalid("The request body can't be empty");
  const v = typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>)[key] : undefined;
  if (v === undefined || v === null) throw invalid(`Missing parameter ${key}`);
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`Invalid ${key}: it must be an object.`);
  return v as Record<string, unknown>;
}

/**
 * Nova's validate_property for name and description: a string of 1-255 characters once
 * stripped. The value is kept exactly as given (Nova strips only to check).
 */
function property(value: unknown, what: 'name' | 'description'): string {
  if (typeof value !== 'string') throw invalid(`Security group ${what} is not a string or unicode`);
  const v = value.trim();
  if (v.length < 1) throw invalid(`${what} has a minimum character requirement of 1.`);
  if (v.length > 255) throw invalid(`${what} has more than 255 characters.`);
  return value;
}

/** Nova's validate_id for Neutron groups. */
function groupId(id: unknown): string {
  if (!isUuidLike(id)) throw invalid('Security group id should be uuid');
  return id;
}

/** Nova's parse_cidr: empty means 0.0.0.0/0; otherwise a valid IP network. */
function parseCidr(cidr: unknown): string {
  if (cidr === undefined || cidr === null || cidr === '') return '0.0.0.0/0';
  let text = String(cidr);
  try {
    text = decodeURIComponent(text);
  } catch {
    /* keep it as given */
  }
  const [addr, bits, extra] = text.split('/');
  const max = isIP(addr) === 6 ? 128 : 32;
  if (extra !== undefined || !isIP(addr) || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max)))
    throw invalid(`${text} is not a valid IP network.`);
  return bits === undefined ? `${addr}/${max}` : text;
}

/**
 * Nova's _new_ingress_rule: the Neutron fields of an ingress rule from Nova's ones, or null when
 * they are not enough for a rule (a cidr rule needs a protocol and both ports).
 */
export function neutronIngressRule(r: { ip_protocol?: unknown; from_port?: unknown; to_port?: unknown; cidr?: string; group_id?: string }): Record<string, unknown> | null {
  let from = r.from_port ?? null;
  let to = r.to_port ?? null;
  const proto = r.ip_protocol === undefined || r.ip_protocol === null || r.ip_protocol === '' ? null : String(r.ip_protocol);
  const upper = proto?.toUpperCase() ?? '';
  if (r.group_id && from === null && to === null) {
    if (upper === 'ICMP') from = to = -1;
    else if (upper === 'TCP' || upper === 'UDP') [from, to] = [1, 65535];
  }
  const out: Record<string, unknown> = { direction: 'ingress', ethertype: 'IPv4', remote_group_id: r.group_id ?? null, remote_ip_prefix: null };
  if (r.cidr) {
    out.remote_ip_prefix = r.cidr;
    out.ethertype = isIP(r.cidr.split('/')[0]) === 6 ? 'IPv6' : 'IPv4';
  }
  if (proto && from !== null && to !== null) {
    const f = Number(from);
    const t = Number(to);
    if (!Number.isInteger(f) || !Number.isInteger(t) || typeof from === 'boolean' || typeof to === 'boolean')
      throw invalid(upper === 'ICMP' ? 'Type and Code must be integers for ICMP protocol type' : 'To and From ports must be integers');
    if (!['TCP', 'UDP', 'ICMP'].includes(upper)) throw invalid(`Invalid IP protocol ${proto}.`);
    if (upper !== 'ICMP' && f > t) throw invalid(`Invalid port range ${f}:${t}. Former value cannot be greater than the later`);
    if (upper !== 'ICMP' && (f < 1 || t > 65535)) throw invalid(`Invalid port range ${f}:${t}. Valid ${upper} ports should be between 1-65535`);
    if (upper === 'ICMP' && (f < -1 || f > 255 || t < -1 || t > 255)) throw invalid(`Invalid port range ${f}:${t}. For ICMP, the type:code must be valid`);
    out.protocol = proto.toLowerCase();
    if (f !== -1) out.port_range_min = f;
    if (t !== -1) out.port_range_max = t;
  } else if (r.cidr) {
    return null;
  }
  return out;
}

/** The keys Nova's _rule_exists compares: group_id, cidr, from_port, to_port, protocol. */
type RuleKeys = { group_id: unknown; cidr: unknown; from_port: unknown; to_port: unknown; protocol: unknown };

/**
 * Nova's _rule_exists over a group's ingress rules (Neutron views), with Nova's quirks kept:
 * existing rules compare in Nova's rule format (no ports means 1-65535 for tcp/udp, -1 for
 * others; no remote prefix means cidr 0.0.0.0/0), the new rule as the caller gave it (protocol
 * not lowercased; a group rule has no cidr, so it never matches here and a duplicate is left
 * to the network service's conflict).
 */
export function novaRuleExists(group: Record<string, unknown>, wanted: RuleKeys): boolean {
  const rules = (group.security_group_rules as Record<string, unknown>[] | undefined) ?? [];
  return rules.some((rule) => {
    if (rule.direction !== 'ingress') return false;
    const protocol = (rule.protocol as string | null | undefined) ?? null;
    let from = rule.port_range_min ?? null;
    let to = rule.port_range_max ?? null;
    if (protocol && from === null && to === null) [from, to] = ['TCP', 'UDP'].includes(protocol.toUpperCase()) ? [1, 65535] : [-1, -1];
    const have: RuleKeys = { group_id: rule.remote_group_id ?? null, cidr: rule.remote_ip_prefix || '0.0.0.0/0', from_port: from, to_port: to, protocol };
    return (Object.keys(have) as (keyof RuleKeys)[]).every((k) => have[k] === (wanted[k] ?? null));
  });
}

/** Nova's common.limited: offset and limit query parameters over a full list. */
function limited<T>(req: ApiRequest, items: T[]): T[] {
  const num = (name: string, dflt: number) => {
    const raw = req.query.get(name);
    if (raw === null) return dflt;
    if (!/^-?\d+$/.test(raw)) throw invalid(`${name} param must be an integer`);
    const n = Number(raw);
    if (n < 0) throw invalid(`${name} param must be positive`);
    return n;
  };
  const offset = num('offset', 0);
  const limit = Math.min(num('limit', 1000), 1000);
  return items.slice(offset, limit === 0 ? undefined : offset + limit);
}

export const mountSecurityGroupsProxy: MountFn = (router, deps) => {
  const SG = `${API_PREFIX}/os-security-groups`;
  const RULES = `${API_PREFIX}/os-security-group-rules`;
  /** ≤ 2.35 only; the network service is needed. */
  const gate = (req: ApiRequest): { ctx: RequestContext; api: NetworkApi } => {
    if (req.mv.atLeast('2.36')) throw notFound('The resource could not be found.');
    if (!deps.network) throw notImplemented(NETWORKING_UNAVAILABLE);
    return { ctx: ctxOf(req), api: deps.network.api };
  };
  const one = async (api: NetworkApi, ctx: RequestContext, id: string) => (await novaGroupViews(api, ctx, [await api.showSecurityGroup(ctx, id)]))[0];

  router.get(SG, async (req) => {
    const { ctx, api } = gate(req);
    const all = ctx.isAdmin && req.query.has('all_tenants');
    const groups = await api.listSecurityGroups(ctx, all ? {} : { project_id: ctx.projectId ?? '' });
    return { status: 200, body: { security_groups: await novaGroupViews(api, ctx, limited(req, groups)) } };
  });
  router.get(`${SG}/:id`, async (req) => {
    const { ctx, api } = gate(req);
    return { status: 200, body: { security_group: await one(api, ctx, groupId(req.params.id)) } };
  });
  router.post(SG, async (req) => {
    const { ctx, api } = gate(req);
    requireWriter(ctx, 'os_compute_api:os-security-groups:create');
    const sg = fromBody(req.body, 'security_group');
    const body = { name: property(sg.name, 'name'), description: property(sg.description, 'description') };
    const made = await onConflict(() => api.createSecurityGroup(ctx, body), forbidden);
    return { status: 200, body: { security_group: await one(api, ctx, made.id) } };
  });
  router.put(`${SG}/:id`, async (req) => {
    const { ctx, api } = gate(req);
    requireWriter(ctx, 'os_compute_api:os-security-groups:update');
    const id = groupId(req.params.id);
    await api.showSecurityGroup(ctx, id);
    const sg = fromBody(req.body, 'security_group');
    const body = { name: property(sg.name, 'name'), description: property(sg.description, 'description') };
    await onConflict(() => api.updateSecurityGroup(ctx, id, body), invalid);
    return { status: 200, body: { security_group: await one(api, ctx, id) } };
  });
  router.delete(`${SG}/:id`, async (req) => {
    const { ctx, api } = gate(req);
    requireWriter(ctx, 'os_compute_api:os-security-groups:delete');
    const id = groupId(req.params.id);
    await onConflict(() => api.deleteSecurityGroup(ctx, id), invalid);
    return { status: 202 };
  });

  router.post(RULES, async (req) => {
    const { ctx, api } = gate(req);
    requireWriter(ctx, 'os_compute_api:os-security-groups:rule:create');
    const r = fromBody(req.body, 'security_group_rule');
    const parent = await api.showSecurityGroup(ctx, groupId(r.parent_group_id));
    let source = null;
    if (r.group_id !== undefined && r.group_id !== null) source = await api.showSecurityGroup(ctx, groupId(r.group_id));
    const rule = neutronIngressRule({
      ip_protocol: r.ip_protocol, from_port: r.from_port, to_port: r.to_port,
      ...(source ? { group_id: source.id } : { cidr: parseCidr(r.cidr) }),
    });
    if (!rule) throw invalid('Not enough parameters to build a valid rule.');
    const cidr = rule.remote_ip_prefix as string | null;
    if (cidr) {
      const [net, prefix] = cidr.split('/');
      if (net !== '0.0.0.0' && net !== '::' && prefix === '0') throw invalid(`Bad prefix for network in cidr ${cidr}`);
    }
    // Nova's new rule values: the protocol as given, ports as integers (-1 kept), cidr or group_id.
    const hasPorts = rule.protocol !== undefined;
    const wanted: RuleKeys = {
      group_id: source?.id ?? null,
      cidr: source ? null : cidr,
      protocol: hasPorts ? String(r.ip_protocol) : null,
      from_port: hasPorts ? (rule.port_range_min ?? -1) : null,
      to_port: hasPorts ? (rule.port_range_max ?? -1) : null,
    };
    if (novaRuleExists(parent, wanted)) throw invalid(`This rule already exists in group ${parent.id}`);
    const made = await onConflict(() => api.createSecurityGroupRule(ctx, { ...rule, security_group_id: parent.id }), forbidden);
    const refs = await remoteGroupsOf(api, ctx, [], [parent, ...(source ? [source] : [])]);
    return { status: 200, body: { security_group_rule: novaRuleView(made, refs) } };
  });
  router.delete(`${RULES}/:id`, async (req) => {
    const { ctx, api } = gate(req);
    requireWriter(ctx, 'os_compute_api:os-security-groups:rule:delete');
    const id = groupId(req.params.id);
    await api.showSecurityGroupRule(ctx, id);
    await api.deleteSecurityGroupRule(ctx, id);
    return { status: 202 };
  });
};
