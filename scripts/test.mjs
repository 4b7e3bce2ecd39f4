// `npm test`: typecheck, lint, dependency rules, then every test (unit beside the code,
// functional and end-to-end under test/) in one run of Node's test runner.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (n) => join(root, 'node_modules', '.bin', n);

function step(name, cmd, args) {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`npm test: ${name} failed`);
    process.exit(r.status ?? 1);
  }
  console.log(`npm test: ${name} ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

function tests(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'node_modules') out.push(...tests(p));
    else if (e.name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const only = process.argv.slice(2);
if (only.length === 0) {
  step('typecheck', bin('tsc'), ['--noEmit', '-p', '.']);
  step('typecheck dashboard', bin('tsc'), ['-p', 'dashboard']);
  step('lint', bin('eslint'), ['src', 'test', 'scripts', 'bench', 'dashboard']);
  step('dependency rules', process.execPath, [join(root, 'scripts', 'check-deps.mjs')]);
}
// The qemu driver's tests boot real guests (TCG here); CI machines start without QEMU.
step('system packages', process.execPath, [join(root, 'scripts', 'ensure-system-packages.mjs'), 'qemu-system-x86', 'qemu-utils', 'genisoimage', 'cpio', 'iproute2', 'dnsmasq-base', 'iptables', 'busybox-static', 'conntrack', 'openssl', 'chromium', 'rabbitmq-server', 'postgresql']);
// The dashboard's browser tests load dashboard/dist: build it (Vite, about a second).
step('dashboard build', process.execPath, [join(root, 'scripts', 'build.mjs'), '--dashboard']);
const files = only.length ? only : [...tests(join(root, 'src')), ...tests(join(root, 'test'))];
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${process.env.NOVA_TS_TEST_CONCURRENCY ?? 2}`, ...files],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
);
let tail = '';
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  tail = (tail + d.toString()).slice(-4000);
});
child.on('close', (code) => {
  const num = (k) => Number((new RegExp(`ℹ ${k} (\\d+)`).exec(tail) ?? [])[1] ?? 0);
  console.log(`${num('pass')} passed, ${num('fail')} failed, ${num('skipped')} skipped`);
  process.exit(code ?? 1);
});
