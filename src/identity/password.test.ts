import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, verifyPassword } from './password.js';

test('a hashed password verifies, a wrong one does not', async () => {
  const h = await hashPassword('s3cret');
  assert.equal(await verifyPassword('s3cret', h), true);
  assert.equal(await verifyPassword('s3cret ', h), false);
  assert.equal(await verifyPassword('', h), false);
});

test('hashes are salted and never contain the password', async () => {
  const [a, b] = await Promise.all([hashPassword('same'), hashPassword('same')]);
  assert.notEqual(a, b);
  assert.match(a, /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.ok(!a.includes('same'));
  assert.equal(await verifyPassword('same', b), true);
});

test('a missing or malformed stored hash never matches', async () => {
  assert.equal(await verifyPassword('x', null), false);
  assert.equal(await verifyPassword('x', undefined), false);
  assert.equal(await verifyPassword('x', 'x'), false);
  assert.equal(await verifyPassword('x', 'md5$abc'), false);
});

test('unicode passwords are compared in normalized form', async () => {
  const h = await hashPassword('caf\u00e9');
  assert.equal(await verifyPassword('cafe\u0301', h), true);
});
