/** The machine a benchmark runs on: its load (other tenants skew every figure) and the code under test. */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../../test/helpers/process.js';

/** Load average (1, 5, 15 min), two decimals. */
export function loadNow(): number[] {
  return loadavg().map((x) => Math.round(x * 100) / 100);
}

/**
 * Waits until the 1-minute load average is below `max` (checked every 10 s), for at most
 * `maxWaitS` seconds; returns the load seen last. Throws when the machine stayed busy.
 */
export async function waitForQuiet(max: number, maxWaitS: number, log: (m: string) => void): Promise<number[]> {
  const deadline = Date.now() + maxWaitS * 1000;
  let said = 0;
  for (;;) {
    const l = loadNow();
    if (l[0] < max) return l;
    if (Date.now() > deadline) throw new Error(`the machine stayed busy for ${maxWaitS} s (load ${l.join(' ')}, want the 1-minute figure below ${max}); try again later or raise --max-load`);
    if (Date.now() - said > 60_000) {
      log(`load ${l.join(' ')} on ${cpus().length} CPUs: waiting for the 1-minute figure to drop below ${max}`);
      said = Date.now();
    }
    await sleep(10_000);
  }
}

/** HEAD's short hash, with `+dirty` when the working tree has changes to tracked files under src/. */
export function gitDescribe(): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (head.status !== 0) return 'unknown';
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return head.stdout.trim() + (dirty.stdout.trim() ? '+dirty' : '');
}

/** Builds dist/ from src/ (scripts/build.mjs); throws when it fails. */
export function buildDist(log: (m: string) => void): void {
  log('building dist/ (scripts/build.mjs)');
  const b = spawnSync(process.execPath, [`${REPO_ROOT}/scripts/build.mjs`], { stdio: 'inherit' });
  if (b.status !== 0) throw new Error('build failed');
}
