/**
 * The dashboard's Admin pages in headless Chromium against a fake-driver cloud with two compute
 * hosts: as admin, the Hypervisors page lists both hosts with their numbers, a host aggregate
 * created with an availability zone gets a host and that zone shows on the Availability Zones
 * page, a bad host aggregate shows the API's message, the Services page lists nova-compute on
 * both hosts and disables one with a reason; as demo there is no Admin group. Needs
 * dashboard/dist (`npm test` builds it first; alone: `node scripts/build.mjs --dashboard`).
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

describe('dashboard admin pages in a browser', { skip }, () => {
  let tc: TestCloud;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  before(async () => {
    [tc, browser] = await Promise.all([
      startTestCloud({ fakeHosts: 2, fake: { delays: {}, failures: {}, failingHosts: [], vcpus: 16, memoryMb: 32768, diskGb: 500 } }),
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

  const nav = () => page.getByRole('navigation', { name: 'Dashboard' });
  const rowOf = (table: string, header: string) =>
    page.getByRole('table', { name: table }).locator('tbody tr', { has: page.getByRole('rowheader', { name: header, exact: true }) });
  const logIn = async (user: string, password: string) => {
    await page.goto(tc.url + '/');
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Instances' }).waitFor({ timeout: 5000 });
  };

  it('as admin, lists both hypervisors with their numbers', async () => {
    // One server on the cloud, so that one hypervisor's numbers are not zero.
    const image = (await tc.demo.get('/image/v2/images')).body.images[0];
    const r = await tc.demo.post('/compute/v2.1/servers', { server: { name: 'web-1', imageRef: image.id, flavorRef: '1' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await waitFor(async () => (await tc.demo.get(`/compute/v2.1/servers/${r.body.server.id}`)).body.server.status === 'ACTIVE', 'web-1 ACTIVE');

    await logIn('admin', tc.cloud.secrets.adminPassword);
    await nav().getByRole('link', { name: 'Hypervisors' }).click();
    await page.getByRole('heading', { name: 'All Hypervisors' }).waitFor();
    for (const host of ['host1', 'host2']) await rowOf('All Hypervisors', host).waitFor();
    const cells = async (host: string) => (await rowOf('All Hypervisors', host).locator('td').allTextContents()).join('|');
    const both = [await cells('host1'), await cells('host2')];
    for (const c of both) {
      // type, state, status, vCPUs used/total, RAM used/total, disk used/total, instances
      assert.match(c, /^fake\|Up\|Enabled\|[01]\|16\|[\d.]+ (MiB|GiB)\|32 GiB\|[\d.]+ (B|GiB)\|500 GiB\|[01]$/, c);
    }
    // The one server (1 vCPU) is on one of them.
    assert.deepEqual(both.map((c) => c.split('|')[3]).sort(), ['0', '1']);
    assert.match(await page.locator('dd[data-field="VCPU Usage"]').textContent() ?? '', /Used 1 of 32/);
  });

  it('creates a host aggregate with an availability zone, adds a host, and sees the zone', async () => {
    await nav().getByRole('link', { name: 'Host Aggregates' }).click();
    await page.getByRole('heading', { name: 'Host Aggregates' }).waitFor();
    await page.getByRole('button', { name: 'Create Host Aggregate' }).click();
    const form = page.getByRole('form', { name: 'Create Host Aggregate' });
    await form.getByLabel('Name').fill('fast-disks');
    await form.getByLabel('Availability Zone').fill('zone-fast');
    await form.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('status').filter({ hasText: 'Created aggregate fast-disks' }).waitFor();
    const row = rowOf('Host Aggregates', 'fast-disks');
    assert.equal(await row.locator('td').first().textContent(), 'zone-fast');

    // An aggregate named like an existing one: the API's message, nothing new.
    await page.getByRole('button', { name: 'Create Host Aggregate' }).click();
    await form.getByLabel('Name').fill('fast-disks');
    await form.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('alert').filter({ hasText: 'fast-disks' }).waitFor();
    assert.equal((await tc.admin.get('/compute/v2.1/os-aggregates')).body.aggregates.length, 1);
    await form.getByRole('button', { name: 'Cancel' }).click();

    await page.getByRole('button', { name: 'Manage fast-disks' }).click();
    await page.getByLabel('Host', { exact: true }).selectOption('host1');
    await page.getByRole('button', { name: 'Add Host' }).click();
    await page.getByRole('status').filter({ hasText: 'Added host1 to fast-disks' }).waitFor();
    await row.locator('td', { hasText: /^host1$/ }).waitFor();
    await page.getByLabel(/^Metadata/).fill('ssd=true');
    await page.getByRole('button', { name: 'Set Metadata' }).click();
    await row.locator('td', { hasText: 'ssd = true' }).waitFor();

    await nav().getByRole('link', { name: 'Availability Zones' }).click();
    const zone = rowOf('Availability Zones', 'zone-fast');
    await zone.waitFor();
    const zoneCells = await zone.locator('td').allTextContents();
    assert.equal(zoneCells[0], 'host1');
    assert.match(zoneCells[1], /nova-compute on host1/);
    assert.equal(zoneCells[2], 'Yes');
    assert.equal(await rowOf('Availability Zones', 'nova').locator('td').first().textContent(), 'host2');
  });

  it('lists nova-compute on both hosts and disables one with a reason', async () => {
    await nav().getByRole('link', { name: 'Services' }).click();
    await page.getByRole('heading', { name: 'Compute Services' }).waitFor();
    const computes = page.locator('tbody tr[data-binary="nova-compute"]');
    await computes.nth(1).waitFor();
    assert.deepEqual(await computes.locator('td:nth-of-type(1)').allTextContents(), ['host1', 'host2']);
    await page.getByRole('button', { name: 'Disable nova-compute on host2' }).click();
    await page.getByRole('form', { name: 'Disable nova-compute on host2' }).getByLabel('Reason').fill('new disks');
    await page.getByRole('button', { name: 'Disable Service' }).click();
    await page.getByRole('status').filter({ hasText: 'Disabled nova-compute on host2' }).waitFor();
    await page.locator('tr[data-host="host2"][data-binary="nova-compute"] td', { hasText: 'new disks' }).waitFor();
    const svc = (await tc.admin.get('/compute/v2.1/os-services?binary=nova-compute&host=host2')).body.services[0];
    assert.equal(svc.status, 'disabled');
    assert.equal(svc.disabled_reason, 'new disks');
  });

  it('creates a private flavor (an empty name is refused in place), and deletes it', async () => {
    await nav().getByRole('link', { name: 'Flavors' }).click();
    await page.getByRole('heading', { name: 'Flavors' }).waitFor();
    await rowOf('Flavors', 'm1.tiny').waitFor();
    const before = (await tc.admin.get('/compute/v2.1/flavors?is_public=None')).body.flavors.length;
    await page.getByRole('button', { name: 'Create Flavor' }).click();
    const form = page.getByRole('form', { name: 'Create Flavor' });
    await form.getByRole('button', { name: 'Create' }).click();
    await form.getByRole('alert').filter({ hasText: 'The flavor needs a name.' }).waitFor();
    await form.getByLabel('Name').fill('m1.custom');
    await form.getByLabel('VCPUs').fill('3');
    await form.getByLabel('RAM (MB)').fill('3072');
    await form.getByLabel('Root Disk (GB)').fill('7');
    await form.getByLabel('Public').uncheck();
    await form.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('status').filter({ hasText: 'Created flavor m1.custom' }).waitFor();
    assert.deepEqual((await rowOf('Flavors', 'm1.custom').locator('td').allTextContents()).slice(0, 4), ['3', '3.0 GiB', '7 GiB', 'No']);
    const flavors = (await tc.admin.get('/compute/v2.1/flavors?is_public=None')).body.flavors;
    assert.equal(flavors.length, before + 1);
    await page.getByRole('button', { name: 'Delete m1.custom' }).click();
    await page.getByRole('dialog', { name: 'Confirm Delete Flavor' }).getByRole('button', { name: 'Delete Flavor' }).click();
    await rowOf('Flavors', 'm1.custom').waitFor({ state: 'detached' });
    assert.equal((await tc.admin.get('/compute/v2.1/flavors?is_public=None')).body.flavors.length, before);
  });

  it("lists every project's instances with their project and host", async () => {
    await nav().getByRole('link', { name: 'All Instances' }).click();
    await page.getByRole('heading', { name: 'All Instances' }).waitFor();
    const row = page.locator('tbody tr', { has: page.getByRole('rowheader', { name: 'web-1', exact: true }) });
    await row.waitFor();
    assert.equal(await row.locator('td[data-field="project"]').textContent(), tc.demo.projectId);
    assert.match((await row.locator('td[data-field="host"]').textContent()) ?? '', /^host[12]$/);
    assert.equal(await page.getByRole('button', { name: 'Launch Instance' }).count(), 0);
  });

  it('shows no Admin group to demo', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await logIn('demo', tc.cloud.secrets.demoPassword);
    assert.equal(await nav().getByRole('heading', { name: 'Admin' }).count(), 0);
    assert.equal(await nav().getByRole('link', { name: 'Hypervisors' }).count(), 0);
    assert.deepEqual(errors, []);
  });
});
