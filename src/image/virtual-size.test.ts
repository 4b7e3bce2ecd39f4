import { test } from 'node:test';
import assert from 'node:assert/strict';
import { virtualSize } from './virtual-size.js';

function qcow2Header(size: bigint): Buffer {
  const b = Buffer.alloc(104);
  b.writeUInt32BE(0x514649fb, 0);
  b.writeUInt32BE(3, 4);
  b.writeBigUInt64BE(size, 24);
  return b;
}

test('virtual size: raw and iso are their file size', () => {
  assert.equal(virtualSize('raw', Buffer.alloc(0), 1234), 1234);
  assert.equal(virtualSize('iso', Buffer.from('x'), 99), 99);
});

test('virtual size: qcow2 is read from the header', () => {
  assert.equal(virtualSize('qcow2', qcow2Header(1n << 30n), 200_000), 1073741824);
});

test('virtual size: unknown for data that is not qcow2 and for other formats', () => {
  assert.equal(virtualSize('qcow2', Buffer.from('just some bytes, not a qcow2 header at all'), 40), null);
  assert.equal(virtualSize('vmdk', qcow2Header(5n), 10), null);
  assert.equal(virtualSize(null, Buffer.alloc(0), 10), null);
});
