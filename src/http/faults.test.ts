import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faultBody } from './faults.js';
import { notFound, overQuota, conflict, invalid } from '../errors.js';

const table: [Error, number, string][] = [
  [invalid('bad'), 400, 'badRequest'],
  [notFound('Instance x could not be found.'), 404, 'itemNotFound'],
  [overQuota('Quota exceeded for instances'), 403, 'forbidden'],
  [conflict('locked'), 409, 'conflictingRequest'],
];

for (const [err, status, key] of table)
  test(`nova fault for ${err.name} is ${status} under ${key}`, () => {
    const f = faultBody('nova', err);
    assert.equal(f.status, status);
    assert.deepEqual(f.body, { [key]: { code: status, message: err.message } });
  });

test('keystone and glance styles carry the same status and message', () => {
  const e = notFound('Could not find project: p.');
  assert.deepEqual(faultBody('keystone', e).body, { error: { code: 404, message: e.message, title: 'Not Found' } });
  assert.equal((faultBody('glance', e).body as any).message, e.message);
});

test('an unexpected error is a 500 that reveals nothing of it', () => {
  const f = faultBody('nova', new TypeError('secret internals'));
  assert.equal(f.status, 500);
  assert.doesNotMatch(JSON.stringify(f.body), /secret internals/);
});
