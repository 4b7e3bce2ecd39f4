import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMPUTE_MAX_VERSION, Microversion, requestedMicroversion } from './microversion.js';
import { NovaError } from '../errors.js';

const kind = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as NovaError).kind;
  }
};

test('no header means 2.1; latest means the maximum', () => {
  assert.equal(requestedMicroversion({}).toString(), '2.1');
  assert.equal(requestedMicroversion({ 'openstack-api-version': 'compute latest' }).toString(), COMPUTE_MAX_VERSION);
});

test('both header spellings are read; the modern one wins', () => {
  assert.equal(requestedMicroversion({ 'x-openstack-nova-api-version': '2.10' }).toString(), '2.10');
  assert.equal(
    requestedMicroversion({ 'openstack-api-version': 'image 2.5, compute 2.60', 'x-openstack-nova-api-version': '2.10' }).toString(),
    '2.60',
  );
});

test('malformed is 400 (Invalid), out of range is 406 (NotAcceptable)', () => {
  assert.equal(kind(() => requestedMicroversion({ 'openstack-api-version': 'compute 2.x' })), 'Invalid');
  assert.equal(kind(() => requestedMicroversion({ 'openstack-api-version': 'compute 2.999' })), 'NotAcceptable');
  assert.equal(kind(() => requestedMicroversion({ 'openstack-api-version': 'compute 1.0' })), 'NotAcceptable');
});

test('comparisons are numeric, not textual', () => {
  const v = Microversion.parse('2.10')!;
  assert.ok(v.atLeast('2.9'));
  assert.ok(!v.atLeast('2.11'));
  assert.ok(v.within('2.1', '2.10'));
  assert.ok(!v.within('2.1', '2.9'));
});
