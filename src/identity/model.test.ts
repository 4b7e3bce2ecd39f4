import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandRoleNames } from './model.js';
import { substituteUrl } from './catalog.js';

test('implied roles: admin implies member and reader, member implies reader', () => {
  assert.deepEqual(expandRoleNames(['admin']), ['admin', 'member', 'reader']);
  assert.deepEqual(expandRoleNames(['member']), ['member', 'reader']);
  assert.deepEqual(expandRoleNames(['reader']), ['reader']);
  assert.deepEqual(expandRoleNames(['reader', 'admin']), ['reader', 'admin', 'member']);
  assert.deepEqual(expandRoleNames(['custom']), ['custom']);
  assert.deepEqual(expandRoleNames([]), []);
});

test('catalog URLs: project id substituted, endpoint dropped without a project', () => {
  assert.equal(substituteUrl('http://h/volume/v3/$(project_id)s', 'p1'), 'http://h/volume/v3/p1');
  assert.equal(substituteUrl('http://h/v1/%(tenant_id)s/x', 'p1'), 'http://h/v1/p1/x');
  assert.equal(substituteUrl('http://h/volume/v3/$(project_id)s', null), null);
  assert.equal(substituteUrl('http://h/compute/v2.1', null), 'http://h/compute/v2.1');
  assert.equal(substituteUrl('http://h/compute/v2.1', 'p1'), 'http://h/compute/v2.1');
});
