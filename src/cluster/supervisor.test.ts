import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leftoverProcesses, pidFile, processAlive, startProcess } from './supervisor.js';

const node = (script: string, dir: string) => ({ command: process.execPath, args: ['-e', script, dir] });

test('a process is ready when its log shows the pattern; stop() ends it by SIGTERM and removes its PID file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cluster-sup-'));
  try {
    const p = startProcess(dir, {
      name: 'svc',
      ...node(`setTimeout(() => console.log('svc ready'), 200); process.on('SIGTERM', () => { console.log('bye'); process.exit(0); }); setInterval(() => {}, 1000);`, dir),
      readyPattern: /\bsvc ready\b/,
    });
    assert.equal(readFileSync(pidFile(dir, 'svc'), 'utf8').trim(), String(p.pid));
    await p.ready(10_000);
    assert.deepEqual(leftoverProcesses(dir), [{ name: 'svc', pid: p.pid }], 'a live PID file whose command names the dir is a leftover');
    const e = await p.stop();
    assert.deepEqual(e, { code: 0, signal: null, killed: false });
    assert.equal(existsSync(pidFile(dir, 'svc')), false);
    assert.equal(processAlive(p.pid), false);
    assert.match(readFileSync(p.logFile, 'utf8'), /svc ready\nbye\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ready() rejects naming the log when the process exits first; a process ignoring SIGTERM is killed after the grace time', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cluster-sup-'));
  try {
    const bad = startProcess(dir, { name: 'bad', ...node(`console.error('no config'); process.exit(3);`, dir), readyPattern: /bad ready/ });
    await assert.rejects(bad.ready(10_000), (e: Error) => e.message.includes('bad exited before it was ready') && e.message.includes('no config') && e.message.includes('bad.log'));
    assert.equal((await bad.exited).code, 3);
    const stubborn = startProcess(dir, { name: 'stubborn', ...node(`process.on('SIGTERM', () => {}); console.log('stubborn ready'); setInterval(() => {}, 1000);`, dir), readyPattern: /stubborn ready/ });
    await stubborn.ready(10_000);
    const e = await stubborn.stop(300);
    assert.equal(e.killed, true);
    assert.equal(e.signal, 'SIGKILL');
    assert.deepEqual(leftoverProcesses(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
