import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority, openOrCreate } from './ca.js';

const root = mkdtempSync(join(tmpdir(), 'nova-ts-ca-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `d${++n}`);

/** `openssl verify -CAfile caFile [extra] certPem`: the exit code and what it printed. */
function verify(caFile: string, certPem: string, extra: string[] = []): { ok: boolean; out: string } {
  const file = join(root, `cert-${++n}.pem`);
  writeFileSync(file, certPem);
  const r = spawnSync('openssl', ['verify', '-CAfile', caFile, ...extra, file], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

describe('CertificateAuthority.open', () => {
  test('makes a CA in <dataDir>/ca on first use: a self-signed root that openssl verifies, and a 0600 key', async () => {
    const dataDir = freshDir();
    const ca = await CertificateAuthority.open(dataDir);
    assert.equal(ca.certFile, join(dataDir, 'ca', 'ca.pem'));
    assert.equal(statSync(ca.keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(ca.certFile).mode & 0o077, 0o044, 'the root certificate is readable by clients');
    const x = new X509Certificate(readFileSync(ca.certFile, 'utf8'));
    assert.ok(x.ca);
    assert.equal(x.subject, x.issuer);
    assert.ok(x.checkPrivateKey(createPrivateKey(readFileSync(ca.keyFile))));
    const v = verify(ca.certFile, ca.certificate);
    assert.ok(v.ok, v.out);
    assert.deepEqual(readdirSync(dataDir), ['ca'], 'no temporary dir left behind');
  });

  test('survives a restart: the same CA is found again and still verifies what it issued', async () => {
    const dataDir = freshDir();
    const first = await CertificateAuthority.open(dataDir);
    const issued = await first.issueUser({ projectId: 'p1', userId: 'u1' });
    const again = await CertificateAuthority.open(dataDir);
    assert.equal(again.certificate, first.certificate);
    const v = verify(again.certFile, issued.certificate);
    assert.ok(v.ok, v.out);
  });

  test('concurrent first uses make one CA that every caller gets', async () => {
    const dataDir = freshDir();
    // openOrCreate has no in-process memo: each call builds its own CA and races to rename it in.
    const racers = await Promise.all([1, 2, 3, 4].map(() => openOrCreate(dataDir)));
    const viaOpen = await Promise.all([1, 2].map(() => CertificateAuthority.open(dataDir)));
    for (const ca of [...racers, ...viaOpen]) assert.equal(ca.certificate, racers[0].certificate);
    assert.equal(readFileSync(join(dataDir, 'ca', 'ca.pem'), 'utf8'), racers[0].certificate);
    assert.deepEqual(readdirSync(dataDir), ['ca']);
    assert.deepEqual(readdirSync(join(dataDir, 'ca')).sort(), ['ca-key.pem', 'ca.pem']);
  });

  test('an empty ca dir is filled in', async () => {
    const dataDir = freshDir();
    mkdirSync(join(dataDir, 'ca'), { recursive: true });
    const ca = await CertificateAuthority.open(dataDir);
    assert.ok(verify(ca.certFile, ca.certificate).ok);
  });

  test('a data dir that cannot be used is refused with a clear reason', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    await assert.rejects(CertificateAuthority.open(join(file, 'sub')), /Cannot keep the certificate authority in the data dir .*a-file\/sub: it \(or a parent\) is not a directory/);
    await assert.rejects(CertificateAuthority.open(file), /Cannot keep the certificate authority in the data dir .*a-file: it \(or a parent\) is not a directory/);
  });

  test('a broken CA is never replaced silently: each problem is named, and the files are left as they were', async () => {
    const cases: [string, (dir: string) => void, RegExp][] = [
      ['ca is a file', (d) => writeFileSync(join(d, 'ca'), 'x'), /ca is unusable: it is not a directory/],
      ['key missing', (d) => (mkdirSync(join(d, 'ca')), writeFileSync(join(d, 'ca', 'ca.pem'), 'x')), /ca-key\.pem is missing/],
      [
        'certificate missing',
        (d) => (mkdirSync(join(d, 'ca')), writeFileSync(join(d, 'ca', 'ca-key.pem'), 'x')),
        /ca\.pem is missing/,
      ],
      [
        'garbage certificate',
        (d) => (mkdirSync(join(d, 'ca')), writeFileSync(join(d, 'ca', 'ca.pem'), 'nope'), writeFileSync(join(d, 'ca', 'ca-key.pem'), 'x')),
        /ca\.pem is not a PEM certificate/,
      ],
    ];
    for (const [what, make, message] of cases) {
      const dataDir = freshDir();
      mkdirSync(dataDir, { recursive: true });
      make(dataDir);
      await assert.rejects(CertificateAuthority.open(dataDir), (e: Error) => {
        assert.match(e.message, message, what);
        assert.match(e.message, /remove .* to make a new CA/, what);
        return true;
      });
    }
    // A key that is not the certificate's.
    const dataDir = freshDir();
    const good = await CertificateAuthority.open(dataDir);
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(good.keyFile, other);
    await assert.rejects(CertificateAuthority.open(dataDir), /ca-key\.pem is not the key of ca\.pem/);
    assert.equal(readFileSync(good.keyFile, 'utf8'), other, 'the broken CA is left for the operator');
    assert.equal(readFileSync(good.certFile, 'utf8'), good.certificate);
  });
});

describe('issued certificates', () => {
  const dataDir = freshDir();
  const PROJECT = '0123456789abcdef0123456789abcdef';
  const USER = 'fedcba9876543210fedcba9876543210';

  test('a user certificate: RSA 2048 key that matches it, signed by the CA, client auth, 1 year, naming project and user', async () => {
    const ca = await CertificateAuthority.open(dataDir);
    const now = new Date('2030-05-06T07:08:09.123Z');
    const c = await ca.issueUser({ projectId: PROJECT, userId: USER, now });
    assert.match(c.privateKey, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    const x = new X509Certificate(c.certificate);
    const key = createPrivateKey(c.privateKey);
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
    assert.ok(x.checkPrivateKey(key), 'the key is the certificate key');
    assert.ok(x.checkIssued(new X509Certificate(ca.certificate)));
    assert.equal(x.ca, false);
    assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'extended key usage clientAuth only');
    assert.match(x.subject, new RegExp(`OU=${PROJECT}\nUID=${USER}\nCN=${PROJECT.slice(0, 16)}-${USER.slice(0, 16)}-2030-05-06T07:08:09Z`));
    assert.equal(c.subject, x.subject.split('\n').join(', '));
    assert.equal(x.serialNumber.toLowerCase(), c.serial);
    const days = (Date.parse(x.validTo) - Date.parse(x.validFrom)) / 86_400_000;
    assert.equal(days, 365);
    assert.equal(c.notAfter, new Date(x.validTo).toISOString());
    for (const purpose of [[], ['-purpose', 'sslclient']]) {
      const v = verify(ca.certFile, c.certificate, purpose);
      assert.ok(v.ok, v.out);
    }
    assert.equal(verify(ca.certFile, c.certificate, ['-purpose', 'sslserver']).ok, false, 'not usable as a server certificate');
  });

  test('serials are random and distinct; another CA does not verify them', async () => {
    const ca = await CertificateAuthority.open(dataDir);
    const [a, b] = await Promise.all([ca.issueUser({ projectId: PROJECT, userId: USER }), ca.issueUser({ projectId: PROJECT, userId: USER })]);
    assert.notEqual(a.serial, b.serial);
    assert.match(a.serial, /^[0-7][0-9a-f]{31}$/);
    const stranger = await CertificateAuthority.open(freshDir());
    const v = verify(stranger.certFile, a.certificate);
    assert.equal(v.ok, false);
    assert.match(v.out, /unable to get local issuer certificate/);
  });

  test('odd characters in ids stay inside their attribute', async () => {
    const ca = await CertificateAuthority.open(dataDir);
    const c = await ca.issueUser({ projectId: 'p/O=evil', userId: 'u,CN=x+y' });
    const x = new X509Certificate(c.certificate);
    assert.equal(x.subject.split('\n').filter((l) => l.startsWith('O=')).length, 1, x.subject);
    assert.ok(verify(ca.certFile, c.certificate).ok);
  });

  test('a server certificate: server auth, valid for 127.0.0.1, localhost and the listen host', async () => {
    const ca = await CertificateAuthority.open(dataDir);
    const c = await ca.issueServer(['127.0.0.1', 'api.example.test', '0.0.0.0']);
    const x = new X509Certificate(c.certificate);
    assert.ok(x.checkPrivateKey(createPrivateKey(c.privateKey)));
    assert.equal(x.subjectAltName, 'IP Address:127.0.0.1, DNS:localhost, DNS:api.example.test');
    assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(x.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(x.checkHost('api.example.test'), 'api.example.test');
    const v = verify(ca.certFile, c.certificate, ['-purpose', 'sslserver', '-verify_ip', '127.0.0.1']);
    assert.ok(v.ok, v.out);
  });
});
