import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { QmpClient, QmpError } from './qmp.js';

const haveQemu = spawnSync('qemu-system-x86_64', ['--version']).status === 0;

test('QMP against a real QEMU: greeting, commands, errors, events, close', { skip: !haveQemu && 'qemu-system-x86_64 is not installed' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'qmp-'));
  const sock = join(dir, 'qmp.sock');
  const qemu = spawn('qemu-system-x86_64', ['-machine', 'none', '-nodefaults', '-display', 'none', '-qmp', `unix:${sock},server=on,wait=off`], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100 && !existsSync(sock); i++) await sleep(50);
    const c = await QmpClient.connect(sock);
    assert.equal(typeof (c.version as any).qemu.major, 'number');
    const status = await c.execute<{ status: string; running: boolean }>('query-status');
    assert.equal(typeof status.running, 'boolean');
    await assert.rejects(c.execute('no-such-command'), (e: unknown) => e instanceof QmpError && e.errorClass === 'CommandNotFound');
    const stopped = c.waitEvent('STOP', 5000);
    await c.execute('stop');
    assert.equal((await stopped).event, 'STOP');
    const closed = c.closedPromise();
    await c.execute('quit').catch(() => undefined);
    await closed;
    assert.equal(c.isClosed, true);
    await assert.rejects(c.execute('query-status'), /closed/);
  } finally {
    qemu.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('QMP: a silent socket times out and a refused one rejects', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'qmp-'));
  const sock = join(dir, 'silent.sock');
  const server = createServer(() => undefined).listen(sock);
  try {
    await assert.rejects(QmpClient.connect(sock, 200), /did not greet/);
    await assert.rejects(QmpClient.connect(join(dir, 'none.sock'), 200), /ENOENT|ECONNREFUSED/);
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('QMP: responses are matched to commands by id, events split from replies', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'qmp-'));
  const sock = join(dir, 'fake.sock');
  // A scripted peer: greets, answers in pieces and out of order, interleaves an event.
  const server = createServer((s) => {
    s.write('{"QMP": {"version": {"qemu": {"major": 9}}, "capabilities": []}}\r\n');
    let buf = '';
    const seen: { execute: string; id: number }[] = [];
    s.on('data', (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const m = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (m.execute === 'qmp_capabilities') s.write(`{"return": {}, "id": ${m.id}}\r\n`);
        else seen.push(m);
        if (seen.length === 2) {
          const [a, b] = seen;
          const reply = `{"event": "RESET", "data": {"guest": true}}\r\n{"return": "${b.execute}", "id": ${b.id}}\r\n{"error": {"class": "GenericError", "desc": "nope"}, "id": ${a.id}}\r\n`;
          s.write(reply.slice(0, 17));
          setTimeout(() => s.write(reply.slice(17)), 10);
        }
      }
    });
  }).listen(sock);
  try {
    const c = await QmpClient.connect(sock);
    const ev = c.waitEvent('RESET', 2000);
    const [a, b] = await Promise.allSettled([c.execute('first'), c.execute('second')]);
    assert.equal(a.status, 'rejected');
    assert.match(String((a as PromiseRejectedResult).reason.message), /QMP first: nope/);
    assert.deepEqual(b, { status: 'fulfilled', value: 'second' });
    assert.deepEqual((await ev).data, { guest: true });
    c.close();
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
