/** `nova-ts <service> --config FILE` as a process: refusals, the ready line, SIGTERM. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = join(import.meta.dirname, 'main.ts');
const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });

test('--help lists the services', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /nova-ts <service> --config FILE/);
  assert.match(r.stdout, /api, scheduler, conductor, compute, network-agent, console-proxy, volume/);
  const s = run(['compute', '--help']);
  assert.equal(s.status, 0);
  assert.match(s.stdout, /network-agent +a host's network dataplane/);
});

test('a compute given DB settings, or a service without --config, refuses to start and says why', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svc-main-'));
  try {
    const file = join(dir, 'compute.conf');
    writeFileSync(file, `[DEFAULT]\ndata_dir = ${dir}\nhost = h1\n[database]\nconnection = postgres://nova@127.0.0.1/nova\n`);
    const r = run(['compute', '--config', file]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`nova-ts compute: ${file}: \\[database\\] connection: the compute service never opens the database`));
    assert.doesNotMatch(r.stdout, /ready/);
    const n = run(['scheduler']);
    assert.equal(n.status, 2);
    assert.match(n.stderr, /scheduler needs --config FILE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a scheduler on SQLite prints its ready line and stops on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'svc-main-'));
  try {
    const file = join(dir, 'scheduler.conf');
    writeFileSync(file, `[DEFAULT]\ndata_dir = ${dir}\nhost = sched-a\ntransport_url = inprocess\n[database]\nconnection = sqlite:${dir}/nova.db\n`);
    const p = spawn(process.execPath, ['--import', 'tsx', MAIN, 'scheduler', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    // Read stderr too: a child whose pipe nobody drains can stall on its log lines.
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    const deadline = Date.now() + 30_000;
    while (!out.includes('ready') && Date.now() < deadline && p.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /^scheduler ready \(host sched-a\)$/m);
    // A service keeps running until it is stopped (nothing but the service holds its event loop here).
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(p.exitCode, null, `the scheduler exited on its own after ready; its log:\n${err.slice(-3000)}`);
    p.kill('SIGTERM');
    assert.equal(await exited, 0, `the scheduler did not exit 0 on SIGTERM; its log:\n${err.slice(-3000)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
