/**
 * The console pages in headless Chromium against the fake RFB and serial echo backends: what a
 * user sees in the status line, and the serial terminal's round trip.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, launchBrowser } from '../../../test/helpers/browser.js';
import { startFixture, type Fixture } from './test-fixture.js';

const skip = browserSkipReason();

describe('console pages in a browser', { skip }, () => {
  let f: Fixture;
  let browser: Browser;
  before(async () => {
    [f, browser] = await Promise.all([startFixture(), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await f?.close();
  });

  /** A page that fails the test on script errors and CSP violations. */
  async function newPage(): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/noVNC requires a secure context/.test(m.text()) && !/status of 401/.test(m.text())) errors.push(m.text());
    });
    return { page, errors };
  }

  it('noVNC connects to the guest screen and says Connected', async () => {
    const token = await f.issue('novnc');
    const { page, errors } = await newPage();
    await page.goto(`${f.proxy.url}/vnc_lite.html?path=${encodeURIComponent(`?token=${token}&instance_uuid=${f.uuid}`)}`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'Connected', null, { timeout: 5000 });
    assert.equal(await page.title(), 'vm1 - console (noVNC)');
    assert.equal(await page.locator('#screen canvas').count(), 1);
    assert.equal(await page.isEnabled('#cad'), true);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('noVNC says why when the console is not reachable', async () => {
    const token = await f.issue('novnc', { path: f.vncPath + '.gone' });
    const { page } = await newPage();
    await page.goto(`${f.proxy.url}/vnc_lite.html?path=${encodeURIComponent(`?token=${token}`)}`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'Failed', null, { timeout: 5000 });
    await page.waitForFunction(() => /not reachable/.test(document.getElementById('detail')?.textContent ?? ''), null, { timeout: 5000 });
    await page.close();
  });

  it('noVNC says the token expired when it expires before the websocket opens', async () => {
    const token = await f.issue('novnc', { ttlSec: 600 });
    const { page } = await newPage();
    // The page is served while the token is valid; the token then dies before the websocket opens.
    await page.route('**/novnc/core/rfb.js', async (route) => {
      await f.sql.run('UPDATE console_auth_tokens SET expires_at = 0');
      await route.continue();
    });
    await page.goto(`${f.proxy.url}/vnc_lite.html?path=${encodeURIComponent(`?token=${token}`)}`);
    await page.waitForFunction(() => /expired/.test(document.getElementById('detail')?.textContent ?? ''), null, { timeout: 5000 });
    assert.equal(await page.textContent('#status'), 'Failed');
    await page.close();
  });

  it('the serial terminal sends keystrokes and shows what comes back', async () => {
    const token = await f.issue('serial');
    const { page, errors } = await newPage();
    await page.goto(`${f.proxy.url}/?token=${token}&instance_uuid=${f.uuid}`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'Connected', null, { timeout: 5000 });
    assert.equal(await page.title(), 'vm1 - serial console');
    await page.keyboard.type('echo-me');
    await page.waitForFunction(() => (document.querySelector('.xterm-rows')?.textContent ?? '').includes('echo-me'), null, { timeout: 5000 });
    assert.deepEqual(errors, []);
    await page.close();
  });
});
