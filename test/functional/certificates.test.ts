/** os-certificates (nova-cert) through the Compute API, and the API served over HTTPS with --tls. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type PeerCertificate } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCloud, type Client, type TestCloud } from '../helpers/cloud.js';

const C = '/compute/v2.1/os-certificates';
const work = mkdtempSync(join(tmpdir(), 'nova-ts-certs-test-'));
after(() => rmSync(work, { recursive: true, force: true }));
let n = 0;

/** `openssl verify -CAfile` of certPem against caPem: ok and what openssl said. */
function opensslVerify(caPem: string, certPem: string): { ok: boolean; out: string } {
  const ca = join(work, `ca-${++n}.pem`);
  const cert = join(work, `cert-${n}.pem`);
  writeFileSync(ca, caPem);
  writeFileSync(cert, certPem);
  const r = spawnSync('openssl', ['verify', '-CAfile', ca, cert], { encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout + r.stderr };
}

/** The subject attributes of a PEM certificate, e.g. {O, OU, UID, CN}. */
function subjectOf(pem: string): Record<string, string> {
  return Object.fromEntries(new X509Certificate(pem).subject.split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
}

describe('os-certificates', () => {
  let t: TestCloud;
  let reader: Client;
  before(async () => {
    t = await startTestCloud();
    const roles = (await t.admin.get('/identity/v3/roles?name=reader')).body.roles;
    const user = await t.admin.post('/identity/v3/users', { user: { name: 'rdr', password: 'rdr-pass-1', domain_id: 'default' } });
    assert.equal(user.status, 201);
    assert.equal((await t.admin.put(`/identity/v3/projects/${t.demo.projectId}/users/${user.body.user.id}/roles/${roles[0].id}`)).status, 204);
    reader = await t.login('rdr', 'rdr-pass-1', 'demo');
  });
  after(async () => t?.close());

  it('POST gives the caller a key and a certificate that verifies against GET root', async () => {
    const created = await t.demo.post(C);
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.deepEqual(Object.keys(created.body.certificate).sort(), ['data', 'private_key']);
    const { data, private_key } = created.body.certificate;
    assert.match(private_key, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    assert.ok(new X509Certificate(data).checkPrivateKey(createPrivateKey(private_key)), 'the key belongs to the certificate');

    const root = await t.demo.get(`${C}/root`);
    assert.equal(root.status, 200);
    assert.deepEqual(root.body, { certificate: { data: root.body.certificate.data, private_key: null } });
    assert.match(root.body.certificate.data, /^-----BEGIN CERTIFICATE-----\n/);
    const v = opensslVerify(root.body.certificate.data, data);
    assert.ok(v.ok, v.out);
    const rootVerify = opensslVerify(root.body.certificate.data, root.body.certificate.data);
    assert.ok(rootVerify.ok, rootVerify.out);
    // The root is the CA file kept in the data dir (the file clouds.yaml names under --tls).
    assert.equal(root.body.certificate.data, readFileSync(join(t.cloud.config.dataDir, 'ca', 'ca.pem'), 'utf8'));
  });

  it("the subject names the caller's project and user, and each certificate is recorded", async () => {
    for (const who of [t.demo, t.admin]) {
      const r = await who.post(C);
      assert.equal(r.status, 200);
      const s = subjectOf(r.body.certificate.data);
      assert.equal(s.OU, who.projectId);
      assert.equal(s.UID, who.userId);
      assert.match(s.CN, new RegExp(`^${who.projectId.slice(0, 16)}-${who.userId.slice(0, 16)}-\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`));
      const serial = new X509Certificate(r.body.certificate.data).serialNumber.toLowerCase();
      const row = await t.cloud.sql.get<{ user_id: string; project_id: string; not_after: string }>('SELECT * FROM certificates WHERE serial = ?', [serial]);
      assert.ok(row, 'recorded');
      assert.equal(row.user_id, who.userId);
      assert.equal(row.project_id, who.projectId);
      assert.equal(row.not_after, new Date(new X509Certificate(r.body.certificate.data).validTo).toISOString());
    }
  });

  it('two certificates in a row are different certificates with different keys from the same CA', async () => {
    const [a, b] = await Promise.all([t.demo.post(C), t.demo.post(C)]);
    assert.notEqual(a.body.certificate.data, b.body.certificate.data);
    assert.notEqual(a.body.certificate.private_key, b.body.certificate.private_key);
    assert.equal(new X509Certificate(a.body.certificate.data).issuer, new X509Certificate(b.body.certificate.data).issuer);
  });

  it('only the root certificate can be fetched: any other id is 501, as in Nova', async () => {
    for (const id of ['other', 'ROOT', '1']) {
      const r = await t.demo.get(`${C}/${id}`);
      assert.equal(r.status, 501, id);
      assert.deepEqual(r.body, { notImplemented: { code: 501, message: 'Only root certificate can be retrieved.' } });
    }
    assert.equal((await t.demo.get(C)).status, 405, 'there is no list');
  });

  it('needs a token (401), and a reader may fetch the root but not create (403)', async () => {
    for (const [method, path] of [['POST', C], ['GET', `${C}/root`]]) {
      const r = await fetch(t.url + path, { method });
      assert.equal(r.status, 401, `${method} ${path}`);
      assert.match(r.headers.get('www-authenticate') ?? '', /^Keystone uri=/);
    }
    const denied = await reader.post(C);
    assert.equal(denied.status, 403);
    assert.equal(denied.body.forbidden.message, "Policy doesn't allow os_compute_api:os-certificates:create to be performed.");
    assert.equal((await reader.get(`${C}/root`)).status, 200);
  });
});

/** The certificate a TLS server at url presents, with the handshake's verdict given ca. */
function peerCertificate(url: string, ca?: string): Promise<{ authorized: boolean; error?: string; cert: PeerCertificate }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: u.hostname, port: Number(u.port), ca, rejectUnauthorized: false, servername: undefined }, () => {
      resolve({ authorized: s.authorized, error: s.authorizationError ? String(s.authorizationError) : undefined, cert: s.getPeerCertificate() });
      s.end();
    });
    s.on('error', reject);
  });
}

describe('--tls', () => {
  let t: TestCloud;
  let ca: string;
  before(async () => {
    t = await startTestCloud({ tls: true });
    ca = readFileSync(t.caFile!, 'utf8');
  });
  after(async () => t?.close());

  it('serves the API over HTTPS with a certificate from the CA; the catalog and links say https', async () => {
    assert.match(t.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const flavors = await t.demo.get('/compute/v2.1/flavors');
    assert.equal(flavors.status, 200);
    assert.ok(flavors.body.flavors.length > 0);
    for (const l of flavors.body.flavors[0].links) assert.match(l.href, /^https:\/\//);
    const catalog = await t.demo.get('/identity/v3/auth/catalog');
    const urls = catalog.body.catalog.flatMap((s: any) => s.endpoints.map((e: any) => e.url));
    assert.ok(urls.length >= 5);
    for (const u of urls) assert.match(u, /^https:\/\/127\.0\.0\.1:/);
    const root = await t.demo.get('/compute/v2.1/os-certificates/root');
    assert.equal(root.body.certificate.data, ca, 'os-certificates serves the same CA');
  });

  it('the served certificate verifies with the CA for 127.0.0.1; without the CA it is refused', async () => {
    const good = await peerCertificate(t.url, ca);
    assert.equal(good.authorized, true, good.error);
    assert.match(good.cert.subjectaltname ?? '', /IP Address:127\.0\.0\.1/);
    const x = new X509Certificate(good.cert.raw);
    assert.ok(x.checkIssued(new X509Certificate(ca)));
    assert.equal(x.checkIP('127.0.0.1'), '127.0.0.1');
    const bad = await peerCertificate(t.url);
    assert.equal(bad.authorized, false);
    assert.equal(bad.error, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    // A client that trusts only the system's CAs (Node's fetch) is refused.
    await assert.rejects(fetch(`${t.url}/compute/`), (e: any) => {
      assert.equal(e.cause?.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', String(e.cause));
      return true;
    });
  });

  it('the console proxy listens over TLS with the same certificate', async () => {
    assert.match(t.cloud.consoleUrl, /^https:\/\//);
    const p = await peerCertificate(t.cloud.consoleUrl, ca);
    assert.equal(p.authorized, true, p.error);
  });

  it("clouds.yaml names the CA file for every cloud", async () => {
    const yaml = readFileSync(join(t.cloud.config.dataDir, 'clouds.yaml'), 'utf8');
    assert.equal(yaml.match(new RegExp(`cacert: "${t.caFile}"`, 'g'))?.length, 2, yaml);
    assert.match(yaml, /auth_url: https:\/\/127\.0\.0\.1:\d+\/identity\/v3/);
  });
});

describe('without --tls', () => {
  it('clouds.yaml has no cacert and the API is plain http (unchanged)', async () => {
    const t = await startTestCloud();
    try {
      assert.match(t.url, /^http:\/\//);
      assert.doesNotMatch(readFileSync(join(t.cloud.config.dataDir, 'clouds.yaml'), 'utf8'), /cacert/);
      assert.equal(t.caFile, undefined);
    } finally {
      await t.close();
    }
  });
});
