import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startVolFixture, type VolFixture } from '../testing.js';

let fx: VolFixture;
before(async () => {
  fx = await startVolFixture();
});
after(() => fx.close());

const A = '/v3/p-admin';

test('extra specs added after the type was made (volume type create --property) make its volumes multiattach', async () => {
  const made = await fx.call('admin', 'POST', `${A}/types`, { volume_type: { name: 'shared' } });
  assert.equal(made.status, 200, JSON.stringify(made.body));
  const id = made.body.volume_type.id;
  const set = await fx.call('admin', 'POST', `${A}/types/${id}/extra_specs`, { extra_specs: { multiattach: '<is> True', tier: 'a' } });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.deepEqual(set.body.extra_specs, { multiattach: '<is> True', tier: 'a' });
  // A second POST merges.
  assert.equal((await fx.call('admin', 'POST', `${A}/types/shared/extra_specs`, { extra_specs: { tier: 'b' } })).status, 200);
  assert.deepEqual((await fx.call('admin', 'GET', `${A}/types/${id}/extra_specs`)).body.extra_specs, { multiattach: '<is> True', tier: 'b' });
  assert.deepEqual((await fx.call('admin', 'GET', `${A}/types/${id}`)).body.volume_type.extra_specs, { multiattach: '<is> True', tier: 'b' });

  const vol = await fx.call('demo', 'POST', '/v3/p-demo/volumes', { volume: { size: 1, volume_type: 'shared' } });
  assert.equal(vol.status, 202, JSON.stringify(vol.body));
  assert.equal((await fx.waitStatus(vol.body.volume.id, 'available')).multiattach, true);
});

test('one key: show, update, delete; 404 for a missing key; admin only; bad bodies are 400', async () => {
  const id = (await fx.call('admin', 'POST', `${A}/types`, { volume_type: { name: 'keys' } })).body.volume_type.id;
  const base = `${A}/types/${id}/extra_specs`;
  assert.equal((await fx.call('admin', 'POST', base, { extra_specs: { k1: 'v1' } })).status, 200);
  assert.deepEqual((await fx.call('admin', 'GET', `${base}/k1`)).body, { k1: 'v1' });
  const put = await fx.call('admin', 'PUT', `${base}/k1`, { k1: 'v2' });
  assert.equal(put.status, 200);
  assert.deepEqual(put.body, { k1: 'v2' });
  const mismatch = await fx.call('admin', 'PUT', `${base}/k1`, { other: 'x' });
  assert.equal(mismatch.status, 400);
  assert.match(mismatch.body.badRequest.message, /Request body and URI mismatch/);
  assert.equal((await fx.call('admin', 'DELETE', `${base}/k1`)).status, 202);
  const gone = await fx.call('admin', 'GET', `${base}/k1`);
  assert.equal(gone.status, 404);
  assert.match(gone.body.itemNotFound.message, /has no extra specs with key k1/);
  assert.equal((await fx.call('admin', 'DELETE', `${base}/k1`)).status, 404);

  assert.equal((await fx.call('demo', 'POST', `/v3/p-demo/types/${id}/extra_specs`, { extra_specs: { a: 'b' } })).status, 403);
  assert.equal((await fx.call('demo', 'DELETE', `/v3/p-demo/types/${id}/extra_specs/a`)).status, 403);
  assert.equal((await fx.call('admin', 'POST', base, { extra_specs: { a: 1 } })).status, 400);
  assert.equal((await fx.call('admin', 'POST', base, { extra_specs: { 'bad key!': 'x' } })).status, 400);
  assert.equal((await fx.call('admin', 'POST', base, { specs: {} })).status, 400);
  assert.equal((await fx.call('admin', 'POST', `${A}/types/nope/extra_specs`, { extra_specs: { a: 'b' } })).status, 404);
  assert.deepEqual((await fx.call('admin', 'GET', base)).body.extra_specs, {});
});
