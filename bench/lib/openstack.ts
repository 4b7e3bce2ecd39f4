/**
 * A minimal OpenStack API client for the benchmark: reads a cloud from clouds.yaml, logs in
 * (password, project scope), finds endpoints in the catalog, sends JSON requests with keep-alive.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';

/**
 * Keep-alive connections through node:http. (Node's fetch, undici, stalled the first burst of 50
 * concurrent requests by up to 3 s on the client side, which showed up as a false API tail.)
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function request(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: Headers; text: string }> {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (body !== undefined) h['content-length'] = String(Buffer.byteLength(body));
    const req = http.request(url, { method, agent, headers: h, timeout: 300_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve({ status: res.statusCode ?? 0, headers: out, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

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

  /** Closes the idle keep-alive connections (so the process can exit). */
  close(): void {
    agent.destroy();
  }

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
    const r = await request(url, method, headers, body === undefined ? undefined : JSON.stringify(body));
    const text = r.text;
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
  const r = await request(`${url}/auth/tokens`, 'POST', { 'content-type': 'application/json' }, JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: auth.username, domain: { name: 'Default' }, password: auth.password } } },
        scope: { project: { name: auth.projectName, domain: { name: 'Default' } } },
      },
    }));
  const text = r.text;
  if (r.status !== 201) throw new Error(`keystone auth failed: ${r.status} ${text.slice(0, 500)}`);
  const body = JSON.parse(text);
  return new Session(r.headers.get('x-subject-token')!, body.token.project.id, body.token.catalog ?? [], microversion);
}
