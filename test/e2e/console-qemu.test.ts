/**
 * End to end, as a new user would: the real `openstack` CLI against nova-ts running real QEMU
 * guests (tiny-linux), the noVNC console opened in headless Chromium, and the serial console
 * over its websocket. Tokens: a made-up one, one of another instance and an expired one are
 * refused with their reason; a token keeps working across a restart of the proxy (the whole
 * cloud process here, on the same console port). Consoles of a SHUTOFF or unknown server fail
 * with Nova's errors.
 *
 * The noVNC screenshot lands in the test's work dir; with NOVA_TS_SCREENSHOT_DIR set it is also
 * copied there (docs/images/console-novnc.png in the repo was made that way).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { cliSteps } from '../helpers/cli-steps.js';
import { freePort, type CloudProcess } from '../helpers/process.js';
import { startQemuE2e, type QemuE2e } from '../helpers/qemu-e2e.js';
import { qemuSkipReason } from '../helpers/qemu.js';
import { browserSkipReason, launchBrowser } from '../helpers/browser.js';

const skip = qemuSkipReason() || browserSkipReason();
/** Long enough for the steps between issuing a token and the restart, short enough to wait out. */
const TOKEN_TTL_SEC = 45;
const FIRST_START_MS = 600_000;
const json = ['-f', 'json'];
/** Terminal escape sequences (CSI), e.g. the cursor-position query busybox sends after a prompt. */
const ANSI_ESCAPE = new RegExp(String.fromCharCode(27) + '\\[[0-9;?]*[A-Za-z]', 'g');

let e2e: QemuE2e | undefined;
let consolePort = 0;

function c(): CloudProcess {
  assert.ok(e2e, 'the cloud is not running (see the before hook)');
  return e2e.cloud;
}

const { ok, batch, waitStatus, waitConsoleLog } = cliSteps(c);

/** `openstack console url show --<kind> ref`: the URL. */
async function consoleUrl(kind: 'novnc' | 'serial', ref: string): Promise<string> {
  const r = await ok(['console', 'url', 'show', `--${kind}`, ref, ...json]);
  assert.equal(r.json.type, kind, r.stdout);
  return String(r.json.url);
}

type Opened = { ws: WebSocket; output: () => string } | { refused: number; reason: string | undefined; message: string | undefined };

/** Opens a serial websocket URL: the live socket and what came back, or how it was refused. */
function openSerial(url: string): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['binary']);
    let out = '';
    ws.on('message', (d: Buffer) => (out += d.toString('utf8')));
    ws.once('open', () => resolve({ ws, output: () => out }));
    ws.once('unexpected-response', (_req, res) => {
      const h = (n: string) => (typeof res.headers[n] === 'string' ? (res.headers[n] as string) : undefined);
      resolve({ refused: res.statusCode ?? 0, reason: h('x-console-refused'), message: h('x-console-refused-message') });
      res.resume();
      ws.terminate();
    });
    ws.once('error', (e) => reject(e));
  });
}

/** Presses Enter on the serial console, then runs a command and waits for its output. */
async function shellRoundTrip(url: string): Promise<string> {
  const o = await openSerial(url);
  assert.ok('ws' in o, `the serial console was refused: ${JSON.stringify(o)}`);
  try {
    const waitFor = async (re: RegExp, what: string) => {
      const end = Date.now() + 20_000;
      while (Date.now() < end) {
        // busybox's shell asks for the cursor position (ESC [ 6 n) after its prompt: ignore escapes.
        if (re.test(o.output().replace(ANSI_ESCAPE, ''))) return;
        await sleep(100);
      }
      assert.fail(`no ${what} on the serial console within 20 s; it showed:\n${o.output().slice(-2000)}`);
    };
    o.ws.send(Buffer.from('\r'));
    await waitFor(/[#$] $/m, 'shell prompt after Enter');
    o.ws.send(Buffer.from('echo serial-$((6*7))\r'));
    await waitFor(/serial-42/, 'command output');
    return o.output();
  } finally {
    o.ws.close();
  }
}

function withToken(url: string, token: string, instance?: string): string {
  const u = new URL(url);
  u.searchParams.set('token', token);
  if (instance) u.searchParams.set('instance_uuid', instance);
  return u.toString();
}

describe('openstack CLI: remote consoles of real QEMU guests', { skip, timeout: 900_000 }, () => {
  let vm1: any;
  let vm2: any;

  before(async () => {
    consolePort = await freePort();
    e2e = await startQemuE2e({
      name: 'cons',
      args: ['--driver', 'qemu', '--shutdown-timeout', '10', '--console-listen', `127.0.0.1:${consolePort}`, '--console-token-ttl', String(TOKEN_TTL_SEC)],
      readyTimeoutMs: FIRST_START_MS,
    });
    const BOOT = ['--flavor', 'm1.tiny', '--image', 'tiny-linux', '--nic', 'none', '--config-drive', 'True'];
    await batch([['server', 'create', ...BOOT, 'vm1', ...json], ['server', 'create', ...BOOT, 'vm2', ...json]], 2);
    vm1 = await waitStatus('vm1', 'ACTIVE');
    vm2 = await waitStatus('vm2', 'ACTIVE');
    await waitConsoleLog('vm1', /=== tiny-linux vm1 up/);
  });

  after(async () => {
    await e2e?.stop();
  });

  test('console url show --novnc: headless Chromium shows the guest screen', async () => {
    const url = await consoleUrl('novnc', 'vm1');
    assert.match(url, new RegExp(`^http://127\\.0\\.0\\.1:${consolePort}/vnc_lite\\.html\\?path=`), url);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1024, height: 700 } });
      await page.goto(url);
      await page.waitForFunction(() => /connected/i.test(document.body.innerText) && !/disconnected/i.test(document.body.innerText), null, { timeout: 20_000 });
      // The VGA text console: light text on black. Wait until enough of the canvas is lit.
      const lit = async () =>
        page.evaluate(() => {
          const canvas = document.querySelector('canvas');
          if (!canvas || canvas.width === 0) return 0;
          const ctx = canvas.getContext('2d');
          if (!ctx) return 0;
          const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 300) n++;
          return n;
        });
      const end = Date.now() + 30_000;
      let pixels = 0;
      while (Date.now() < end && (pixels = await lit()) < 2000) await sleep(500);
      assert.ok(pixels >= 2000, `the console canvas shows almost nothing (${pixels} lit pixels)`);
      const shot = join(e2e!.work, 'console-novnc.png');
      await page.screenshot({ path: shot });
      if (process.env.NOVA_TS_SCREENSHOT_DIR) {
        mkdirSync(process.env.NOVA_TS_SCREENSHOT_DIR, { recursive: true });
        copyFileSync(shot, join(process.env.NOVA_TS_SCREENSHOT_DIR, 'console-novnc.png'));
      }
    } finally {
      await browser.close();
    }
  });

  test('serial console: Enter gets the prompt; made-up, other-instance and expired tokens are refused; a token outlives a restart', async () => {
    const url = await consoleUrl('serial', 'vm1');
    assert.match(url, new RegExp(`^ws://127\\.0\\.0\\.1:${consolePort}/\\?`), url);
    const issuedAt = Date.now();
    assert.match(await shellRoundTrip(url), /serial-42/);

    const madeUp = await openSerial(withToken(url, 'made-up-token-0123456789'));
    assert.ok('refused' in madeUp, 'a made-up token was accepted');
    assert.equal(madeUp.refused, 401);
    assert.equal(madeUp.reason, 'unknown');
    assert.match(madeUp.message ?? '', /not valid/);

    // vm2's token presented for vm1's console.
    const vm2Token = new URL(await consoleUrl('serial', 'vm2')).searchParams.get('token')!;
    const other = await openSerial(withToken(url, vm2Token, vm1.id));
    assert.ok('refused' in other, "vm2's token opened vm1's console");
    assert.equal(other.reason, 'other-instance');

    // The proxy restarts with the cloud (same data dir, same console port): the URL still works.
    await c().stop({ keepDataDir: true });
    await e2e!.restart();
    await waitStatus('vm1', 'ACTIVE');
    assert.ok(Date.now() - issuedAt < TOKEN_TTL_SEC * 1000, 'the restart took longer than the token lives; raise TOKEN_TTL_SEC');
    assert.match(await shellRoundTrip(url), /serial-42/);

    // Past its lifetime the same URL is refused as expired.
    await sleep(Math.max(0, issuedAt + TOKEN_TTL_SEC * 1000 + 1500 - Date.now()));
    const expired = await openSerial(url);
    assert.ok('refused' in expired, 'an expired token was accepted');
    assert.equal(expired.refused, 401);
    assert.equal(expired.reason, 'expired');
    assert.match(expired.message ?? '', /expired/);
  });

  test('consoles of a SHUTOFF server give 409, of an unknown server an error naming it', async () => {
    await ok(['server', 'stop', 'vm2']);
    await waitStatus('vm2', 'SHUTOFF');
    const stopped = await c().cli(['console', 'url', 'show', '--novnc', 'vm2']);
    assert.notEqual(stopped.code, 0, 'a console URL for a SHUTOFF server');
    assert.match(stopped.stderr, /409/, stopped.stderr);
    const serial = await c().cli(['console', 'url', 'show', '--serial', 'vm2']);
    assert.match(serial.stderr, /409/, serial.stderr);
    const unknown = await c().cli(['console', 'url', 'show', '--novnc', 'no-such-server']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no-such-server/, unknown.stderr);
    await ok(['server', 'delete', '--wait', vm1.id, vm2.id]);
  });
});
