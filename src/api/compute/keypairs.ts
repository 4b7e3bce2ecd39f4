/**
 * os-keypairs: a user's SSH (and, from 2.2, X.509) key pairs. Key pairs belong to a user, not a
 * project; other users' pairs are invisible (404) except to admins acting with user_id (2.10).
 * Creating without public_key generates a pair server-side (until 2.92, which requires it).
 */
import { conflict, invalid, notFound, overQuota, policyForbidden } from '../../errors.js';
import type { Sql } from '../../db/sql.js';
import type { ApiRequest, RequestContext } from '../../http/types.js';
import { ctxOf } from '../../http/types.js';
import { validate } from '../../http/validate.js';
import { requireWriter } from '../policy.js';
import { nowIso } from '../../util/time.js';
import { API_PREFIX, nextLinks, pageParams, type MountFn } from './common.js';
import { keyPairCount, quotaLimits } from './quota.js';
import { novaDbTime } from './service-state.js';
import { generateSshKeyPair, keypairInvalid, sshFingerprint, x509Fingerprint } from './ssh-keys.js';
import { generateX509 } from './x509-cert.js';
import { rejectUnknownQuery } from './query.js';

interface KeyPairRow {
  id: number;
  name: string;
  user_id: string;
  fingerprint: string;
  public_key: string;
  type: string;
  created_at: string;
}

const NAME_V21 = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9 _-]+$' };
const NAME_V292 = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9 @._-]+$' };

function createSchema(mv: ApiRequest['mv']) {
  const props: Record<string, unknown> = {
    name: mv.atLeast('2.92') ? NAME_V292 : NAME_V21,
    public_key: { type: 'string' },
  };
  if (mv.atLeast('2.2')) props.type = { type: 'string', enum: ['ssh', 'x509'] };
  if (mv.atLeast('2.10')) props.user_id = { type: 'string', minLength: 1, maxLength: 255 };
  return {
    type: 'object',
    properties: {
      keypair: {
        type: 'object',
        properties: props,
        required: mv.atLeast('2.92') ? ['name', 'public_key'] : ['name'],
        additionalProperties: false,
      },
    },
    required: ['keypair'],
    additionalProperties: false,
  };
}
const schemas = new Map<string, object>();
const schemaFor = (mv: ApiRequest['mv']) => {
  const key = mv.atLeast('2.92') ? '2.92' : mv.atLeast('2.10') ? '2.10' : mv.atLeast('2.2') ? '2.2' : '2.1';
  if (!schemas.has(key)) schemas.set(key, createSchema(mv));
  return schemas.get(key)!;
};

/** 403 unless userId is ctx's own user or ctx is admin (Nova's admin-or-owner on user_id). */
function policyCheckUser(ctx: RequestContext, userId: string, rule: string): void {
  if (userId !== ctx.userId && !ctx.isAdmin) throw policyForbidden(rule);
}

/** The user whose key pairs a request acts on: ctx's own, or user_id (2.10, admin for others). */
function targetUser(req: ApiRequest, ctx: RequestContext, rule: string, fromBody?: string): string {
  const asked = fromBody ?? (req.mv.atLeast('2.10') ? (req.query.get('user_id') ?? undefined) : undefined);
  const userId = asked ?? ctx.userId;
  policyCheckUser(ctx, userId, rule);
  return userId;
}

const notFoundFor = (name: string, userId: string) => notFound(`Keypair ${name} not found for user ${userId}`);

function listEntry(req: ApiRequest, k: KeyPairRow) {
  const out: Record<string, unknown> = { name: k.name, public_key: k.public_key, fingerprint: k.fingerprint };
  if (req.mv.atLeast('2.2')) out.type = k.type;
  return { keypair: out };
}

function showView(req: ApiRequest, k: KeyPairRow) {
  const out: Record<string, unknown> = {
    name: k.name,
    public_key: k.public_key,
    fingerprint: k.fingerprint,
    user_id: k.user_id,
    deleted: false,
    created_at: novaDbTime(k.created_at),
    updated_at: null,
    deleted_at: null,
    id: Number(k.id),
  };
  if (req.mv.atLeast('2.2')) out.type = k.type;
  return out;
}

/** Public key, fingerprint and (generated only) private key for a create request. */
function keyMaterial(name: string, type: string, publicKey: string | undefined) {
  if (publicKey === undefined) {
    if (type === 'x509') {
      const g = generateX509(name);
      return { publicKey: g.certificate, privateKey: g.privateKey, fingerprint: x509Fingerprint(g.certificate) };
    }
    const g = generateSshKeyPair();
    return { publicKey: g.publicKey, privateKey: g.privateKey, fingerprint: g.fingerprint };
  }
  if (publicKey.trim() === '') throw keypairInvalid('failed to generate fingerprint');
  if (type === 'x509') return { publicKey, fingerprint: x509Fingerprint(publicKey) };
  return { publicKey: publicKey.trim(), fingerprint: sshFingerprint(publicKey) };
}

async function getKeyPair(sql: Sql, userId: string, name: string): Promise<KeyPairRow> {
  const k = await sql.get<KeyPairRow>('SELECT * FROM key_pairs WHERE user_id = ? AND name = ?', [userId, name]);
  if (!k) throw notFoundFor(name, userId);
  return k;
}

export const mountKeypairs: MountFn = (router, { sql }) => {
  const base = `${API_PREFIX}/os-keypairs`;

  router.get(base, async (req) => {
    const ctx = ctxOf(req);
    if (req.mv.atLeast('2.75')) rejectUnknownQuery(req, req.mv.atLeast('2.35') ? ['user_id', 'limit', 'marker'] : ['user_id']);
    const userId = targetUser(req, ctx, 'os_compute_api:os-keypairs:index');
    let rows = await sql.all<KeyPairRow>('SELECT * FROM key_pairs WHERE user_id = ? ORDER BY id', [userId]);
    const body: Record<string, unknown> = {};
    if (req.mv.atLeast('2.35')) {
      const { limit, marker } = pageParams(req);
      if (marker !== null) {
        const i = rows.findIndex((r) => r.name === marker);
        if (i < 0) throw invalid(`marker [${marker}] not found`);
        rows = rows.slice(i + 1);
      }
      rows = rows.slice(0, limit);
      const next = nextLinks(req, 'os-keypairs', rows.map((r) => ({ id: r.name })), limit);
      if (next) body.keypairs_links = next;
    }
    return { status: 200, body: { keypairs: rows.map((k) => listEntry(req, k)), ...body } };
  });

  router.get(`${base}/:name`, async (req) => {
    const ctx = ctxOf(req);
    const userId = targetUser(req, ctx, 'os_compute_api:os-keypairs:show');
    return { status: 200, body: { keypair: showView(req, await getKeyPair(sql, userId, req.params.name)) } };
  });

  router.post(base, async (req) => {
    const ctx = ctxOf(req);
    requireWriter(ctx, 'os_compute_api:os-keypairs:create');
    const body = req.body as { keypair?: Record<string, unknown> } | undefined;
    // Nova's bare "'public_key' is a required property" leaves users stuck; say what to do.
    if (req.mv.atLeast('2.92') && body?.keypair && typeof body.keypair === 'object' && body.keypair.public_key === undefined)
      throw invalid(
        "'public_key' is a required property: from microversion 2.92 the server no longer generates key pairs. " +
          'Generate one locally (ssh-keygen -t ed25519 -f KEYFILE) and import it (openstack keypair create --public-key KEYFILE.pub NAME), ' +
          'or request microversion 2.91 or lower.',
      );
    const { keypair: kp } = validate<{ keypair: { name: string; public_key?: string; type?: string; user_id?: string } }>(schemaFor(req.mv), req.body);
    const userId = targetUser(req, ctx, 'os_compute_api:os-keypairs:create', kp.user_id ?? ctx.userId);
    const type = kp.type ?? 'ssh';
    const material = keyMaterial(kp.name, type, kp.public_key);
    const row = await sql.tx(async (tx) => {
      if (await tx.get('SELECT 1 AS x FROM key_pairs WHERE user_id = ? AND name = ?', [userId, kp.name]))
        throw conflict(`Key pair '${kp.name}' already exists.`);
      const limit = (await quotaLimits(tx, ctx.projectId ?? '', userId)).key_pairs;
      if (limit >= 0 && (await keyPairCount(tx, userId)) + 1 > limit) throw overQuota('Quota exceeded, too many key pairs.');
      await tx.run('INSERT INTO key_pairs (name, user_id, fingerprint, public_key, type, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
        kp.name,
        userId,
        material.fingerprint,
        material.publicKey,
        type,
        nowIso(),
      ]);
      return getKeyPair(tx, userId, kp.name);
    });
    const out: Record<string, unknown> = {
      name: row.name,
      public_key: row.public_key,
      fingerprint: row.fingerprint,
      user_id: row.user_id,
    };
    if (material.privateKey) out.private_key = material.privateKey;
    if (req.mv.atLeast('2.2')) out.type = row.type;
    return { status: req.mv.atLeast('2.2') ? 201 : 200, body: { keypair: out } };
  });

  router.delete(`${base}/:name`, async (req) => {
    const ctx = ctxOf(req);
    requireWriter(ctx, 'os_compute_api:os-keypairs:delete');
    const userId = targetUser(req, ctx, 'os_compute_api:os-keypairs:delete');
    const res = await sql.run('DELETE FROM key_pairs WHERE user_id = ? AND name = ?', [userId, req.params.name]);
    if (res.changes === 0) throw notFoundFor(req.params.name, userId);
    return { status: req.mv.atLeast('2.2') ? 204 : 202 };
  });
};
