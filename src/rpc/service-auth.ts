/**
 * A service user's token from the Identity API (Keystone v3 password auth, project scope), as
 * processes without the DB use it to call other APIs (the Image API for image data). The
 * token and its catalog are cached until shortly before the token expires; concurrent callers
 * share one login. Errors: Unauthorized naming the user and the Identity API when the
 * credentials are refused; ServiceUnavailable when the Identity API cannot be reached or
 * answers something else (naming [service_auth] cafile when an https API's certificate is not
 * signed by a trusted CA). With caFile, https requests trust that CA instead of the system's.
 */
import { readFileSync } from 'node:fs';
import { unauthorized, unavailable } from '../errors.js';
import { apiError } from './http-errors.js';
import { CA_SETTING, caFetch, requestFailure } from './ca-fetch.js';

export interface ServiceAuthOptions {
  /** The Identity API's v3 base, e.g. http://127.0.0.1:8774/identity/v3 */
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  /** Domain of the user and of the project (by id); default `default`. */
  domainId?: string;
  /** Endpoints of this region only (default: the first of any region). */
  region?: string;
  /**
   * The CA certificate file (PEM) the cloud's https APIs are checked against ([service_auth]
   * cafile), instead of the system's CAs; the Image API's requests (this.fetch) use it too.
   */
  caFile?: string;
  /** Default the global fetch, or one trusting caFile (tests give their own). */
  fetch?: typeof fetch;
}

interface CatalogEntry {
  type: string;
  endpoints: { interface: string; url: string; region_id?: string; region?: string }[];
}

interface Session {
  token: string;
  catalog: CatalogEntry[];
  /** When to log in again (ms since epoch): a minute before expiry, or halfway for short tokens. */
  renewAt: number;
}

export class ServiceAuth {
  private session: Session | null = null;
  private pending: Promise<Session> | null = null;
  readonly fetch: typeof fetch;

  constructor(private readonly opts: ServiceAuthOptions) {
    this.fetch = opts.fetch ?? (opts.caFile ? caFetch(readCa(opts.caFile)) : fetch);
  }

  /** Why a request to the cloud's APIs got no answer (names the CA setting for an untrusted certificate). */
  failure(e: unknown): string {
    return requestFailure(e, this.opts.caFile);
  }

  /** A valid token (cached, or a new login). */
  async token(): Promise<string> {
    return (await this.current()).token;
  }

  /** The public URL of the catalog's service of this type (e.g. `image`), without a trailing slash. */
  async endpoint(type: string): Promise<string> {
    const s = await this.current();
    const eps = s.catalog.filter((c) => c.type === type).flatMap((c) => c.endpoints);
    const ep = eps.find((e) => e.interface === 'public' && (!this.opts.region || (e.region_id ?? e.region) === this.opts.region));
    if (!ep) throw unavailable(`The service catalog from ${this.opts.authUrl} has no public ${type} endpoint${this.opts.region ? ` in region ${this.opts.region}` : ''}.`);
    return ep.url.replace(/\/+$/, '');
  }

  /** Forgets the cached token (after a 401 from another API: it was revoked). */
  invalidate(token: string): void {
    if (this.session?.token === token) this.session = null;
  }

  private current(): Promise<Session> {
    if (this.session && Date.now() < this.session.renewAt) return Promise.resolve(this.session);
    this.pending ??= this.login().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async login(): Promise<Session> {
    const o = this.opts;
    const domain = { id: o.domainId ?? 'default' };
    const url = `${o.authUrl.replace(/\/+$/, '')}/auth/tokens`;
    let r: Response;
    try {
      r = await this.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          auth: {
            identity: { methods: ['password'], password: { user: { name: o.username, domain, password: o.password } } },
            scope: { project: { name: o.projectName, domain } },
          },
        }),
      });
    } catch (e) {
      throw unavailable(`Cannot reach the Identity API at ${o.authUrl}: ${this.failure(e)}.`);
    }
    if (r.status === 401)
      throw unauthorized(
        `The Identity API at ${o.authUrl} refused the service user '${o.username}' in project '${o.projectName}': check the [service_auth] username, password and project_name.`,
      );
    if (r.status !== 201) throw await apiError(r, `Logging in to the Identity API at ${o.authUrl} as '${o.username}'`);
    const token = r.headers.get('x-subject-token');
    const body = (await r.json()) as { token?: { expires_at?: string; catalog?: CatalogEntry[] } };
    if (!token || !body.token) throw unavailable(`The Identity API at ${o.authUrl} answered without a token.`);
    const now = Date.now();
    const expires = body.token.expires_at ? Date.parse(body.token.expires_at) : now + 3_600_000;
    const life = Math.max(0, expires - now);
    const session: Session = { token, catalog: body.token.catalog ?? [], renewAt: now + Math.max(life - 60_000, life / 2) };
    this.session = session;
    return session;
  }
}

function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${CA_SETTING}: cannot read the CA certificate ${file}: ${(e as Error).message}`, { cause: e });
  }
}
