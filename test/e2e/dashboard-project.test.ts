/**
 * The dashboard's Project pages in headless Chromium against a fake-driver cloud, as the demo
 * user: the Overview's instance quota numbers, creating a key pair (its private key arrives as
 * a <name>.pem download), importing a public key, creating a volume that reaches Available, and
 * adding an ingress TCP 80 rule to a security group. Needs dashboard/dist (`npm test` builds it
 * first; alone: `node scripts/build.mjs --dashboard`).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, launchBrowser } from '../helpers/browser.js';
import { startTestCloud, waitFor, type TestCloud } from '../helpers/cloud.js';

const DIST = join(import.meta.dirname, '..', '..', 'dashboard', 'dist', 'index.html');
const skip = browserSkipReason() || (existsSync(DIST) ? false : 'dashboard/dist is not built (node scripts/build.mjs --dashboard)');

/** A syntactically valid ssh-ed25519 public key (32 zero bytes). */
const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA imported@example';

describe('dashboard Project pages in a browser', { skip }, () => {
  let tc: TestCloud;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  before(async () => {
    [tc, browser] = await Promise.all([startTestCloud(), launchBrowser()]);
    page = await browser.newPage({ acceptDownloads: true });
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(tc.url + '/');
    await page.getByLabel('User name').fill('demo');
    await page.getByLabel('Password').fill(tc.cloud.secrets.demoPassword);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Instances' }).waitFor({ timeout: 5000 });
  });
  after(async () => {
    await browser?.close();
    await tc?.close();
  });

  const nav = (name: string) => page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name, exact: true }).click();

  it('the Overview shows the instance quota with its numbers', async () => {
    const l = (await tc.demo.get('/compute/v2.1/limits')).body.limits.absolute;
    await nav('Overview');
    const meter = page.getByRole('meter', { name: 'Instances' });
    await meter.waitFor();
    assert.equal(await meter.getAttribute('aria-valuetext'), `Used ${l.totalInstancesUsed} of ${l.maxTotalInstances}`);
    await page.getByText(`Used ${l.totalCoresUsed} of ${l.maxTotalCores}`).first().waitFor();
    await page.getByRole('meter', { name: 'RAM' }).waitFor();
    await page.getByRole('meter', { name: 'Volumes' }).waitFor();
    await page.getByRole('meter', { name: 'Security Groups' }).waitFor();
  });

  it('creates a key pair and downloads its private key as <name>.pem', async () => {
    await nav('Key Pairs');
    await page.getByRole('button', { name: 'Create Key Pair' }).click();
    const form = page.getByRole('form', { name: 'Create Key Pair' });
    await form.getByLabel('Key Pair Name').fill('made-here');
    const download = page.waitForEvent('download');
    await form.getByRole('button', { name: 'Create Key Pair' }).click();
    const d = await download;
    assert.equal(d.suggestedFilename(), 'made-here.pem');
    const pem = readFileSync(await d.path(), 'utf8');
    assert.match(pem, /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    await page.getByRole('status').filter({ hasText: 'shown only this once' }).waitFor();
    await page.getByRole('rowheader', { name: 'made-here', exact: true }).waitFor();
    const api = (await tc.demo.get('/compute/v2.1/os-keypairs')).body.keypairs.map((k: any) => k.keypair.name);
    assert.deepEqual(api, ['made-here']);
  });

  it('imports a public key, and a bad one shows the API error', async () => {
    await page.getByRole('button', { name: 'Import Public Key' }).click();
    const form = page.getByRole('form', { name: 'Import Public Key' });
    await form.getByLabel('Key Pair Name').fill('bad-key');
    await form.getByLabel('Public Key', { exact: true }).fill('not a key');
    await form.getByRole('button', { name: 'Import Key Pair' }).click();
    await form.getByRole('alert').waitFor();
    await form.getByLabel('Key Pair Name').fill('imported');
    await form.getByLabel('Public Key', { exact: true }).fill(ED25519);
    await form.getByRole('button', { name: 'Import Key Pair' }).click();
    await page.getByRole('status').filter({ hasText: 'Imported key pair imported.' }).waitFor();
    await page.getByRole('rowheader', { name: 'imported', exact: true }).waitFor();
    const kp = (await tc.demo.get('/compute/v2.1/os-keypairs/imported')).body.keypair;
    assert.equal(kp.public_key.trim(), ED25519);
    assert.equal((await tc.demo.get('/compute/v2.1/os-keypairs/bad-key')).status, 404);
  });

  it('creates a volume and sees it become Available', async () => {
    await nav('Volumes');
    await page.getByRole('button', { name: 'Create Volume' }).click();
    const form = page.getByRole('form', { name: 'Create Volume' });
    await form.getByLabel('Volume Name').fill('data-1');
    await form.getByLabel('Size (GiB)').fill('2');
    await form.getByRole('button', { name: 'Create Volume' }).click();
    const row = page.locator('tbody tr', { has: page.getByRole('rowheader', { name: 'data-1', exact: true }) });
    await row.locator('td.status').filter({ hasText: /^Available$/ }).waitFor({ timeout: 10_000 });
    assert.ok((await row.locator('td').allTextContents()).includes('2 GiB'));
  });

  it('adds an ingress TCP 80 rule to the default security group and sees it listed', async () => {
    await nav('Security Groups');
    await page.getByRole('button', { name: 'Manage rules of default' }).click();
    const form = page.getByRole('form', { name: 'Add Rule' });
    await form.getByLabel('Direction').selectOption('ingress');
    await form.getByLabel('IP Protocol').selectOption('tcp');
    await form.getByLabel('From Port').fill('80');
    await form.getByLabel('Remote CIDR').fill('0.0.0.0/0');
    await form.getByRole('button', { name: 'Add Rule' }).click();
    await page.getByRole('status').filter({ hasText: 'Added a rule to default.' }).waitFor();
    const rules = page.getByRole('table', { name: 'Rules of default' });
    const rule = rules.locator('tbody tr', { has: page.getByRole('cell', { name: 'TCP', exact: true }) });
    await rule.waitFor();
    assert.deepEqual((await rule.locator('td').allTextContents()).slice(0, 5), ['Ingress', 'IPv4', 'TCP', '80', '0.0.0.0/0']);
    const groups = (await tc.demo.get('/network/v2.0/security-groups?name=default')).body.security_groups;
    const r = groups[0].security_group_rules.find((x: any) => x.protocol === 'tcp');
    assert.deepEqual([r.direction, r.port_range_min, r.port_range_max, r.remote_ip_prefix], ['ingress', 80, 80, '0.0.0.0/0']);
  });

  it('a rule the API refuses shows its message and adds nothing', async () => {
    const before = (await tc.demo.get('/network/v2.0/security-group-rules')).body.security_group_rules.length;
    const form = page.getByRole('form', { name: 'Add Rule' });
    await form.getByLabel('From Port').fill('22');
    await form.getByLabel('Remote CIDR').fill('300.1.2.3/40');
    await form.getByRole('button', { name: 'Add Rule' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /300\.1\.2\.3\/40/);
    assert.equal((await tc.demo.get('/network/v2.0/security-group-rules')).body.security_group_rules.length, before);
    await form.getByLabel('From Port').fill('70000');
    await form.getByLabel('Remote CIDR').fill('0.0.0.0/0');
    await form.getByRole('button', { name: 'Add Rule' }).click();
    await page.getByRole('alert').filter({ hasText: 'Ports are whole numbers from 1 to 65535.' }).waitFor();
    await page.getByRole('button', { name: 'Dismiss' }).click();
  });

  it('creates and deletes a security group', async () => {
    await page.getByRole('button', { name: 'Create Security Group' }).click();
    const form = page.getByRole('form', { name: 'Create Security Group' });
    await form.getByLabel('Security Group Name').fill('web');
    await form.getByRole('button', { name: 'Create Security Group' }).click();
    await page.getByRole('heading', { name: 'Rules of web' }).waitFor();
    await page.getByRole('button', { name: 'Delete security group web' }).click();
    await page.getByRole('dialog', { name: 'Confirm Delete Security Group' }).getByRole('button', { name: 'Delete Security Group' }).click();
    await page.getByRole('rowheader', { name: 'web', exact: true }).waitFor({ state: 'detached' });
    assert.equal((await tc.demo.get('/network/v2.0/security-groups?name=web')).body.security_groups.length, 0);
  });

  it('lists the networks with their subnets', async () => {
    const nets = (await tc.demo.get('/network/v2.0/networks')).body.networks;
    const subnet = (await tc.demo.get('/network/v2.0/subnets')).body.subnets[0];
    assert.ok(nets.length > 0 && subnet);
    await nav('Networks');
    await page.locator('.subnet').filter({ hasText: subnet.cidr }).first().waitFor();
  });

  it('uploads an image from a file and offers to launch it', async () => {
    await nav('Images');
    await page.getByRole('button', { name: 'Create Image' }).click();
    const form = page.getByRole('form', { name: 'Create Image' });
    await form.getByLabel('Image File').setInputFiles({ name: 'tiny.img', mimeType: 'application/octet-stream', buffer: Buffer.alloc(64 * 1024, 7) });
    assert.equal(await form.getByLabel('Image Name').inputValue(), 'tiny');
    assert.equal(await form.getByLabel('Format', { exact: true }).inputValue(), 'raw');
    await form.getByRole('button', { name: 'Upload Image' }).click();
    await page.getByRole('status').filter({ hasText: 'Uploaded image tiny.' }).waitFor();
    const row = page.locator('tbody tr', { has: page.getByRole('rowheader', { name: 'tiny', exact: true }) });
    await row.locator('td.status').filter({ hasText: /^Active$/ }).waitFor();
    assert.ok((await row.locator('td').allTextContents()).includes('64 KiB'));
    const img = (await tc.demo.get('/image/v2/images?name=tiny')).body.images[0];
    assert.equal(img.size, 64 * 1024);
    await row.getByRole('button', { name: 'Launch instance from tiny' }).click();
    await page.waitForURL((u) => u.pathname === '/project/instances/launch' && u.searchParams.get('image') === img.id);
    // The wizard opens with that image chosen as the boot source.
    await page.waitForFunction((id) => (document.querySelector('select[aria-label="Image"]') as HTMLSelectElement | null)?.value === id, img.id);
  });

  it('attaches a volume to an instance and detaches it', async () => {
    const image = (await tc.demo.get('/image/v2/images')).body.images[0];
    const r = await tc.demo.post('/compute/v2.1/servers', { server: { name: 'vm-1', imageRef: image.id, flavorRef: '1' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await waitFor(async () => (await tc.demo.get(`/compute/v2.1/servers/${r.body.server.id}`)).body.server.status === 'ACTIVE', 'vm-1 active');
    await nav('Volumes');
    const row = page.locator('tbody tr', { has: page.getByRole('rowheader', { name: 'data-1', exact: true }) });
    await row.getByRole('button', { name: 'Attach volume data-1' }).click();
    const form = page.getByRole('form', { name: 'Attach volume data-1' });
    await form.getByLabel('Attach to Instance').selectOption({ label: `vm-1 (${r.body.server.id.slice(0, 8)})` });
    await form.getByRole('button', { name: 'Attach Volume' }).click();
    await row.locator('td.status').filter({ hasText: /^In-use$/ }).waitFor({ timeout: 10_000 });
    await row.locator('td').filter({ hasText: /on vm-1$/ }).waitFor();
    await row.getByRole('button', { name: 'Detach volume data-1 from vm-1' }).click();
    await row.locator('td.status').filter({ hasText: /^Available$/ }).waitFor({ timeout: 10_000 });
    assert.deepEqual(errors, []);
  });
});
