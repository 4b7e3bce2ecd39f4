import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { COMPUTE_MAX_VERSION, Microversion } from './http/microversion.js';

/** Passwords made on first start and kept (mode 0600) in the data dir. */
export interface Secrets {
  adminPassword: string;
  demoPassword: string;
  /** The service user nova's (src/identity/bootstrap.ts); added to older secrets files on their next load. */
  servicePassword: string;
}

export function loadSecrets(dataDir: string): Secrets {
  const file = join(dataDir, 'secrets.json');
  const have = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>) : undefined;
  if (have?.adminPassword && have.demoPassword && have.servicePassword) return have as Secrets;
  const s: Secrets = {
    adminPassword: have?.adminPassword ?? process.env.NOVA_TS_ADMIN_PASSWORD ?? randomBytes(12).toString('base64url'),
    demoPassword: have?.demoPassword ?? process.env.NOVA_TS_DEMO_PASSWORD ?? randomBytes(12).toString('base64url'),
    servicePassword: have?.servicePassword ?? randomBytes(18).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify({ ...have, ...s }, null, 2), { mode: 0o600 });
  return s;
}

/** Highest microversion that both nova-ts and the Debian CLI (novaclient 18.1: 2.92) support. */
export const CLIENT_MAX_VERSION = '2.92';

export function cloudsComputeVersion(): string {
  const ours = Microversion.parse(COMPUTE_MAX_VERSION)!;
  return ours.atLeast(CLIENT_MAX_VERSION) ? CLIENT_MAX_VERSION : COMPUTE_MAX_VERSION;
}

/**
 * Writes DIR/clouds.yaml with the `nova-ts` (admin) and `nova-ts-demo` (demo) clouds; with
 * opts.cacert (an https cloud) each cloud names the CA file clients verify the API with.
 */
export function writeCloudsYaml(dataDir: string, url: string, region: string, s: Secrets, opts: { cacert?: string } = {}): string {
  const cloud = (user: string, project: string, password: string) => `
    auth:
      auth_url: ${url}/identity/v3
      username: ${user}
      password: ${JSON.stringify(password)}
      project_name: ${project}
      user_domain_name: Default
      project_domain_name: Default
    region_name: ${region}
    interface: public
    identity_api_version: 3
    compute_api_version: "${cloudsComputeVersion()}"
    image_api_version: 2${opts.cacert ? `\n    cacert: ${JSON.stringify(opts.cacert)}` : ''}`;
  const text = `# Written by nova-ts on start. Use: export OS_CLIENT_CONFIG_FILE=${join(dataDir, 'clouds.yaml')}
clouds:
  nova-ts:${cloud('admin', 'admin', s.adminPassword)}
  nova-ts-demo:${cloud('demo', 'demo', s.demoPassword)}
`;
  const file = join(dataDir, 'clouds.yaml');
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}
