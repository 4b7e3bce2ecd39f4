/**
 * The shared set-up of the end-to-end tests that drive a qemu-driver cloud with the real
 * `openstack` CLI: the CLI (and any other Debian packages) ensured, a work dir for the test's
 * files, a short data dir (QMP socket paths inside it must stay under 108 bytes) and the cloud
 * process. stop() leaves nothing behind: the cloud, QEMU processes the test left, the host's
 * network namespace (it outlives nova-ts by design) and both dirs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostNamespace } from '../../src/cloud.js';
import { REPO_ROOT, startCloudProcess, type CloudProcess } from './process.js';
import { GUEST_IMAGE_CACHE, killQemusOf, removeHostNamespace } from './qemu.js';

export interface QemuE2e {
  /** The running cloud (the newest after restart()). */
  cloud: CloudProcess;
  dataDir: string;
  work: string;
  /** Starts nova-ts again on the same data dir (the caller has stopped or killed the previous one). */
  restart(): Promise<CloudProcess>;
  stop(): Promise<void>;
}

export async function startQemuE2e(o: { name: string; args: string[]; readyTimeoutMs: number; packages?: string[] }): Promise<QemuE2e> {
  const packages = ['python3-openstackclient', ...(o.packages ?? [])];
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'ensure-system-packages.mjs'), ...packages], { encoding: 'utf8' });
  assert.equal(r.status, 0, `could not install ${packages.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  const work = mkdtempSync(join(tmpdir(), `nova-ts-${o.name}-work-`));
  const dataDir = mkdtempSync(join(tmpdir(), `nts-${o.name.slice(0, 4)}-`));
  const remove = () => {
    const killed = killQemusOf(dataDir);
    if (killed.length) console.log(`killed QEMU processes left by this test: ${killed.join(', ')}`);
    removeHostNamespace(hostNamespace(dataDir, 'host1'));
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  };
  const start = () => startCloudProcess({ dataDir, args: o.args, env: { NOVA_TS_GUEST_IMAGE_DIR: GUEST_IMAGE_CACHE }, readyTimeoutMs: o.readyTimeoutMs });
  let first: CloudProcess;
  try {
    first = await start();
  } catch (e) {
    remove();
    throw e;
  }
  const e2e: QemuE2e = {
    cloud: first,
    dataDir,
    work,
    async restart() {
      e2e.cloud = await start();
      return e2e.cloud;
    },
    async stop() {
      try {
        await e2e.cloud.stop({ keepDataDir: true });
      } finally {
        remove();
      }
    },
  };
  return e2e;
}
