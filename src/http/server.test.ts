import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createApiServer } from './server.js';
import { Router } from './router.js';
import { unauthorized } from '../errors.js';

async function serve(router: Router, microversions = true) {
  const server = createApiServer({
    mounts: [{ prefix: '/compute', router, microversions }],
    authenticate: async (token, requestId) => {
      if (token !== 'good') throw unauthorized();
      return {
        requestId, token, userId: 'u', userName: 'u', userDomainId: 'default', projectId: 'p', projectName: 'p',
        projectDomainId: 'default', domainId: null, roles: ['member'], isAdmin: false, readOnly: false, expiresAt: '',
      };
    },
    identityUrl: () => 'http://127.0.0.1/identity',
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/compute`;
  return { url, close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }) };
}

const echo = new Router('nova').post('/v2.1/echo', (req) => ({ status: 200, body: { got: req.body, mv: String(req.mv) } }));

test('JSON in, JSON out, with the microversion echoed and Vary set', async () => {
  const s = await serve(echo);
  try {
    const r = await fetch(`${s.url}/v2.1/echo`, {
      method: 'POST',
      headers: { 'x-auth-token': 'good', 'content-type': 'application/json', 'openstack-api-version': 'compute 2.60' },
      body: JSON.stringify({ a: 1 }),
    });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { got: { a: 1 }, mv: '2.60' });
    assert.equal(r.headers.get('openstack-api-version'), 'compute 2.60');
    assert.match(r.headers.get('vary') ?? '', /OpenStack-API-Version/);
    assert.match(r.headers.get('x-openstack-request-id') ?? '', /^req-/);
  } finally {
    await s.close();
  }
});

test('no token is 401 with WWW-Authenticate; malformed JSON is a 400 fault; unknown path 404', async () => {
  const s = await serve(echo);
  try {
    const a = await fetch(`${s.url}/v2.1/echo`, { method: 'POST', body: '{}' });
    assert.equal(a.status, 401);
    assert.match(a.headers.get('www-authenticate') ?? '', /Keystone uri=/);
    const b = await fetch(`${s.url}/v2.1/echo`, { method: 'POST', headers: { 'x-auth-token': 'good' }, body: '{"a":' });
    assert.equal(b.status, 400);
    assert.deepEqual(await b.json(), { badRequest: { code: 400, message: 'Malformed request body' } });
    const c = await fetch(`${s.url}/v2.1/nothing`, { headers: { 'x-auth-token': 'good' } });
    assert.equal(c.status, 404);
    assert.equal((await c.json()).itemNotFound.code, 404);
    const d = await fetch(`${s.url}/v2.1/echo`, { headers: { 'x-auth-token': 'good' } });
    assert.equal(d.status, 405);
  } finally {
    await s.close();
  }
});

test('an over-large body gets a 413 answer, not a cut connection', async () => {
  const s = await serve(echo);
  try {
    const big = JSON.stringify({ junk: 'x'.repeat(2 * 1024 * 1024) });
    const r = await fetch(`${s.url}/v2.1/echo`, { method: 'POST', headers: { 'x-auth-token': 'good' }, body: big });
    assert.equal(r.status, 413);
    assert.match((await r.json()).overLimit.message, /too large/);
  } finally {
    await s.close();
  }
});

test('a bad microversion header is 400, an unsupported one 406', async () => {
  const s = await serve(echo);
  try {
    const h = (v: string) => ({ 'x-auth-token': 'good', 'openstack-api-version': `compute ${v}` });
    assert.equal((await fetch(`${s.url}/v2.1/echo`, { method: 'POST', headers: h('two'), body: '{}' })).status, 400);
    assert.equal((await fetch(`${s.url}/v2.1/echo`, { method: 'POST', headers: h('2.999'), body: '{}' })).status, 406);
  } finally {
    await s.close();
  }
});
