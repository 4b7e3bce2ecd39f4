import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from './config.js';
import { startCloud } from './cloud.js';
import { NovaError } from './errors.js';

test('an unknown driver is refused before anything is created or started', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'nova-ts-cloud-'));
  const dataDir = join(parent, 'data');
  try {
    const config = defaultConfig({ dataDir, listenPort: 0 });
    (config as { driver: string }).driver = 'hyperv';
    await assert.rejects(startCloud(config), (e: unknown) => e instanceof NovaError && e.kind === 'Invalid' && /Known drivers: fake/.test(e.message));
    assert.equal(existsSync(dataDir), false);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
