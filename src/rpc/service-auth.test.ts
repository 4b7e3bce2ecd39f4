import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceAuth } from './service-auth.js';

/** A fake Identity API: each login answers a new token expiring after `lifeMs`. */
function identity(lifeMs: number, catalog: unknown[] = CATALOG) {
  const logins: unknown[] = [];
  const fetcher = (async (_url: string | URL | Request, init?: RequestInit) => {
    logins.push(JSON.parse(String(init?.body)));
    await new Promise((r) => setTimeout(r, 5));
    const body = { token: { expires_at: new Date(Date.now() + lifeMs).toISOString(), catalog } };
    return new Response(JSON.stringify(body), { status: 201, headers: { 'x-subject-token': `tok-${logins.length}` } });
  }) as typeof fetch;
  return { logins, fetcher };
}

const CATALOG = [
  { type: 'compute', endpoints: [{ interface: 'public', url: 'http://c/compute/v2.1', region_id: 'R1' }] },
  {
    type: 'image',
    endpoints: [
      { interface: 'internal', url: 'http://internal/image', region_id: 'R1' },
      { interface: 'public', url: 'http://one/image/', region_id: 'R1' },
      { interface: 'public', url: 'http://two/image', region_id: 'R2' },
    ],
  },
];

const opts = { authUrl: 'http://id/identity/v3/', username: 'nova', password: 'pw', projectName: 'service' };

describe('ServiceAuth', () => {
  test('logs in with the password method and project scope; concurrent callers share one login; the token is cached', async () => {
    const id = identity(3_600_000);
    const auth = new ServiceAuth({ ...opts, fetch: id.fetcher });
    assert.deepEqual(await Promise.all([auth.token(), auth.token(), auth.endpoint('image')]), ['tok-1', 'tok-1', 'http://one/image']);
    assert.equal(await auth.token(), 'tok-1');
    assert.equal(id.logins.length, 1);
    assert.deepEqual(id.logins[0], {
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'nova', domain: { id: 'default' }, password: 'pw' } } },
        scope: { project: { name: 'service', domain: { id: 'default' } } },
      },
    });
  });

  test('logs in again shortly before the token expires, and after invalidate', async () => {
    const id = identity(200);
    const auth = new ServiceAuth({ ...opts, fetch: id.fetcher });
    assert.equal(await auth.token(), 'tok-1');
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(await auth.token(), 'tok-2');
    auth.invalidate('tok-1'); // an old token: nothing changes
    assert.equal(await auth.token(), 'tok-2');
    auth.invalidate('tok-2');
    assert.equal(await auth.token(), 'tok-3');
  });

  test('endpoints come from the catalog: public interface, the configured region', async () => {
    const auth = new ServiceAuth({ ...opts, region: 'R2', fetch: identity(3_600_000).fetcher });
    assert.equal(await auth.endpoint('image'), 'http://two/image');
    await assert.rejects(auth.endpoint('volumev3'), { kind: 'ServiceUnavailable', message: /no public volumev3 endpoint in region R2/ });
  });

  test('refused credentials and an unreachable Identity API are clear errors', async () => {
    const refused = (async () => new Response(JSON.stringify({ error: { code: 401, message: 'nope' } }), { status: 401 })) as typeof fetch;
    await assert.rejects(new ServiceAuth({ ...opts, fetch: refused }).token(), {
      kind: 'Unauthorized',
      message: "The Identity API at http://id/identity/v3/ refused the service user 'nova' in project 'service': check the [service_auth] username, password and project_name.",
    });
    const down = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    await assert.rejects(new ServiceAuth({ ...opts, fetch: down }).token(), { kind: 'ServiceUnavailable', message: /Cannot reach the Identity API at http:\/\/id\/identity\/v3\// });
    const broken = (async () => new Response('oops', { status: 500 })) as typeof fetch;
    await assert.rejects(new ServiceAuth({ ...opts, fetch: broken }).token(), { kind: 'ServiceUnavailable', message: /HTTP 500: oops/ });
  });
});
