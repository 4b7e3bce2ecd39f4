import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConsoleTail, rotateConsoleLog } from './console-log.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nova-ts-console-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const numbered = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `line ${String(from + i).padStart(4, '0')}\n`).join('');

test('a missing log reads as empty and is not rotated', async () => {
  await withDir(async (dir) => {
    const log = join(dir, 'console.log');
    assert.equal(await readConsoleTail(log), '');
    assert.equal(await readConsoleTail(log, 5), '');
    assert.equal(await rotateConsoleLog(log, 10), false);
  });
});

test('a log within its cap is left alone', async () => {
  await withDir(async (dir) => {
    const log = join(dir, 'console.log');
    await writeFile(log, numbered(1, 3));
    assert.equal(await rotateConsoleLog(log, 1024), false);
    assert.equal(await readFile(log, 'utf8'), numbered(1, 3));
    assert.equal(await readConsoleTail(log), numbered(1, 3));
  });
});

test('an O_APPEND writer keeps writing across a rotation; the tail reads across both parts', async () => {
  await withDir(async (dir) => {
    const log = join(dir, 'console.log');
    const fd = openSync(log, 'a'); // what QEMU's file chardev does with append=on
    try {
      writeSync(fd, numbered(1, 100)); // 100 lines of 10 bytes
      assert.equal(await rotateConsoleLog(log, 255), true);
      // .0 keeps the last 255 bytes from the first whole line in them: line 0075 is cut, so 76..100.
      assert.equal(await readFile(`${log}.0`, 'utf8'), numbered(76, 100));
      assert.equal((await stat(log)).size, 0);

      writeSync(fd, numbered(101, 103));
      const live = await readFile(log);
      assert.equal(live.toString('utf8'), numbered(101, 103), 'written at the new end, no NUL hole');
      assert.equal(await readConsoleTail(log), numbered(76, 103));
      assert.equal(await readConsoleTail(log, 5), numbered(99, 103));
      assert.equal(await readConsoleTail(log, 0), '');

      // A second rotation replaces .0.
      writeSync(fd, numbered(104, 140));
      assert.equal(await rotateConsoleLog(log, 100), true);
      assert.equal(await readFile(`${log}.0`, 'utf8'), numbered(131, 140));
      assert.equal(await readConsoleTail(log), numbered(131, 140));
    } finally {
      closeSync(fd);
    }
  });
});

test('lines counts a final unterminated line and asks for more than there are', async () => {
  await withDir(async (dir) => {
    const log = join(dir, 'console.log');
    await writeFile(log, 'one\ntwo\nthree');
    assert.equal(await readConsoleTail(log, 1), 'three');
    assert.equal(await readConsoleTail(log, 2), 'two\nthree');
    assert.equal(await readConsoleTail(log, 50), 'one\ntwo\nthree');
  });
});

test('output is cleaned: CRLF, NULs, control characters, escapes, invalid UTF-8', async () => {
  await withDir(async (dir) => {
    const log = join(dir, 'console.log');
    const raw = Buffer.concat([
      Buffer.from('\x1b[2J\x1b[01;01HSeaBIOS\r\n'),
      Buffer.from('boot\x00\x00 ok\x07\tdone\r\n'),
      Buffer.from('caf\xc3\xa9 ', 'latin1'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(' \x1bcend\x7f\n'),
    ]);
    await writeFile(log, raw);
    assert.equal(await readConsoleTail(log), 'SeaBIOS\nboot ok\tdone\ncafé \ufffd\ufffd end\n');
  });
});

test('reads at most maxBytes from the end and drops the line the limit cuts', async () => {
  await withDir(async (dir) => {
    const log = join(dir, 'console.log');
    await writeFile(`${log}.0`, numbered(1, 50));
    await writeFile(log, numbered(51, 60));
    // 100 bytes of the live file + 55 of .0: line 0045 is cut (5 of its 10 bytes), so dropped.
    assert.equal(await readConsoleTail(log, undefined, { maxBytes: 155 }), numbered(46, 60));
    // A limit inside the live file alone.
    assert.equal(await readConsoleTail(log, undefined, { maxBytes: 25 }), numbered(59, 60));
    // A limit on a line boundary keeps that whole line.
    assert.equal(await readConsoleTail(log, undefined, { maxBytes: 120 }), numbered(49, 60));
  });
});

test('a shell appending continuously while the log is rotated: no NUL holes, lines in order', async () => {
  await withDir(async (dir) => {
    const log = join(dir, 'console.log');
    const stop = join(dir, 'stop');
    // `>>` opens with O_APPEND, like QEMU's chardev with append=on. Prints its last number.
    const script = `exec 3>>"${log}"; i=0; while [ ! -e "${stop}" ]; do echo "msg $i" >&3; i=$((i+1)); done; echo $((i-1))`;
    const writer = spawn('sh', ['-c', script]);
    let lastWritten = '';
    writer.stdout.on('data', (d: Buffer) => (lastWritten += d.toString()));
    const exited = new Promise<void>((resolve) => writer.on('exit', () => resolve()));
    try {
      let rotations = 0;
      while (rotations < 3) {
        if (await rotateConsoleLog(log, 2000)) rotations++;
        await new Promise((r) => setTimeout(r, 2));
      }
      await new Promise((r) => setTimeout(r, 20)); // let it write after the last rotation
    } finally {
      await writeFile(stop, '');
      await exited;
    }
    for (const f of [log, `${log}.0`]) assert.equal((await readFile(f)).includes(0), false, `no NUL bytes in ${f}`);
    const out = await readConsoleTail(log);
    const nums = out.trimEnd().split('\n').map((l) => {
      assert.match(l, /^msg \d+$/);
      return Number(l.slice(4));
    });
    assert.equal(nums.at(-1), Number(lastWritten.trim()));
    for (let i = 1; i < nums.length; i++) assert.ok(nums[i] > nums[i - 1], `in order at ${i}`);
  });
});
