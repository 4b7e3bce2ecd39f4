import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newAuditId, newTokenId, tokenHash } from './token-id.js';

test('token ids are 32 random bytes in base64url and never repeat', () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newTokenId()));
  assert.equal(ids.size, 1000);
  for (const id of ids) {
    assert.match(id, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(id, 'base64url').length, 32);
  }
});

test('the stored hash is the hex sha256 of the id, and differs from it', () => {
  const id = newTokenId();
  assert.match(tokenHash(id), /^[0-9a-f]{64}$/);
  assert.equal(tokenHash(id), tokenHash(id));
  assert.notEqual(tokenHash(id), tokenHash(newTokenId()));
  assert.equal(tokenHash('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('audit ids are 22 characters of base64url', () => {
  assert.match(newAuditId(), /^[A-Za-z0-9_-]{22}$/);
  assert.notEqual(newAuditId(), newAuditId());
});
