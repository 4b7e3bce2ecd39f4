import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyQcow2 } from './empty-qcow2.js';
import { virtualSize } from './virtual-size.js';

test('emptyQcow2 is a qcow2 image qemu-img accepts as clean, with the virtual size asked for', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nova-ts-qcow2-'));
  try {
    for (const size of [1 << 30, 3 * 2 ** 30 + 512]) {
      const buf = emptyQcow2(size);
      assert.equal(virtualSize('qcow2', buf.subarray(0, 512), buf.length), size);
      const f = join(dir, `e${size}.qcow2`);
      writeFileSync(f, buf);
      const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', f], { encoding: 'utf8' }));
      assert.equal(info.format, 'qcow2');
      assert.equal(info['virtual-size'], size);
      execFileSync('qemu-img', ['check', f]); // throws on any inconsistency
      const raw = join(dir, `e${size}.raw`);
      execFileSync('qemu-img', ['convert', '-O', 'raw', f, raw]);
      execFileSync('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', raw, f]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
