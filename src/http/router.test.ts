import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from './router.js';

const h = (name: string) => () => ({ status: 200, body: name });

test('literal segments win over parameters, whatever the registration order', () => {
  const r = new Router('nova').get('/v2.1/servers/:id', h('show')).get('/v2.1/servers/detail', h('detail'));
  const m = r.match('GET', '/v2.1/servers/detail');
  assert.ok(m && m !== 'method-not-allowed');
  assert.equal((m.handler as any)().body, 'detail');
  const s = r.match('GET', '/v2.1/servers/abc');
  assert.ok(s && s !== 'method-not-allowed');
  assert.deepEqual(s.params, { id: 'abc' });
});

test('a known path under another method is method-not-allowed; unknown paths are null', () => {
  const r = new Router('nova').get('/v2.1/flavors', h('list'));
  assert.equal(r.match('DELETE', '/v2.1/flavors'), 'method-not-allowed');
  assert.equal(r.match('GET', '/v2.1/nothing'), null);
});

test('HEAD falls back to GET; parameters are URL-decoded; trailing slashes are ignored', () => {
  const r = new Router('glance').get('/v2/images/:id/tags/:tag', h('tag'));
  const m = r.match('HEAD', '/v2/images/i1/tags/a%20b/');
  assert.ok(m && m !== 'method-not-allowed');
  assert.deepEqual(m.params, { id: 'i1', tag: 'a b' });
});

test('a trailing *rest parameter takes the rest of the path', () => {
  const r = new Router('nova').get('/static/*path', h('file'));
  const m = r.match('GET', '/static/js/app.js');
  assert.ok(m && m !== 'method-not-allowed');
  assert.equal(m.params.path, 'js/app.js');
});

test('nova: a trailing slash where this method wants an id is no route (404), not another method of the collection', () => {
  const r = new Router('nova').get('/v2.1/os-security-groups', h('list')).post('/v2.1/os-security-groups', h('create')).delete('/v2.1/os-security-groups/:id', h('delete'));
  assert.equal(r.match('DELETE', '/v2.1/os-security-groups/'), null);
  assert.equal(r.match('DELETE', '/v2.1/os-security-groups'), 'method-not-allowed');
  assert.equal(r.match('PUT', '/v2.1/os-security-groups/'), 'method-not-allowed', 'no PUT route with an id: still 405');
  const list = r.match('GET', '/v2.1/os-security-groups/');
  assert.ok(list && list !== 'method-not-allowed', 'the collection still answers with a trailing slash');
  const neutron = new Router('neutron').get('/v2.0/ports', h('list')).delete('/v2.0/ports/:id', h('delete'));
  assert.equal(neutron.match('DELETE', '/v2.0/ports/'), 'method-not-allowed', 'other styles keep 405');
});
