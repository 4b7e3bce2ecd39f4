/**
 * os-certificates (the nova-cert API, removed from Nova in Pike; nova-ts keeps it):
 * - `POST /os-certificates` (no body needed): a new RSA key and a certificate for the calling
 *   user in the token's project, signed by the cloud's CA. 200, as Nova's v2.1 (not 201).
 * - `GET /os-certificates/root`: the CA certificate, `private_key` null.
 * - `GET /os-certificates/<anything else>`: 501 "Only root certificate can be retrieved.", as Nova.
 * Policy (Nova's admin_or_owner): any project-scoped user; creating needs a writer role.
 * The CA lives in the data dir (src/cert/ca.ts) and is made on first use.
 */
import { notImplemented } from '../../errors.js';
import { ctxOf } from '../../http/types.js';
import { CertificateAuthority } from '../../cert/ca.js';
import { issueUserCertificate } from '../../cert/user-certificates.js';
import { requireProject, requireWriter } from '../policy.js';
import { API_PREFIX, type MountFn } from './common.js';

export const mountCertificates: MountFn = (router, deps) => {
  const base = `${API_PREFIX}/os-certificates`;
  // Opened once per API; a failure (reported to the caller) is retried on the next request.
  let ca: Promise<CertificateAuthority> | undefined;
  const authority = () => {
    ca ??= CertificateAuthority.open(deps.config.dataDir).catch((e: unknown) => {
      ca = undefined;
      throw e;
    });
    return ca;
  };

  router.post(
    base,
    async (req) => {
      const ctx = ctxOf(req);
      const projectId = requireProject(ctx);
      requireWriter(ctx, 'os_compute_api:os-certificates:create');
      const issued = await issueUserCertificate(deps.sql, await authority(), { projectId, userId: ctx.userId });
      return { status: 200, body: { certificate: { data: issued.certificate, private_key: issued.privateKey } } };
    },
    { body: 'none' },
  );

  router.get(`${base}/:id`, async (req) => {
    requireProject(ctxOf(req));
    if (req.params.id !== 'root') throw notImplemented('Only root certificate can be retrieved.');
    return { status: 200, body: { certificate: { data: (await authority()).certificate, private_key: null } } };
  });
};
