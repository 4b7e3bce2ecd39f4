/**
 * Functional-test harness: a whole all-in-one cloud in this process on an ephemeral port, in
 * a temporary data dir, plus a small HTTP client that logs in as admin or demo.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, type Config } from '../../src/config.js';
import { startCloud, type Cloud } from '../../src/cloud.js';
import { fetchTrusting } from './tls-fetch.js';

export interface TestCloud {
  cloud: Cloud;
  url: string;
  admin: Client;
  demo: Client;
  /**
   * The fetch clients use: the global one, or with `tls: true` one that trusts the cloud's CA
   * (then also `caFile`, the CA's certificate file).
   */
  fetch: typeof fetch;
  caFile?: string;
  /** Logs in as another user (password auth, project scope). */
  login(user: string, password: string, project: string): Promise<Client>;
  close(): Promise<void>;
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export class Client {
  constructor(
    readonly base: string,
    readonly token: string,
    readonly projectId: string,
    readonly userId: string,
    /** Default compute microversion sent with every compute request (undefined: none). */
    public microversion?: string,
    /** How requests are sent (a CA-trusting fetch for a --tls cloud). */
    readonly fetcher: typeof fetch = fetch,
  ) {}

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    const h: Record<string, string> = { 'x-auth-token': this.token, accept: 'application/json', ...headers };
    if (this.microversion && path.startsWith('/compute') && !('openstack-api-version' in headers))
      h['openstack-api-version'] = `compute ${this.microversion}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    const send = this.fetcher;
    const r = await send(this.base + path, { method, headers: h, body: payload });
    const text = await r.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: r.status, body: parsed as T, headers: r.headers };
  }
  get<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>('GET', path, undefined, headers);
  }
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', path, body ?? {}, headers);
  }
  put<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('PUT', path, body ?? {}, headers);
  }
  patch<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('PATCH', path, body ?? {}, headers);
  }
  delete<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>('DELETE', path, undefined, headers);
  }
}

/** Password login through the Identity API; returns a client holding a project-scoped token. */
export async function login(url: string, user: string, password: string, project: string, fetcher: typeof fetch = fetch): Promise<Client> {
  const r = await fetcher(`${url}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } },
        scope: { project: { name: project, domain: { id: 'default' } } },
      },
    }),
  });
  if (r.status !== 201) throw new Error(`login as ${user} failed: ${r.status} ${await r.text()}`);
  const body = (await r.json()) as any;
  return new Client(url, r.headers.get('x-subject-token')!, body.token.project.id, body.token.user.id, undefined, fetcher);
}

/** Starts a cloud for a test file. Always call close() (in an after hook). */
export async function startTestCloud(over: Partial<Config> = {}): Promise<TestCloud> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nova-ts-test-'));
  const config = defaultConfig({ dataDir, listenPort: 0, ...over });
  if (!over.databaseUrl) config.databaseUrl = `sqlite:${join(dataDir, 'nova.db')}`;
  config.compute = { ...config.compute, powerSyncIntervalSec: 1, reportIntervalSec: 1, ...(over.compute ?? {}) };
  const cloud = await startCloud(config);
  const caFile = config.tls ? join(dataDir, 'ca', 'ca.pem') : undefined;
  const fetcher = caFile ? fetchTrusting(readFileSync(caFile, 'utf8')) : fetch;
  const admin = await login(cloud.url, 'admin', cloud.secrets.adminPassword, 'admin', fetcher);
  const demo = await login(cloud.url, 'demo', cloud.secrets.demoPassword, 'demo', fetcher);
  return {
    cloud,
    url: cloud.url,
    admin,
    demo,
    fetch: fetcher,
    caFile,
    login: (user, password, project) => login(cloud.url, user, password, project, fetcher),
    async close() {
      await cloud.close({ removeNetworkNamespaces: true });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls fn until it returns a truthy value, or fails after timeoutMs with the last value seen. */
export async function waitFor<T>(fn: () => Promise<T>, what: string, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
}
