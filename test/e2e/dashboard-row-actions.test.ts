/**
 * The Instances page's form row actions in headless Chromium against a fake-driver cloud, as
 * demo: resize to m1.small then Confirm Resize (the flavor column says m1.small, status
 * Active), and Revert Resize back to it; Create Snapshot (the image shows up in the Image API and goes active); Attach
 * Volume (a volume deleted behind the dialog's back gives the API's message in the dialog;
 * an available one ends up in-use). Needs dashboard/dist (`node scripts/build.mjs --dashboard`).
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

describe('dashboard Instances row actions: resize, snapshot, attach volume', { skip }, () => {
  let tc: TestCloud;
  let browser: Browser;
  let page: Page;
  let serverId: string;
  const errors: string[] = [];
  const vpath = () => `/volume/v3/${tc.demo.projectId}/volumes`;
  const row = (name: string) => page.locator('tbody tr', { has: page.getByRole('rowheader', { name, exact: true }) });
  const statusOf = (name: string) => row(name).locator('td.status');
  const menu = async (name: string, item: string) => {
    await row(name).getByLabel(`Actions for ${name}`).click();
    await row(name).getByRole('button', { name: item, exact: true }).click();
  };
  const newVolume = async (name: string) => {
    const r = await tc.demo.post(vpath(), { volume: { size: 1, name } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.volume.id as string;
    await waitFor(async () => (await tc.demo.get(`${vpath()}/${id}`)).body.volume?.status === 'available', `${name} available`);
    return id;
  };

  before(async () => {
    [tc, browser] = await Promise.all([startTestCloud(), launchBrowser()]);
    page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (e) => errors.push(String(e)));
    const image = (await tc.demo.get('/image/v2/images')).body.images.find((i: { status: string }) => i.status === 'active');
    const r = await tc.demo.post('/compute/v2.1/servers', { server: { name: 'app-1', imageRef: image.id, flavorRef: '1' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    serverId = r.body.server.id;
    await page.goto(tc.url + '/');
    await page.getByLabel('User name').fill('demo');
    await page.getByLabel('Password').fill(tc.cloud.secrets.demoPassword);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Instances' }).waitFor();
    await statusOf('app-1').filter({ hasText: /^Active$/ }).waitFor();
  });
  after(async () => {
    await browser?.close();
    await tc?.close();
  });

  it('resizes to m1.small, then Confirm Resize leaves it Active on m1.small', async () => {
    await menu('app-1', 'Resize Instance');
    const dialog = page.getByRole('dialog', { name: 'Resize Instance app-1' });
    await dialog.getByText('Old flavor: m1.tiny').waitFor();
    const submit = dialog.getByRole('button', { name: 'Resize' });
    assert.equal(await submit.isDisabled(), true, 'nothing chosen yet');
    // The current flavor is not offered.
    await dialog.getByLabel('New flavor').locator('option', { hasText: 'm1.small' }).waitFor({ state: 'attached' });
    assert.equal(await dialog.getByLabel('New flavor').locator('option', { hasText: 'm1.tiny' }).count(), 0);
    await dialog.getByLabel('New flavor').selectOption({ label: 'm1.small' });
    await submit.click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('status').filter({ hasText: 'Resize Instance: requested for app-1' }).waitFor();
    await statusOf('app-1').filter({ hasText: /^Verify Resize$/ }).waitFor();
    await menu('app-1', 'Confirm Resize');
    await page.getByRole('status').filter({ hasText: 'Confirm Resize: requested for app-1' }).waitFor();
    await statusOf('app-1').filter({ hasText: /^Active$/ }).waitFor();
    const cells = await row('app-1').locator('td').allTextContents();
    assert.ok(cells.includes('m1.small'), `flavor in ${cells}`);
    const s = (await tc.demo.get(`/compute/v2.1/servers/${serverId}`)).body.server;
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s.flavor.id, '2');
  });

  it('Revert Resize goes back to the old flavor', async () => {
    await menu('app-1', 'Resize Instance');
    const dialog = page.getByRole('dialog', { name: 'Resize Instance app-1' });
    await dialog.getByLabel('New flavor').locator('option', { hasText: 'm1.medium' }).waitFor({ state: 'attached' });
    await dialog.getByLabel('New flavor').selectOption({ label: 'm1.medium' });
    await dialog.getByRole('button', { name: 'Resize' }).click();
    await statusOf('app-1').filter({ hasText: /^Verify Resize$/ }).waitFor();
    await menu('app-1', 'Revert Resize');
    await page.getByRole('status').filter({ hasText: 'Revert Resize: requested for app-1' }).waitFor();
    await waitFor(async () => {
      const s = (await tc.demo.get(`/compute/v2.1/servers/${serverId}`)).body.server;
      return s.status === 'ACTIVE' && !s['OS-EXT-STS:task_state'];
    }, 'reverted', 15_000);
    await statusOf('app-1').filter({ hasText: /^Active$/ }).waitFor();
    await row('app-1').getByRole('cell', { name: 'm1.small', exact: true }).waitFor();
    assert.equal((await tc.demo.get(`/compute/v2.1/servers/${serverId}`)).body.server.flavor.id, '2');
  });

  it('creates a snapshot that the Image API lists and that becomes active', async () => {
    await statusOf('app-1').filter({ hasText: /^Active$/ }).waitFor();
    await menu('app-1', 'Create Snapshot');
    const dialog = page.getByRole('dialog', { name: 'Create Snapshot of app-1' });
    const name = dialog.getByLabel('Snapshot Name');
    await name.fill('  ');
    assert.equal(await dialog.getByRole('button', { name: 'Create Snapshot' }).isDisabled(), true, 'a blank name is refused');
    await name.fill('app-1-backup');
    await dialog.getByRole('button', { name: 'Create Snapshot' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('status').filter({ hasText: 'appears on the Images page' }).waitFor();
    const image = await waitFor(async () => {
      const list = (await tc.demo.get('/image/v2/images?name=app-1-backup')).body.images;
      return list.length === 1 && list[0].status === 'active' ? list[0] : undefined;
    }, 'snapshot image active', 15_000);
    assert.equal(image.instance_uuid, serverId);
    await statusOf('app-1').filter({ hasText: /^Active$/ }).waitFor();
  });

  it('attaches an available volume (and shows the API error for one gone meanwhile)', async () => {
    const [keep, gone] = [await newVolume('data-1'), await newVolume('data-2')];
    await statusOf('app-1').filter({ hasText: /^Active$/ }).waitFor();
    // The snapshot's task must be over before the menu offers Attach Volume.
    await waitFor(async () => !(await tc.demo.get(`/compute/v2.1/servers/${serverId}`)).body.server['OS-EXT-STS:task_state'], 'no task');
    await menu('app-1', 'Attach Volume');
    const dialog = page.getByRole('dialog', { name: 'Attach Volume to app-1' });
    const select = dialog.getByLabel('Volume');
    await select.locator('option', { hasText: 'data-2 (1 GB)' }).waitFor({ state: 'attached' });
    const del = await tc.demo.delete(`${vpath()}/${gone}`);
    assert.equal(del.status, 202, JSON.stringify(del.body));
    await waitFor(async () => (await tc.demo.get(`${vpath()}/${gone}`)).status === 404, 'data-2 deleted');
    await select.selectOption({ label: 'data-2 (1 GB)' });
    await dialog.getByRole('button', { name: 'Attach Volume' }).click();
    const alert = dialog.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /could not be found/i);
    await select.selectOption({ label: 'data-1 (1 GB)' });
    await dialog.getByRole('button', { name: 'Attach Volume' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('status').filter({ hasText: 'data-1 (1 GB) is being attached to app-1' }).waitFor();
    await waitFor(async () => (await tc.demo.get(`${vpath()}/${keep}`)).body.volume.status === 'in-use', 'data-1 in-use');
    const vol = (await tc.demo.get(`${vpath()}/${keep}`)).body.volume;
    assert.equal(vol.attachments[0].server_id, serverId);
    assert.deepEqual(errors, []);
  });
});
