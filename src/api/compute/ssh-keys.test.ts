import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { generateSshKeyPair, parseSshPublicKey, sshFingerprint, x509Fingerprint } from './ssh-keys.js';
import { generateX509 } from './x509-cert.js';

// A well-known OpenSSH key and its MD5 fingerprint (from Nova's API samples).
const SAMPLE =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDx8nkQv/zgGgB4rMYmIf+6A4l6Rr+o/6lHBQdW5aYd44bd8JttDCE/F/pNRr0lRE+PiqSPO8nDPHw0010JeMH9gYgnnFlyY3/OcJ02RhIPyyxYpv9FhY+2YiUkpwFOcLImyrxEsYXpD/0d3ac30bNH6Sw9JD9UZHYcpSxsIbECHw== Generated-by-Nova';

describe('ssh keys', () => {
  it("computes Nova's MD5 fingerprint", () => {
    assert.equal(sshFingerprint(SAMPLE), '1e:2c:9b:56:79:4b:45:77:f9:ca:7a:98:2c:b0:d5:3c');
    assert.equal(sshFingerprint(`  ${SAMPLE}\n`), '1e:2c:9b:56:79:4b:45:77:f9:ca:7a:98:2c:b0:d5:3c');
  });

  it('rejects malformed keys with "Keypair data is invalid"', () => {
    const [type, b64] = SAMPLE.split(' ');
    for (const bad of ['', 'ssh-rsa', `ssh-dss ${b64}`, `${type} ${b64.slice(0, 40)}`, `${type} ${b64}AAAA`, 'ssh-rsa !!!!', `foo ${b64}`]) {
      assert.throws(() => parseSshPublicKey(bad), /Keypair data is invalid/, bad);
    }
  });

  it('generates RSA pairs whose public half matches the private half', () => {
    const g = generateSshKeyPair();
    assert.match(g.privateKey, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    assert.equal(sshFingerprint(g.publicKey), g.fingerprint);
    const fromPrivate = createPublicKey(createPrivateKey(g.privateKey)).export({ format: 'jwk' }) as { n: string };
    const blob = parseSshPublicKey(g.publicKey).blob;
    // The modulus is the last field of the blob (after the type and the exponent).
    assert.ok(blob.toString('hex').endsWith(Buffer.from(fromPrivate.n, 'base64url').toString('hex')));
  });

  it('accepts ed25519 and ecdsa keys', () => {
    const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    const ed = Buffer.from((generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url');
    const edBlob = Buffer.concat([str(Buffer.from('ssh-ed25519')), str(ed)]);
    assert.equal(parseSshPublicKey(`ssh-ed25519 ${edBlob.toString('base64')}`).type, 'ssh-ed25519');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as { x: string; y: string };
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(ec.x, 'base64url'), Buffer.from(ec.y, 'base64url')]);
    const ecBlob = Buffer.concat([str(Buffer.from('ecdsa-sha2-nistp256')), str(Buffer.from('nistp256')), str(point)]);
    assert.equal(parseSshPublicKey(`ecdsa-sha2-nistp256 ${ecBlob.toString('base64')} c`).type, 'ecdsa-sha2-nistp256');
  });

  it('generates a self-signed certificate that verifies with its own key', () => {
    const g = generateX509('me');
    const cert = new X509Certificate(g.certificate);
    assert.equal(cert.subject, 'CN=me');
    assert.ok(cert.verify(cert.publicKey));
    assert.ok(cert.checkPrivateKey(createPrivateKey(g.privateKey)));
    assert.equal(x509Fingerprint(g.certificate), cert.fingerprint.toLowerCase());
    assert.throws(() => x509Fingerprint('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'), /Keypair data is invalid/);
  });
});
