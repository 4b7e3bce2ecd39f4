/**
 * The cloud's certificate authority (Nova's nova-cert): one CA per data dir, kept in
 * `<dataDir>/ca/ca.pem` (the root certificate, world-readable: clouds.yaml names it) and
 * `<dataDir>/ca/ca-key.pem` (EC P-256, mode 0600). It signs user certificates (os-certificates)
 * and the API's own server certificate (--tls). Signatures are SHA-256, serials 128 random bits.
 *
 * Contracts:
 * - `CertificateAuthority.open(dataDir)` makes the CA on first use and reuses it afterwards.
 *   A new CA is built in a temporary dir beside `ca/` and renamed into place, so concurrent
 *   first uses (in one process or several) end with exactly one CA and all callers use it.
 * - A `ca/` dir that exists but is incomplete or corrupt is never replaced silently (that
 *   would invalidate every certificate issued): open() fails saying which file is wrong.
 * - Private keys of issued certificates are returned to the caller and never kept.
 */
import { generateKeyPair, randomBytes, X509Certificate, createPrivateKey } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { unavailable } from '../errors.js';
import { openssl, randomSerial, subjValue } from './openssl.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export const CA_DIR = 'ca';
export const CA_CERT = 'ca.pem';
export const CA_KEY = 'ca-key.pem';
const CA_DAYS = 3650;
const USER_DAYS = 365;
const SERVER_DAYS = 365;

/** A certificate the CA issued, with its new private key (PEM). */
export interface IssuedCertificate {
  /** PEM of the certificate. */
  certificate: string;
  /** PEM of its private key: PKCS#1 `RSA PRIVATE KEY` for users (as Nova), PKCS#8 for servers. */
  privateKey: string;
  /** Serial number, lowercase hex. */
  serial: string;
  /** Subject as `K=V, K=V` (RFC 4514 order reversed: as openssl prints it). */
  subject: string;
  /** Expiry, ISO 8601. */
  notAfter: string;
}

/** Extensions of each kind of certificate, in one openssl config shared by req and x509. */
function opensslConfig(sans: string[] = []): string {
  const alt = sans.map((s, i) => (isIP(s) ? `IP.${i + 1} = ${s}` : `DNS.${i + 1} = ${s}`)).join('\n');
  return `[req]
distinguished_name = req_dn
string_mask = utf8only
[req_dn]
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_user]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = @alt
[alt]
${alt || 'DNS.1 = localhost'}
`;
}

/** Nova's isotime: 2013-08-12T07:20:30Z. */
const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

const errCode = (e: unknown) => (e as NodeJS.ErrnoException).code;

function dataDirUnusable(dataDir: string, e: unknown): Error {
  const code = errCode(e);
  const why = code === 'ENOTDIR' || code === 'EEXIST' ? 'it (or a parent) is not a directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? String(e));
  return unavailable(`Cannot keep the certificate authority in the data dir ${dataDir}: ${why}.`);
}

function caBroken(dir: string, what: string): Error {
  return unavailable(
    `The certificate authority in ${dir} is unusable: ${what}. Restore ca.pem and ca-key.pem from a backup, ` +
      `or remove ${dir} to make a new CA (certificates issued by the old one will then no longer verify).`,
  );
}

export class CertificateAuthority {
  private constructor(
    /** The CA dir, `<dataDir>/ca`. */
    readonly dir: string,
    /** PEM of the root certificate. */
    readonly certificate: string,
  ) {}

  get certFile(): string {
    return join(this.dir, CA_CERT);
  }
  get keyFile(): string {
    return join(this.dir, CA_KEY);
  }

  /** The CA of dataDir, made on first use (see the file's contracts). Rejects with a clear reason. */
  static open(dataDir: string): Promise<CertificateAuthority> {
    const dir = resolve(dataDir, CA_DIR);
    let p = inflight.get(dir);
    if (!p) {
      p = openOrCreate(resolve(dataDir)).finally(() => inflight.delete(dir));
      inflight.set(dir, p);
    }
    return p;
  }

  /** Loads an existing CA dir; undefined when there is none yet (absent or empty). */
  static async load(dir: string): Promise<CertificateAuthority | undefined> {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (e) {
      if (errCode(e) === 'ENOENT') return undefined;
      if (errCode(e) === 'ENOTDIR') throw caBroken(dir, 'it is not a directory');
      throw caBroken(dir, `it cannot be read (${errCode(e) ?? String(e)})`);
    }
    if (entries.length === 0) return undefined;
    for (const f of [CA_CERT, CA_KEY]) if (!entries.includes(f)) throw caBroken(dir, `${f} is missing`);
    let certPem: string;
    let keyPem: string;
    try {
      certPem = await readFile(join(dir, CA_CERT), 'utf8');
      keyPem = await readFile(join(dir, CA_KEY), 'utf8');
    } catch (e) {
      throw caBroken(dir, `its files cannot be read (${errCode(e) ?? String(e)})`);
    }
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certPem);
    } catch {
      throw caBroken(dir, `${CA_CERT} is not a PEM certificate`);
    }
    let matches: boolean;
    try {
      matches = cert.checkPrivateKey(createPrivateKey(keyPem));
    } catch {
      throw caBroken(dir, `${CA_KEY} is not a PEM private key`);
    }
    if (!matches) throw caBroken(dir, `${CA_KEY} is not the key of ${CA_CERT}`);
    if (!cert.ca) throw caBroken(dir, `${CA_CERT} is not a CA certificate`);
    return new CertificateAuthority(dir, certPem);
  }

  /**
   * A client certificate for a user: RSA 2048, 1 year, clientAuth. The subject names the
   * project and user in full (OU, UID) and, as Nova did, in the CN
   * `<project:16>-<user:16>-<timestamp>` (a CN holds at most 64 characters).
   */
  async issueUser(who: { projectId: string; userId: string; now?: Date }): Promise<IssuedCertificate> {
    const now = who.now ?? new Date();
    const cn = `${who.projectId.slice(0, 16)}-${who.userId.slice(0, 16)}-${isoSeconds(now)}`;
    const subj = `/O=nova-ts/OU=${subjValue(who.projectId.slice(0, 64))}/UID=${subjValue(who.userId)}/CN=${subjValue(cn)}`;
    const { privateKey } = await generateKeyPairAsync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    return this.sign(privateKey, subj, 'v3_user', USER_DAYS);
  }

  /**
   * A server certificate for the API and console listeners: EC P-256, 1 year, serverAuth,
   * SANs IP:127.0.0.1, DNS:localhost and each of hosts (IP or DNS name).
   */
  async issueServer(hosts: string[]): Promise<IssuedCertificate> {
    const sans = [...new Set(['127.0.0.1', 'localhost', ...hosts.filter((h) => h && h !== '0.0.0.0' && h !== '::')])];
    const { privateKey } = await generateKeyPairAsync('ec', {
      namedCurve: 'prime256v1',
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const cn = hosts.find((h) => h && h !== '0.0.0.0' && h !== '::') ?? 'localhost';
    return this.sign(privateKey, `/O=nova-ts/CN=${subjValue(cn)}`, 'v3_server', SERVER_DAYS, sans);
  }

  /** Makes a CSR for keyPem and signs it with the CA; temporary files live in a 0700 dir, removed after. */
  private async sign(keyPem: string, subj: string, extensions: string, days: number, sans: string[] = []): Promise<IssuedCertificate> {
    const work = await mkdtemp(join(tmpdir(), 'nova-ts-cert-'));
    try {
      await writeFile(join(work, 'key.pem'), keyPem, { mode: 0o600 });
      await writeFile(join(work, 'openssl.cnf'), opensslConfig(sans));
      const serial = randomSerial(randomBytes(16));
      await openssl(['req', '-new', '-config', 'openssl.cnf', '-utf8', '-key', 'key.pem', '-subj', subj, '-out', 'req.csr'], { cwd: work });
      await openssl(
        ['x509', '-req', '-in', 'req.csr', '-CA', this.certFile, '-CAkey', this.keyFile, '-set_serial', `0x${serial}`, '-days', String(days), '-sha256',
          '-extfile', 'openssl.cnf', '-extensions', extensions, '-out', 'cert.pem'],
        { cwd: work },
      );
      const certificate = await readFile(join(work, 'cert.pem'), 'utf8');
      const x = new X509Certificate(certificate);
      return { certificate, privateKey: keyPem, serial, subject: x.subject.split('\n').join(', '), notAfter: new Date(x.validTo).toISOString() };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}

const inflight = new Map<string, Promise<CertificateAuthority>>();

/** Loads `<dataDir>/ca`, or builds a new CA beside it and renames it into place (first one wins). */
export async function openOrCreate(dataDir: string): Promise<CertificateAuthority> {
  const dir = join(dataDir, CA_DIR);
  try {
    await mkdir(dataDir, { recursive: true });
    if (!(await stat(dataDir)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (e) {
    throw dataDirUnusable(dataDir, e);
  }
  const existing = await CertificateAuthority.load(dir);
  if (existing) return existing;
  let tmp: string;
  try {
    tmp = await mkdtemp(join(dataDir, '.ca-new-'));
  } catch (e) {
    throw dataDirUnusable(dataDir, e);
  }
  try {
    const { privateKey } = await generateKeyPairAsync('ec', {
      namedCurve: 'prime256v1',
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    await writeFile(join(tmp, CA_KEY), privateKey, { mode: 0o600 });
    await writeFile(join(tmp, 'openssl.cnf'), opensslConfig());
    const name = `nova-ts CA ${randomBytes(4).toString('hex')}`;
    await openssl(
      ['req', '-x509', '-new', '-config', 'openssl.cnf', '-extensions', 'v3_ca', '-key', CA_KEY, '-subj', `/O=nova-ts/CN=${name}`,
        '-days', String(CA_DAYS), '-sha256', '-set_serial', `0x${randomSerial(randomBytes(16))}`, '-out', CA_CERT],
      { cwd: tmp },
    );
    await rm(join(tmp, 'openssl.cnf'));
    await chmod(join(tmp, CA_CERT), 0o644);
    await chmod(tmp, 0o755);
    try {
      await rename(tmp, dir);
    } catch (e) {
      // Someone else's CA got there first (or the dir is in the way): use what is there.
      if (errCode(e) !== 'ENOTEMPTY' && errCode(e) !== 'EEXIST' && errCode(e) !== 'ENOTDIR') throw e;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const ca = await CertificateAuthority.load(dir);
  if (!ca) throw caBroken(dir, 'it vanished while being created');
  return ca;
}
