#!/usr/bin/env node
/**
 * Screenshots of the dashboard's main pages for the docs: starts a fake-driver cloud with two
 * compute hosts (test/helpers/cloud.ts), puts a few servers and a host aggregate in it through
 * the API, and saves docs/images/dashboard-<page>.png (or under the directory given as the first
 * argument) from headless Chromium: Overview, Instances, Launch Instance (Details tab) as demo;
 * Hypervisors, Host Aggregates as admin. Pages a build does not have yet are skipped.
 *
 *   node scripts/build.mjs --dashboard && node --import tsx scripts/dashboard-screenshots.mjs [dir]
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { launchBrowser } from '../test/helpers/browser.ts';
import { startTestCloud, waitFor } from '../test/helpers/cloud.ts';

const out = resolve(process.argv[2] ?? join(import.meta.dirname, '..', 'docs', 'images'));
mkdirSync(out, { recursive: true });

const tc = await startTestCloud({ fakeHosts: 2, fake: { delays: {}, failures: {}, failingHosts: [], vcpus: 32, memoryMb: 65536, diskGb: 1000 } });
const browser = await launchBrowser();
try {
  const image = (await tc.demo.get('/image/v2/images')).body.images[0];
  const ids = [];
  for (const [name, flavorRef] of [['web-1', '1'], ['web-2', '1'], ['db-1', '2']]) {
    const r = await tc.demo.post('/compute/v2.1/servers', { server: { name, imageRef: image.id, flavorRef } });
    if (r.status !== 202) throw new Error(`create ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    ids.push(r.body.server.id);
  }
  for (const id of ids) await waitFor(async () => (await tc.demo.get(`/compute/v2.1/servers/${id}`)).body.server.status === 'ACTIVE', `${id} ACTIVE`, 30_000);
  await tc.demo.post(`/compute/v2.1/servers/${ids[1]}/action`, { 'os-stop': null });
  const agg = await tc.admin.post('/compute/v2.1/os-aggregates', { aggregate: { name: 'fast-disks', availability_zone: 'zone-fast' } });
  await tc.admin.post(`/compute/v2.1/os-aggregates/${agg.body.aggregate.id}/action`, { add_host: { host: 'host1' } });
  await tc.admin.post(`/compute/v2.1/os-aggregates/${agg.body.aggregate.id}/action`, { set_metadata: { metadata: { ssd: 'true' } } });
  await tc.admin.post('/compute/v2.1/os-aggregates', { aggregate: { name: 'gpu' } });

  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(10_000);
  const login = async (user, password) => {
    await page.goto(tc.url + '/');
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('navigation', { name: 'Dashboard' }).waitFor();
  };
  /** Opens path, waits for its heading (and ready(), if given), saves dashboard-<name>.png; skips a page that is not there. */
  const shoot = async (name, path, heading, ready) => {
    await page.goto(tc.url + path);
    try {
      await page.getByRole('heading', { name: heading, exact: true }).first().waitFor({ timeout: 5000 });
      if (ready) await ready();
      await page.waitForTimeout(300);
    } catch (e) {
      console.log(`skipped ${name}: ${String(e).split('\n')[0]}`);
      return;
    }
    const file = join(out, `dashboard-${name}.png`);
    await page.screenshot({ path: file });
    console.log(file);
  };

  await login('demo', tc.cloud.secrets.demoPassword);
  await shoot('overview', '/project/overview', 'Overview');
  await shoot('instances', '/project/instances', 'Instances', () => page.locator('tbody tr[data-status="SHUTOFF"]').waitFor());
  await shoot('launch-instance', '/project/instances/launch', 'Launch Instance', async () => {
    await page.getByLabel('Instance Name').fill('web-3');
    await page.getByRole('combobox', { name: 'Flavor' }).selectOption({ index: 2 });
    await page.getByRole('combobox', { name: 'Image' }).selectOption({ index: 1 });
  });
  await page.getByRole('button', { name: 'Log out' }).click();
  await login('admin', tc.cloud.secrets.adminPassword);
  await shoot('hypervisors', '/admin/hypervisors', 'All Hypervisors', () => page.locator('tbody tr').nth(1).waitFor());
  await shoot('host-aggregates', '/admin/aggregates', 'Host Aggregates', async () => {
    await page.getByRole('button', { name: 'Manage fast-disks' }).click();
    await page.getByRole('heading', { name: 'Manage fast-disks' }).waitFor();
  });
} finally {
  await browser.close();
  await tc.close();
}
