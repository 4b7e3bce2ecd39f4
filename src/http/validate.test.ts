import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validate, S } from './validate.js';
import { NovaError } from '../errors.js';

const schema = {
  type: 'object',
  properties: { server: { type: 'object', properties: { name: S.name, flavorRef: { type: 'string' } }, required: ['name'], additionalProperties: false } },
  required: ['server'],
  additionalProperties: false,
};

const message = (data: unknown) => {
  try {
    validate(schema, data);
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof NovaError && e.kind === 'Invalid');
    return e.message;
  }
};

test('valid input passes through unchanged', () => {
  assert.equal(message({ server: { name: 'vm1', flavorRef: '1' } }), 'ok');
});

test('messages name the field and say what is wrong, as Nova does', () => {
  assert.match(message({ server: {} }), /'name' is a required property/);
  assert.match(message({ server: { name: 'x'.repeat(256) } }), /Invalid input for field\/attribute name\..*is too long/);
  assert.match(message({ server: { name: 'vm', bogus: 1 } }), /Additional properties are not allowed \('bogus' was unexpected\)/);
  assert.match(message({ server: { name: 5 } }), /5 is not of type 'string'/);
  assert.match(message({ server: { name: ' padded ' } }), /does not match/);
});

test('a deeply nested or huge value gives a 400 message, never a crash', () => {
  let deep: unknown = 'x';
  for (let i = 0; i < 20000; i++) deep = [deep];
  assert.match(message({ server: { name: deep } }), /is not of type 'string'/);
  const long = message({ server: { name: 7, flavorRef: 'y'.repeat(5000) } });
  assert.ok(long.length < 400, `message is ${long.length} characters`);
});
