import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serveSerial } from './console-serial.js';
import { connectConsole, serveOnTempSocket } from './console-test-client.js';

async function withShell(fn: (path: string) => Promise<void>) {
  const srv = await serveOnTempSocket((s) => serveSerial(s, { hostname: 'vm1' }));
  try {
    await fn(srv.path);
  } finally {
    await srv.close();
  }
}

test('serial shell: silent on connect, Enter gives the prompt, typed characters are echoed, echo answers', async () => {
  await withShell(async (path) => {
    const c = await connectConsole(path);
    await assert.rejects(c.chunk(100), /timed out/);
    c.send('\r');
    assert.equal(await c.until('# '), '\r\nroot@vm1:~# ');
    c.send('echo hi');
    assert.equal(await c.until('echo hi'), 'echo hi');
    c.send('\r');
    assert.equal(await c.until('# '), '\r\nhi\r\nroot@vm1:~# ');
    c.end();
  });
});

test('serial shell: hostname, uname -a, unknown commands, backspace, CRLF and arrow keys', async () => {
  await withShell(async (path) => {
    const c = await connectConsole(path);
    c.send('hostname\r\n');
    assert.match(await c.until('# '), /\r\nvm1\r\nroot@vm1:~# $/);
    c.send('uname -a\n');
    assert.match(await c.until('# '), /Linux vm1 .*nova-ts fake/);
    c.send('frobnicate x\r');
    assert.match(await c.until('# '), /sh: frobnicate: not found\r\n/);
    c.send('echo abx\x7fc\x1b[A\r');
    assert.match(await c.until('# '), /\r\nabc\r\n/);
    c.send('echo lost\x03');
    assert.match(await c.until('# '), /\^C\r\nroot@vm1:~# $/);
    c.end();
  });
});

test('serial shell: each connection has its own session', async () => {
  await withShell(async (path) => {
    const a = await connectConsole(path);
    const b = await connectConsole(path);
    a.send('echo fro');
    await a.until('fro');
    b.send('echo other\r');
    assert.match(await b.until('# '), /\r\nother\r\n/);
    a.send('m-a\r');
    assert.match(await a.until('# '), /\r\nfrom-a\r\n/);
    a.end();
    b.end();
  });
});
