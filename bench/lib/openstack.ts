/**
 * A minimal OpenStack API client for the benchmark: reads a cloud from clouds.yaml, logs in
 * (password, project scope), finds endpoints in the catalog, sends JSON requests with keep-alive.
 */
import { readFileSync } from 'node:fs';

export interface CloudAuth {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
}

/**
 * Reads `clouds.<name>.auth` from a clouds.yaml as nova-ts writes it (flat two-space YAML,
 * password JSON-quoted). Throws naming the file when the cloud is missing.
 */
export function readCloud(file: string, name: string): CloudAuth {
  const text = readFileSync(file, 'utf8');
  const start = text.search(new RegExp(`^  ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\s*$`, 'm'));
  if (start < 0) throw new Error(`cloud ${name} not found in ${file}`);
  const rest = text.slice(start).split('\n').slice(1);
  const end = rest.findIndex((l) => /^ {0,2}\S/.test(l));
  const block = (end < 0 ? rest : rest.slice(0, end)).join('\n');
  const field = (k: string): string => {
    const m = new RegExp(`^\\s+${k}:\\s*(.*)$`, 'm').exec(block);
    if (!m) throw new Error(`cloud ${name} in ${file} has no ${k}`);
    const v = m[1].trim();
    return v.startsWith('"') ? (JSON.parse(v) as string) : v.replace(/^'(.*)'$/, '$1');
  };
  return { authUrl: field('auth_url'), username: field('username'), password: field('password'), projectName: field('project_name') };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

export class Session {
  constructor(
    readonly token: string,
    readonly projectId: string,
    private readonly catalog: any[],
    /** Compute microversion sent with every request ('' for none). */
    readonly microversion: string,
  ) {}

  /** Public endpoint of a service type, without a trailing slash. */
  endpoint(type: string): string {
    const svc = this.catalog.find((s) => s.type === type);
    const ep = svc?.endpoints?.find((e: any) => e.interface === 'public');
    if (!ep) throw new Error(`no public ${type} endpoint in the catalog`);
    return String(ep.url).replace(/\/$/, '');
  }

  async req(method: string, url: string, body?: unknown): Promise<Reply> {
    const headers: Record<string, string> = { 'x-auth-token': this.token, accept: 'application/json' };
    if (this.microversion) {
      headers['openstack-api-version'] = `compute ${this.microversion}`;
      headers['x-openstack-nova-api-version'] = this.microversion;
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(300_000) });
    const text = await r.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* keep the text */
    }
    return { status: r.status, headers: r.headers, body: parsed };
  }
}

/** Password login with project scope; throws with the response on failure. */
export async function login(auth: CloudAuth, microversion: string): Promise<Session> {
  const base = auth.authUrl.replace(/\/$/, '');
  const url = base.endsWith('/v3') ? base : `${base}/v3`;
  const r = await fetch(`${url}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: auth.username, domain: { name: 'Default' }, password: auth.password } } },
        scope: { project: { name: auth.projectName, domain: { name: 'Default' } } },
      },
    }),
  });
  const text = await r.text();
  if (r.status !== 201) throw new Error(`keystone auth failed: ${r.status} ${text.slice(0, 500)}`);
  const body = JSON.parse(text);
  return new Session(r.headers.get('x-subject-token')!, body.token.project.id, body.token.catalog ?? [], microversion);
}
