/**
 * Key material for os-keypairs: parsing and fingerprinting OpenSSH public keys and X.509
 * certificates, and generating new RSA key pairs (OpenSSH public key, PEM private key).
 * Errors are Invalid with Nova's "Keypair data is invalid: ..." message.
 */
import { X509Certificate, createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { invalid } from '../../errors.js';

export const keypairInvalid = (reason: string) => invalid(`Keypair data is invalid: ${reason}`);

/** Reads SSH wire-format fields (uint32 length-prefixed strings) from a key blob. */
class WireReader {
  private off = 0;
  constructor(private readonly buf: Buffer) {}
  string(): Buffer {
    if (this.off + 4 > this.buf.length) throw keypairInvalid('failed to generate fingerprint');
    const n = this.buf.readUInt32BE(this.off);
    this.off += 4;
    if (n > this.buf.length - this.off) throw keypairInvalid('failed to generate fingerprint');
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }
  get done(): boolean {
    return this.off === this.buf.length;
  }
}

const ECDSA_CURVES: Record<string, { curve: string; pointLen: number }> = {
  'ecdsa-sha2-nistp256': { curve: 'nistp256', pointLen: 65 },
  'ecdsa-sha2-nistp384': { curve: 'nistp384', pointLen: 97 },
  'ecdsa-sha2-nistp521': { curve: 'nistp521', pointLen: 133 },
};

/** A parsed OpenSSH public key: its type and the decoded blob the fingerprint is taken of. */
export interface SshPublicKey {
  type: string;
  blob: Buffer;
}

/**
 * Parses `<type> <base64> [comment]` and checks the blob's structure for the key types OpenSSH
 * clients use (rsa, dss, ed25519, ecdsa). Throws Invalid when anything does not add up.
 */
export function parseSshPublicKey(text: string): SshPublicKey {
  const parts = text.trim().split(/\s+/);
  if (parts.length < 2) throw keypairInvalid('failed to generate fingerprint');
  const [type, b64] = parts;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw keypairInvalid('failed to generate fingerprint');
  const blob = Buffer.from(b64, 'base64');
  if (blob.toString('base64').replace(/=+$/, '') !== b64.replace(/=+$/, '')) throw keypairInvalid('failed to generate fingerprint');
  const r = new WireReader(blob);
  if (r.string().toString('latin1') !== type) throw keypairInvalid('failed to generate fingerprint');
  if (type === 'ssh-rsa') {
    const e = r.string();
    const n = r.string();
    if (e.length === 0 || n.length < 64) throw keypairInvalid('failed to generate fingerprint');
    try {
      createPublicKey({ key: { kty: 'RSA', n: unsignedB64u(n), e: unsignedB64u(e) }, format: 'jwk' });
    } catch {
      throw keypairInvalid('failed to generate fingerprint');
    }
  } else if (type === 'ssh-dss') {
    for (let i = 0; i < 4; i++) if (r.string().length === 0) throw keypairInvalid('failed to generate fingerprint');
  } else if (type === 'ssh-ed25519') {
    if (r.string().length !== 32) throw keypairInvalid('failed to generate fingerprint');
  } else if (ECDSA_CURVES[type]) {
    const c = ECDSA_CURVES[type];
    if (r.string().toString('latin1') !== c.curve) throw keypairInvalid('failed to generate fingerprint');
    const point = r.string();
    if (point.length !== c.pointLen || point[0] !== 4) throw keypairInvalid('failed to generate fingerprint');
  } else {
    throw keypairInvalid('failed to generate fingerprint');
  }
  if (!r.done) throw keypairInvalid('failed to generate fingerprint');
  return { type, blob };
}

const colonHex = (buf: Buffer) => buf.toString('hex').match(/../g)!.join(':');

/** Nova's SSH fingerprint: MD5 of the decoded key blob, lowercase colon-separated hex. */
export function sshFingerprint(publicKey: string): string {
  return colonHex(createHash('md5').update(parseSshPublicKey(publicKey).blob).digest());
}

/** Nova's X.509 fingerprint: SHA-1 of the DER certificate, lowercase colon-separated hex. */
export function x509Fingerprint(pem: string): string {
  try {
    const cert = new X509Certificate(pem);
    return colonHex(createHash('sha1').update(cert.raw).digest());
  } catch {
    throw keypairInvalid('failed to generate X509 fingerprint');
  }
}

function unsignedB64u(mpint: Buffer): string {
  let i = 0;
  while (i < mpint.length - 1 && mpint[i] === 0) i++;
  return mpint.subarray(i).toString('base64url');
}

function sshString(b: Buffer | string): Buffer {
  const body = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** An unsigned big-endian integer as an SSH mpint (leading zero when the high bit is set). */
function mpint(unsigned: Buffer): Buffer {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  const v = unsigned.subarray(i);
  return sshString(v[0] & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

export interface GeneratedKeyPair {
  publicKey: string;
  privateKey: string;
  fingerprint: string;
}

/** A new 2048-bit RSA key pair: `ssh-rsa ... Generated-by-Nova` and a PKCS#1 PEM private key. */
export function generateSshKeyPair(): GeneratedKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicExponent: 65537,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const jwk = createPublicKey(publicKey).export({ format: 'jwk' }) as { n: string; e: string };
  const blob = Buffer.concat([sshString('ssh-rsa'), mpint(Buffer.from(jwk.e, 'base64url')), mpint(Buffer.from(jwk.n, 'base64url'))]);
  return {
    publicKey: `ssh-rsa ${blob.toString('base64')} Generated-by-Nova`,
    privateKey,
    fingerprint: colonHex(createHash('md5').update(blob).digest()),
  };
}
