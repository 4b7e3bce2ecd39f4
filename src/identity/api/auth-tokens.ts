/**
 * /v3/auth/tokens: issue (POST, no token needed), validate (GET/HEAD) and revoke (DELETE) the
 * token named by X-Subject-Token. A caller may validate or revoke its own tokens; admins any.
 */
import { notFound } from '../../errors.js';
import type { Router } from '../../http/router.js';
import { ctxOf, type ApiRequest } from '../../http/types.js';
import { validate } from '../../http/validate.js';
import { chooseScope, prove, type AuthRequest } from '../login.js';
import { resolveScope } from '../token-scope.js';
import type { TokenRecord } from '../token-store.js';
import { renderToken } from '../token-view.js';
import { denied, type IdentityDeps } from './common.js';

const domainRef = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1 }, name: { type: 'string', minLength: 1 } },
};
const nameOrId = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1 }, name: { type: 'string', minLength: 1 }, domain: domainRef },
};

const authSchema = {
  type: 'object',
  required: ['auth'],
  properties: {
    auth: {
      type: 'object',
      required: ['identity'],
      properties: {
        identity: {
          type: 'object',
          required: ['methods'],
          properties: {
            methods: { type: 'array', minItems: 1, items: { type: 'string' } },
            password: {
              type: 'object',
              required: ['user'],
              properties: {
                user: { ...nameOrId, required: ['password'], properties: { ...nameOrId.properties, password: { type: 'string', maxLength: 4096 } } },
              },
            },
            token: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1 } } },
          },
        },
        scope: {
          anyOf: [
            { type: 'string', enum: ['unscoped'] },
            {
              type: 'object',
              properties: { project: nameOrId, domain: domainRef, system: { type: 'object' } },
            },
          ],
        },
      },
    },
  },
};

export function mountAuthTokens(router: Router, deps: IdentityDeps): void {
  const { sql, tokens, auth } = deps;

  router.post(
    '/v3/auth/tokens',
    async (req) => {
      const body = validate<{ auth: AuthRequest }>(authSchema, req.body);
      const proven = await prove(sql, tokens, body.auth);
      const scope = await chooseScope(sql, proven.user, body.auth.scope);
      const { id, record } = await tokens.issue({ userId: proven.user.id, ...scope, methods: proven.methods, parent: proven.parent });
      const view = await renderToken(sql, record, await resolveScope(sql, record), !req.query.has('nocatalog'));
      return { status: 201, body: view, headers: { 'x-subject-token': id } };
    },
  );

  /** The subject token's record, checked against the caller's right to see it. */
  async function subject(req: ApiRequest, action: string): Promise<{ id: string; record: TokenRecord }> {
    const ctx = ctxOf(req);
    const id = req.headers['x-subject-token'];
    const record = typeof id === 'string' && id !== '' ? await tokens.find(id) : null;
    if (!record || typeof id !== 'string') throw notFound('Failed to validate token');
    if (!ctx.isAdmin && record.userId !== ctx.userId) throw denied(action);
    return { id, record };
  }

  router.get(
    '/v3/auth/tokens',
    async (req) => {
      const { id, record } = await subject(req, 'identity:validate_token');
      let scope;
      try {
        scope = await resolveScope(sql, record);
      } catch {
        throw notFound('Failed to validate token');
      }
      const view = await renderToken(sql, record, scope, !req.query.has('nocatalog'));
      return { status: 200, body: view, headers: { 'x-subject-token': id } };
    },
    { auth: true },
  );

  router.delete(
    '/v3/auth/tokens',
    async (req) => {
      const { id } = await subject(req, 'identity:revoke_token');
      await tokens.revoke(id);
      auth.evict(id);
      return { status: 204 };
    },
    { auth: true },
  );
}
