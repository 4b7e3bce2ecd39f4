import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSecrets } from './clouds-yaml.js';

test('secrets are made once and kept; a data dir from before the service user gets a servicePassword on its next start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nova-ts-secrets-'));
  try {
    const first = loadSecrets(dir);
    assert.ok(first.adminPassword && first.demoPassword && first.servicePassword);
    assert.deepEqual(loadSecrets(dir), first);
    assert.equal(statSync(join(dir, 'secrets.json')).mode & 0o777, 0o600);

    writeFileSync(join(dir, 'secrets.json'), JSON.stringify({ adminPassword: 'a', demoPassword: 'd' }));
    const upgraded = loadSecrets(dir);
    assert.equal(upgraded.adminPassword, 'a');
    assert.equal(upgraded.demoPassword, 'd');
    assert.ok(upgraded.servicePassword.length >= 16);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')), upgraded);
    assert.deepEqual(loadSecrets(dir), upgraded, 'the service password is kept');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
