/**
 * TLS for the cloud's own listeners (--tls): a server certificate from the data dir's CA,
 * issued afresh on every start (nothing to rotate or keep), valid for 127.0.0.1, localhost
 * and the hosts the API and the console proxy listen on.
 */
import { CertificateAuthority } from './ca.js';

export interface ServerTls {
  key: string;
  cert: string;
  /** The CA's root certificate file, for clients (clouds.yaml `cacert`). */
  caFile: string;
}

export async function serverTls(dataDir: string, hosts: string[]): Promise<ServerTls> {
  const ca = await CertificateAuthority.open(dataDir);
  const issued = await ca.issueServer(hosts);
  return { key: issued.privateKey, cert: issued.certificate, caFile: ca.certFile };
}
