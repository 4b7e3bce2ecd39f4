/**
 * The Launch Instance wizard in headless Chromium against a whole qemu-driver cloud (a real
 * tiny-linux guest), as issue 9's Done-when tries it: demo fills every tab (a key pair imported
 * in place, a security group, the `private` network, a customization script, Manual disk
 * partition), launches, watches the row go from Build to Active with its IP address without a
 * reload, finds the script's output in the instance's log, stops and deletes it. Bad input
 * (empty name, no flavor, a count over the instances quota) shows clear messages and creates
 * nothing. QEMU is daemonized, so after() kills, by PID, every QEMU of this cloud's data dir.
 * Needs dashboard/dist (`npm test` builds it; alone: `node scripts/build.mjs --dashboard`).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { defaultConfig } from '../../src/config.js';
import type { QemuDriver } from '../../src/virt/qemu/driver.js';
import { browserSkipReason, launchBrowser } from '../helpers/browser.js';
import { startTestCloud, waitFor, type TestCloud } from '../helpers/cloud.js';
import { GUEST_IMAGE_CACHE, killQemusOf, qemuSkipReason } from '../helpers/qemu.js';

const DIST = join(import.meta.dirname, '..', '..', 'dashboard', 'dist', 'index.html');
const skip = qemuSkipReason() || browserSkipReason() || (existsSync(DIST) ? false : 'dashboard/dist is not built (node scripts/build.mjs --dashboard)');

/** A fresh OpenSSH ed25519 public key line (wire format: string "ssh-ed25519", string key). */
function sshPublicKey(comment: string): string {
  const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]).toString('base64')} ${comment}`;
}

describe('the Launch Instance wizard on a qemu cloud', { skip, timeout: 180_000 }, () => {
  let tc: TestCloud;
  let root = '';
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    [tc, browser] = await Promise.all([
      startTestCloud({ driver: 'qemu', qemu: { ...defaultConfig().qemu, shutdownTimeoutSec: 10, guestImageDir: GUEST_IMAGE_CACHE } }),
      launchBrowser(),
    ]);
    root = (tc.cloud.drivers.get('host1') as QemuDriver).opts.root;
    page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (e) => errors.push(String(e)));
  });
  after(async () => {
    await browser?.close();
    try {
      await tc?.close();
    } finally {
      if (root) killQemusOf(root);
    }
  });

  const row = (name: string) => page.locator('tbody tr', { has: page.getByRole('rowheader', { name, exact: true }) });
  const statusOf = (name: string) => row(name).locator('td.status');
  const tab = (name: string) => page.getByRole('tab', { name, exact: true });
  const panel = { getByLabel: (...a: Parameters<Page['getByLabel']>) => page.getByRole('tabpanel').getByLabel(...a), getByRole: (...a: Parameters<Page['getByRole']>) => page.getByRole('tabpanel').getByRole(...a), getByText: (...a: Parameters<Page['getByText']>) => page.getByRole('tabpanel').getByText(...a) };
  const serverCount = async () => (await tc.demo.get('/compute/v2.1/servers')).body.servers.length;

  it('logs in as demo and opens the wizard; its tabs move with the arrow keys', async () => {
    // A security group of demo's for the Access & Security tab to offer.
    const sg = await tc.demo.post('/network/v2.0/security-groups', { security_group: { name: 'wizard-sg', description: 'from the wizard test' } });
    assert.equal(sg.status, 201, JSON.stringify(sg.body));
    await page.goto(tc.url + '/');
    await page.getByLabel('User name').fill('demo');
    await page.getByLabel('Password').fill(tc.cloud.secrets.demoPassword);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Launch Instance' }).click();
    await page.getByRole('heading', { name: 'Launch Instance' }).waitFor();
    assert.match(page.url(), /\/project\/instances\/launch$/);
    assert.deepEqual(await page.getByRole('tablist', { name: 'Launch Instance' }).getByRole('tab').allTextContents(), [
      'Details', 'Access & Security', 'Networking', 'Post-creation', 'Advanced',
    ]);
    await tab('Details').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await tab('Access & Security').getAttribute('aria-selected'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Access & Security');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await tab('Details').getAttribute('aria-selected'), 'true');
    await panel.getByLabel('Instance Name').waitFor();
  });

  it('bad input (empty name, no flavor, count over the quota) shows clear messages and sends nothing', async () => {
    await page.getByRole('button', { name: 'Launch Instance' }).click();
    const summary = page.getByRole('alert').filter({ hasText: 'Nothing was sent' });
    await summary.waitFor();
    assert.match(await summary.textContent() ?? '', /Instance Name is required/);
    assert.match(await summary.textContent() ?? '', /Flavor is required/);
    assert.match(await summary.textContent() ?? '', /Image is required/);
    await panel.getByRole('alert').filter({ hasText: 'Instance Name is required' }).waitFor();
    assert.equal(await panel.getByLabel('Instance Name').getAttribute('aria-invalid'), 'true');

    await panel.getByLabel('Instance Name').fill('too-many');
    await panel.getByLabel('Flavor', { exact: true }).selectOption('1');
    await panel.getByLabel('Image', { exact: true }).selectOption({ label: 'tiny-linux' });
    await panel.getByLabel('Count').fill('1000');
    // The preview says which quota the flavor x count exceeds, before anything is sent.
    await panel.getByText(/Instances quota exceeded: 0 used \+ 1000 requested > \d+ allowed/).waitFor();
    await page.getByRole('button', { name: 'Launch Instance' }).click();
    await page.getByRole('alert').filter({ hasText: /Nothing was sent[\s\S]*Instances quota exceeded/ }).waitFor();
    assert.match(page.url(), /\/launch$/);
    await panel.getByLabel('Count').fill('0');
    await page.getByRole('button', { name: 'Launch Instance' }).click();
    await page.getByRole('alert').filter({ hasText: 'Count must be a whole number of at least 1' }).first().waitFor();
    assert.equal(await serverCount(), 0, 'no server was created');
  });

  it('launches with every tab used; the row goes from Build to Active with its IP address without a reload', async () => {
    // Details
    await panel.getByLabel('Instance Name').fill('wizard-vm');
    await panel.getByLabel('Count').fill('1');
    await panel.getByLabel('Availability Zone', { exact: true }).selectOption('nova');
    const quota = panel.getByRole('table', { name: 'Quota usage' });
    assert.match((await quota.getByRole('row', { name: /VCPUs/ }).textContent()) ?? '', /\+1/);
    assert.match((await quota.getByRole('row', { name: /RAM/ }).textContent()) ?? '', /\+512 MB/);

    // Access & Security: a key pair imported in place, and a security group.
    await tab('Access & Security').click();
    await panel.getByRole('button', { name: 'Import Key Pair' }).click();
    await panel.getByLabel('Key Pair Name').fill('wizard-key');
    await panel.getByLabel('Public Key').fill(sshPublicKey('demo@wizard'));
    await panel.getByRole('button', { name: 'Import', exact: true }).click();
    await waitFor(async () => (await panel.getByLabel('Key Pair', { exact: true }).inputValue()) === 'wizard-key', 'the imported key pair selected');
    await panel.getByRole('checkbox', { name: 'wizard-sg' }).check();

    // Networking: private, as the first NIC.
    await tab('Networking').click();
    await panel.getByRole('button', { name: 'Add network private' }).click();
    await panel.getByRole('list', { name: 'Allocated Networks' }).getByText('NIC 1: private').waitFor();

    // Post-creation
    await tab('Post-creation').click();
    await panel.getByLabel('Customization Script').fill('#!/bin/sh\necho wizard-$((6*7))\n');

    // Advanced
    await tab('Advanced').click();
    await panel.getByLabel('Disk Partition', { exact: true }).selectOption({ label: 'Manual' });
    await panel.getByLabel('Configuration Drive').check();

    await page.getByRole('button', { name: 'Launch Instance' }).click();
    await page.getByRole('heading', { name: 'Instances' }).waitFor();
    assert.match(page.url(), /\/project\/instances$/);
    let navigations = 0;
    page.on('framenavigated', () => navigations++);

    const servers = (await tc.demo.get('/compute/v2.1/servers/detail')).body.servers;
    assert.equal(servers.length, 1);
    const s = servers[0];
    assert.equal(s.name, 'wizard-vm');
    assert.equal(s.key_name, 'wizard-key');
    assert.equal(s['OS-DCF:diskConfig'], 'MANUAL');
    assert.equal(s['OS-EXT-AZ:availability_zone'], 'nova');
    assert.equal(s.config_drive, 'True');
    assert.deepEqual(s.security_groups.map((g: { name: string }) => g.name).sort(), ['default', 'wizard-sg']);

    await statusOf('wizard-vm').filter({ hasText: /^Build$/ }).waitFor({ timeout: 5000 });
    await statusOf('wizard-vm').filter({ hasText: /^Active$/ }).waitFor({ timeout: 60_000 });
    await row('wizard-vm').locator('td', { hasText: /^198\.18\.\d+\.\d+$/ }).waitFor({ timeout: 5000 });
    assert.match((await row('wizard-vm').textContent()) ?? '', /tiny-linux[\s\S]*m1\.tiny[\s\S]*wizard-key/);
    assert.equal(navigations, 0, 'no reload');
  });

  it("opens the instance's log and finds the customization script's output", async () => {
    await page.getByRole('link', { name: 'wizard-vm', exact: true }).click();
    await page.getByRole('heading', { name: 'wizard-vm' }).waitFor();
    await tab('Log').click();
    await page.getByRole('button', { name: 'View Full Log' }).click();
    const log = page.getByLabel('Console log');
    await waitFor(
      async () => {
        if (/wizard-42/.test((await log.textContent()) ?? '')) return true;
        await page.getByRole('button', { name: 'Refresh' }).click();
        return false;
      },
      'wizard-42 in the console log',
      60_000,
      1000,
    );
    await page.getByRole('link', { name: 'Instances', exact: true }).first().click();
    await page.getByRole('heading', { name: 'Instances' }).waitFor();
  });

  it('stops it from its row menu, then deletes it', async () => {
    await row('wizard-vm').getByLabel('Actions for wizard-vm').click();
    await row('wizard-vm').getByRole('button', { name: 'Shut Off Instance' }).click();
    await statusOf('wizard-vm').filter({ hasText: /^Shutoff$/ }).waitFor({ timeout: 30_000 });
    await row('wizard-vm').getByLabel('Actions for wizard-vm').click();
    await row('wizard-vm').getByRole('button', { name: 'Delete Instance' }).click();
    await page.getByRole('dialog', { name: 'Confirm Delete Instance' }).getByRole('button', { name: 'Delete Instance' }).click();
    await row('wizard-vm').waitFor({ state: 'detached', timeout: 20_000 });
    await waitFor(async () => (await serverCount()) === 0, 'server gone from the API', 20_000);
  });

  it('an import with a bad public key says why and what to do', async () => {
    await page.getByRole('button', { name: 'Launch Instance' }).click();
    await tab('Access & Security').click();
    await panel.getByRole('button', { name: 'Import Key Pair' }).click();
    await panel.getByLabel('Key Pair Name').fill('bad-key');
    await panel.getByLabel('Public Key').fill('not a key');
    await panel.getByRole('button', { name: 'Import', exact: true }).click();
    await panel.getByRole('alert').filter({ hasText: /Check the name is unused and the key is one line of an OpenSSH public key/ }).waitFor();
    assert.equal((await tc.demo.get('/compute/v2.1/os-keypairs')).body.keypairs.length, 1, 'only wizard-key exists');
  });

  it("a launch no host can take goes to Error, and the instance page shows the scheduler's reason", async () => {
    // Unlimited quota for demo and a flavor bigger than any host: the scheduler, not the quota, refuses it.
    const q = await tc.admin.put(`/compute/v2.1/os-quota-sets/${tc.demo.projectId}`, { quota_set: { ram: -1 } });
    assert.equal(q.status, 200, JSON.stringify(q.body));
    const f = await tc.admin.post('/compute/v2.1/flavors', { flavor: { name: 'm1.enormous', ram: 64 * 1024 * 1024, vcpus: 1, disk: 1 } });
    assert.equal(f.status, 200, JSON.stringify(f.body));
    await page.goto(tc.url + '/project/instances/launch');
    await panel.getByLabel('Instance Name').fill('too-big');
    await panel.getByLabel('Flavor', { exact: true }).selectOption(f.body.flavor.id);
    await panel.getByLabel('Image', { exact: true }).selectOption({ label: 'tiny-linux' });
    await page.getByRole('button', { name: 'Launch Instance' }).click();
    await statusOf('too-big').filter({ hasText: /^Error$/ }).waitFor({ timeout: 20_000 });
    await page.getByRole('link', { name: 'too-big', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: /Fault: No valid host was found/ }).waitFor();
    const id = (await tc.demo.get('/compute/v2.1/servers?name=too-big')).body.servers[0].id;
    assert.equal((await tc.demo.delete(`/compute/v2.1/servers/${id}`)).status, 204);
    assert.deepEqual(errors, []);
  });
});
