// Makes sure Debian packages are installed: `node scripts/ensure-system-packages.mjs PKG...`.
// Installs only the missing ones with `apt-get install -y` (DEBIAN_FRONTEND=noninteractive),
// running `apt-get update` first only when something must be installed and the package lists
// were never fetched (or the install fails for want of them). Prints every step it takes.
// Exit status: 0 when every package is installed afterwards, 1 otherwise (with the reason).
// Idempotent; uses only Node's standard library. Needs root (or sudo) only when installing.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const log = (msg) => console.log(`ensure-system-packages: ${msg}`);

/** True when dpkg reports the package as installed. */
export function isInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && /\binstall ok installed\b/.test(r.stdout);
}

/** True when apt has package lists (an `apt-get update` was done on this machine). */
function haveLists() {
  try {
    return readdirSync('/var/lib/apt/lists').some((f) => f.endsWith('_Packages') || f.endsWith('_Packages.lz4'));
  } catch {
    return false;
  }
}

/** Prefix that gives root: none when we are root, `sudo -n` when available, else null. */
function asRoot() {
  if (typeof process.getuid === 'function' && process.getuid() === 0) return [];
  const r = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
  return r.status === 0 ? ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive'] : null;
}

function run(prefix, args) {
  const [cmd, ...rest] = [...prefix, ...args];
  log(`running ${[cmd, ...rest].join(' ')}`);
  const r = spawnSync(cmd, rest, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.error) log(`could not run ${cmd}: ${r.error.message}`);
  return r.status === 0;
}

/**
 * Installs the missing packages among `pkgs`. Returns {installed: string[], missing: string[]}
 * where `missing` lists packages still absent afterwards (empty on success).
 */
export function ensureSystemPackages(pkgs) {
  const missing = pkgs.filter((p) => !isInstalled(p));
  if (missing.length === 0) {
    log(`already installed: ${pkgs.join(' ')}`);
    return { installed: [], missing: [] };
  }
  log(`missing: ${missing.join(' ')}`);
  if (spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) {
    log('apt-get is not available on this machine; install them by hand.');
    return { installed: [], missing };
  }
  const prefix = asRoot();
  if (prefix === null) {
    log(`installing needs root; run as root: apt-get install -y ${missing.join(' ')}`);
    return { installed: [], missing };
  }
  const install = ['apt-get', 'install', '-y', ...missing];
  let updated = false;
  if (!haveLists()) {
    updated = run(prefix, ['apt-get', 'update']);
  }
  if (!run(prefix, install) && !updated) {
    // Stale or absent package lists are the usual reason; refresh once and retry.
    run(prefix, ['apt-get', 'update']);
    run(prefix, install);
  }
  const still = missing.filter((p) => !isInstalled(p));
  const installed = missing.filter((p) => !still.includes(p));
  if (installed.length) log(`installed: ${installed.join(' ')}`);
  if (still.length) log(`still missing: ${still.join(' ')}`);
  return { installed, missing: still };
}

const invokedDirectly = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  const pkgs = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  if (pkgs.length === 0) {
    console.error('usage: node scripts/ensure-system-packages.mjs PACKAGE...');
    process.exit(2);
  }
  process.exit(ensureSystemPackages(pkgs).missing.length === 0 ? 0 : 1);
}
