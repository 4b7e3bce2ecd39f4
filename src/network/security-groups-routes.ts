/**
 * `/v2.0/security-groups` and `/v2.0/security-group-rules` (Neutron v2.0 shapes): lists with
 * Neutron's filters, `fields=`, sorting and paging; rule create also in bulk
 * (`{"security_group_rules": [...]}`, all or nothing).
 */
import { validate } from '../http/validate.js';
import type { Router } from '../http/router.js';
import { ctxOf, type ApiRequest, type ApiResponse } from '../http/types.js';
import { listResponse, selectFields } from './query.js';
import { createRules, deleteRule, listRuleViews, ruleNotFound, showRule } from './security-group-rules-api.js';
import { createGroup, deleteGroup, listGroupViews, showGroup, updateGroup, type SecurityGroupDeps } from './security-groups-api.js';
import { groupNotFound } from './security-groups-store.js';
import { GROUP_FIELDS, RULE_FIELDS } from './security-groups-view.js';

const envelope = (key: string) => ({ type: 'object', required: [key], additionalProperties: false, properties: { [key]: { type: 'object' } } });
const groupBody = envelope('security_group');
const ruleBody = envelope('security_group_rule');
const rulesBody = {
  type: 'object',
  required: ['security_group_rules'],
  additionalProperties: false,
  properties: { security_group_rules: { type: 'array', minItems: 1, items: { type: 'object' } } },
};

/** The list answer, with paging links under the collection's URL path (dashes, not underscores). */
function list(req: ApiRequest, views: Parameters<typeof listResponse>[1], collection: string, path: string, fields: readonly string[], markerNotFound: (id: string) => Error): ApiResponse {
  const out = listResponse(req, views, { collection, fields, markerNotFound });
  const body = out.body as Record<string, unknown>;
  const links = body[`${collection}_links`] as { href: string }[] | undefined;
  for (const l of links ?? []) l.href = l.href.replace(`/v2.0/${collection}?`, `/v2.0/${path}?`);
  return out;
}

export function mountSecurityGroups(router: Router, deps: SecurityGroupDeps): void {
  const { sql } = deps;

  router.get('/v2.0/security-groups', async (req) =>
    list(req, await listGroupViews(sql, ctxOf(req)), 'security_groups', 'security-groups', GROUP_FIELDS, groupNotFound),
  );
  router.post('/v2.0/security-groups', async (req) => {
    const body = validate<{ security_group: unknown }>(groupBody, req.body);
    const view = await createGroup(deps, ctxOf(req), body.security_group);
    return { status: 201, body: { security_group: view } };
  });
  router.get('/v2.0/security-groups/:id', async (req) => ({
    status: 200,
    body: { security_group: selectFields(req, await showGroup(sql, ctxOf(req), req.params.id)) },
  }));
  router.put('/v2.0/security-groups/:id', async (req) => {
    const body = validate<{ security_group: unknown }>(groupBody, req.body);
    return { status: 200, body: { security_group: await updateGroup(deps, ctxOf(req), req.params.id, body.security_group) } };
  });
  router.delete('/v2.0/security-groups/:id', async (req) => {
    await deleteGroup(deps, ctxOf(req), req.params.id);
    return { status: 204 };
  });

  router.get('/v2.0/security-group-rules', async (req) =>
    list(req, await listRuleViews(sql, ctxOf(req)), 'security_group_rules', 'security-group-rules', RULE_FIELDS, ruleNotFound),
  );
  router.post('/v2.0/security-group-rules', async (req) => {
    const raw = req.body as Record<string, unknown> | undefined;
    if (raw && typeof raw === 'object' && 'security_group_rules' in raw) {
      const body = validate<{ security_group_rules: unknown[] }>(rulesBody, raw);
      return { status: 201, body: { security_group_rules: await createRules(deps, ctxOf(req), body.security_group_rules) } };
    }
    const body = validate<{ security_group_rule: unknown }>(ruleBody, raw);
    const [view] = await createRules(deps, ctxOf(req), [body.security_group_rule]);
    return { status: 201, body: { security_group_rule: view } };
  });
  router.get('/v2.0/security-group-rules/:id', async (req) => ({
    status: 200,
    body: { security_group_rule: selectFields(req, await showRule(sql, ctxOf(req), req.params.id)) },
  }));
  router.delete('/v2.0/security-group-rules/:id', async (req) => {
    await deleteRule(deps, ctxOf(req), req.params.id);
    return { status: 204 };
  });
}
