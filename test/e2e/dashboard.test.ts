/**
 * The dashboard in headless Chromium against a whole fake-driver cloud, as a user sees it: the
 * login (a bad password says so), the Instances page following a server created through the
 * API from Build to Active without a reload, a stop from the row menu reaching Shutoff, the
 * instance page's tabs, and a delete with its confirmation. Needs dashboard/dist (`npm test`
 * builds it first; alone: `node scripts/build.mjs --dashboard`).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, launchBrowser } from '../helpers/browser.js';
import { startTestCloud, waitFor, type TestCloud } from '../helpers/cloud.js';

const DIST = join(import.meta.dirname, '..', '..', 'dashboard', 'dist', 'index.html');
const skip = browserSkipReason() || (existsSync(DIST) ? false : 'dashboard/dist is not built (node scripts/build.mjs --dashboard)');

describe('dashboard in a browser', { skip }, () => {
  let tc: TestCloud;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  before(async () => {
    // A spawn that takes a while, so that Build is on screen before Active.
    [tc, browser] = await Promise.all([
      startTestCloud({ fake: { delays: { spawn: 2500 }, failures: {}, failingHosts: [], vcpus: 32, memoryMb: 131072, diskGb: 2048 } }),
      launchBrowser(),
    ]);
    page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (e) => errors.push(String(e)));
  });
  after(async () => {
    await browser?.close();
    await tc?.close();
  });

  const row = (name: string) => page.locator('tbody tr', { has: page.getByRole('rowheader', { name, exact: true }) });
  const statusOf = (name: string) => row(name).locator('td.status');

  it('a bad password shows a clear error and no session', async () => {
    await page.goto(tc.url + '/');
    await page.getByLabel('User name').fill('demo');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Invalid credentials' }).waitFor({ timeout: 5000 });
    assert.equal(await page.getByRole('heading', { name: 'Instances' }).count(), 0);
  });

  it('logs in as demo and lands on Instances with the Project navigation', async () => {
    await page.getByLabel('Password').fill(tc.cloud.secrets.demoPassword);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Instances' }).waitFor({ timeout: 5000 });
    assert.match(page.url(), /\/project\/instances$/);
    assert.equal(await page.getByRole('combobox', { name: 'Project' }).inputValue(), tc.demo.projectId);
    assert.equal(await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Instances' }).getAttribute('aria-current'), 'page');
    // demo is no admin: no Admin group.
    assert.equal(await page.getByRole('heading', { name: 'Admin' }).count(), 0);
  });

  it('shows a server created through the API go from Build to Active without a reload', async () => {
    const images = await tc.demo.get('/image/v2/images');
    const image = images.body.images[0];
    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    const r = await tc.demo.post('/compute/v2.1/servers', { server: { name: 'web-1', imageRef: image.id, flavorRef: '1' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await statusOf('web-1').filter({ hasText: /^Build$/ }).waitFor({ timeout: 5000 });
    await statusOf('web-1').filter({ hasText: /^Active$/ }).waitFor({ timeout: 10_000 });
    const cells = await row('web-1').locator('td').allTextContents();
    assert.ok(cells.includes(image.name), `image name in ${cells}`);
    assert.ok(cells.includes('m1.tiny'), `flavor in ${cells}`);
    assert.ok(cells.includes('Running'), `power state in ${cells}`);
    assert.ok(cells.some((c) => /^\d+\.\d+\.\d+\.\d+/.test(c)), `an IP address in ${cells}`);
    assert.equal(navigations, 0);
  });

  it('stops the server from its row menu and sees Shutoff', async () => {
    await row('web-1').getByLabel('Actions for web-1').click();
    await row('web-1').getByRole('button', { name: 'Shut Off Instance' }).click();
    await page.getByRole('status').filter({ hasText: 'Shut Off Instance: requested for web-1' }).waitFor({ timeout: 5000 });
    await statusOf('web-1').filter({ hasText: /^Shutoff$/ }).waitFor({ timeout: 10_000 });
    assert.equal(await row('web-1').locator('td').nth(8).textContent(), 'Shut Down');
  });

  it('opens the instance page with its overview, log and action log', async () => {
    await page.getByRole('link', { name: 'web-1', exact: true }).click();
    await page.getByRole('heading', { name: 'web-1' }).waitFor({ timeout: 5000 });
    await page.locator('dd[data-field="Status"]').filter({ hasText: 'Shutoff' }).waitFor({ timeout: 5000 });
    await page.getByRole('tab', { name: 'Action Log' }).click();
    await page.getByRole('table', { name: 'Action log' }).getByRole('cell', { name: 'Stop', exact: true }).waitFor({ timeout: 5000 });
    await page.getByRole('tab', { name: 'Log', exact: true }).click();
    await page.getByLabel('Console log').filter({ hasNotText: 'Loading' }).waitFor({ timeout: 5000 });
    assert.equal(await page.getByRole('alert').count(), 0);
    await page.getByRole('link', { name: 'Instances', exact: true }).first().click();
    await page.getByRole('heading', { name: 'Instances' }).waitFor({ timeout: 5000 });
  });

  it('deletes the server after confirming, and it leaves the table', async () => {
    await row('web-1').getByLabel('Actions for web-1').click();
    await row('web-1').getByRole('button', { name: 'Delete Instance' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm Delete Instance' });
    await dialog.getByRole('button', { name: 'Delete Instance' }).click();
    await row('web-1').waitFor({ state: 'detached', timeout: 10_000 });
    await waitFor(async () => (await tc.demo.get('/compute/v2.1/servers')).body.servers.length === 0, 'server gone from the API');
  });

  it('batch-deletes the selected servers', async () => {
    const image = (await tc.demo.get('/image/v2/images')).body.images[0];
    for (const name of ['batch-a', 'batch-b']) {
      const r = await tc.demo.post('/compute/v2.1/servers', { server: { name, imageRef: image.id, flavorRef: '1' } });
      assert.equal(r.status, 202, JSON.stringify(r.body));
    }
    await row('batch-a').waitFor();
    await row('batch-b').waitFor();
    await page.getByLabel('Select batch-a').check();
    await page.getByLabel('Select batch-b').check();
    await page.getByRole('button', { name: 'Delete Instances (2)' }).click();
    await page.getByRole('dialog', { name: 'Confirm Delete 2 Instances' }).getByRole('button', { name: 'Delete Instances' }).click();
    await page.getByText('No instances yet.').waitFor({ timeout: 15_000 });
    assert.deepEqual((await tc.demo.get('/compute/v2.1/servers')).body.servers, []);
    assert.deepEqual(errors, []);
  });
});
