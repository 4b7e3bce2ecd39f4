import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { GONE_MESSAGE } from './admission.js';
import { addInstance, startFixture, type Fixture } from './test-fixture.js';
import { REFUSAL_MESSAGES } from '../types.js';

/** GET of a raw path (no client-side normalisation of `..` or percent-escapes). */
function get(f: Fixture, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(f.proxy.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const vncPage = (token: string, uuid: string, page = 'vnc_lite.html') => `/${page}?path=${encodeURIComponent(`?token=${token}&instance_uuid=${uuid}`)}`;

describe('console proxy pages', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());

  it('serves the noVNC page (what Tempest checks) titled with the instance, under its three names', async () => {
    const token = await f.issue('novnc');
    for (const page of ['vnc_lite.html', 'vnc_auto.html', 'vnc.html']) {
      const r = await get(f, vncPage(token, f.uuid, page));
      assert.equal(r.status, 200, page);
      assert.match(String(r.headers['content-type']), /^text\/html/);
      for (const s of ['<html', '</html>', 'noVNC', '<script']) assert.ok(r.body.includes(s), `${page} lacks ${s}`);
      assert.match(r.body, /<title>vm1 - console \(noVNC\)<\/title>/);
      assert.ok(r.body.includes("from '/novnc/core/rfb.js'"));
      assert.ok(r.body.includes(`"wsPath":"/?token=${token}&instance_uuid=${f.uuid}"`));
      assert.equal(r.headers['cache-control'], 'no-store');
      assert.equal(r.headers['referrer-policy'], 'no-referrer');
    }
  });

  it('takes an old-style token from the page query into the websocket path', async () => {
    const token = await f.issue('novnc');
    const r = await get(f, `/vnc_auto.html?token=${token}`);
    assert.equal(r.status, 200);
    assert.ok(r.body.includes(`"wsPath":"/websockify?token=${token}"`));
  });

  it('answers 401 with a page saying why for refused tokens', async () => {
    const expired = await f.issue('novnc', { ageSec: 601 });
    const good = await f.issue('novnc');
    const cases: [string, string][] = [
      [vncPage(expired, f.uuid), REFUSAL_MESSAGES.expired],
      [vncPage('made-up', f.uuid), REFUSAL_MESSAGES.unknown],
      [vncPage(good, f.otherUuid), REFUSAL_MESSAGES['other-instance']],
      ['/vnc_lite.html', REFUSAL_MESSAGES.missing],
      [`/?token=${expired}`, REFUSAL_MESSAGES.expired],
    ];
    for (const [path, message] of cases) {
      const r = await get(f, path);
      assert.equal(r.status, 401, path);
      assert.match(String(r.headers['content-type']), /^text\/html/);
      assert.ok(r.body.includes(message.replace(/'/g, '&#39;')), `${path}: ${r.body}`);
      assert.ok(r.body.includes('openstack console url show'));
    }
  });

  it('says the instance is gone when it was deleted', async () => {
    const gone = await addInstance(f.sql, { name: 'gone' });
    const token = await f.issue('novnc', { uuid: gone });
    await f.sql.run('UPDATE instances SET deleted = id WHERE uuid = ?', [gone]);
    const r = await get(f, vncPage(token, gone));
    assert.equal(r.status, 401);
    assert.ok(r.body.includes(GONE_MESSAGE));
  });

  it('serves the serial terminal for a plain GET of a serial URL, and redirects across console kinds', async () => {
    const serial = await f.issue('serial');
    const r = await get(f, `/?token=${serial}&instance_uuid=${f.uuid}`);
    assert.equal(r.status, 200);
    assert.match(r.body, /<title>vm1 - serial console<\/title>/);
    assert.ok(r.body.includes("from '/xterm/lib/xterm.mjs'"));
    assert.ok(r.body.includes('href="/xterm/css/xterm.css"'));

    const novnc = await f.issue('novnc');
    const toVnc = await get(f, `/?token=${novnc}&instance_uuid=${f.uuid}`);
    assert.equal(toVnc.status, 302);
    assert.equal(toVnc.headers.location, vncPage(novnc, f.uuid));

    const toSerial = await get(f, vncPage(serial, f.uuid));
    assert.equal(toSerial.status, 302);
    assert.equal(toSerial.headers.location, `/?token=${serial}&instance_uuid=${f.uuid}`);
  });

  it('escapes the instance name in pages', async () => {
    const uuid = await addInstance(f.sql, { name: '<img src=x onerror=alert(1)>' });
    const token = await f.issue('serial', { uuid });
    const r = await get(f, `/?token=${token}`);
    assert.equal(r.status, 200);
    assert.ok(!r.body.includes('<img src=x'));
    assert.ok(r.body.includes('&#60;img src=x onerror=alert(1)&#62;'));
  });

  it('tells the pages whether a token is valid (/token-status)', async () => {
    const token = await f.issue('novnc');
    const ok = JSON.parse((await get(f, `/token-status?token=${token}&instance_uuid=${f.uuid}`)).body);
    assert.equal(ok.valid, true);
    assert.equal(ok.console_type, 'novnc');
    const bad = JSON.parse((await get(f, `/token-status?token=${token}&instance_uuid=${f.otherUuid}`)).body);
    assert.deepEqual(bad, { valid: false, reason: 'other-instance', message: REFUSAL_MESSAGES['other-instance'] });
  });

  it('serves the noVNC and xterm.js files with their content types', async () => {
    const cases: [string, RegExp][] = [
      ['/novnc/core/rfb.js', /^text\/javascript/],
      ['/novnc/core/util/logging.js', /^text\/javascript/],
      ['/novnc/vendor/pako/lib/zlib/inflate.js', /^text\/javascript/],
      ['/xterm/lib/xterm.mjs', /^text\/javascript/],
      ['/xterm/lib/xterm.js', /^text\/javascript/],
      ['/xterm/css/xterm.css', /^text\/css/],
    ];
    for (const [path, type] of cases) {
      const r = await get(f, path);
      assert.equal(r.status, 200, path);
      assert.match(String(r.headers['content-type']), type, path);
      assert.ok(r.body.length > 100, path);
    }
    assert.match((await get(f, '/novnc/core/rfb.js')).body, /export default class RFB/);
    const head = await get(f, '/novnc/core/rfb.js', {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const etag = String(head.headers.etag);
    assert.equal((await get(f, '/novnc/core/rfb.js', { 'if-none-match': etag })).status, 304);
  });

  it('answers 404 for paths leaving the client folders, encoded or not', async () => {
    for (const path of [
      '/novnc/../../package.json',
      '/novnc/%2e%2e/%2e%2e/package.json',
      '/novnc/core/..%2f..%2fpackage.json',
      '/novnc/core/%2E%2E%2F%2E%2E%2F%2E%2E%2Fpackage.json',
      '/novnc/core/..%5c..%5cpackage.json',
      '/novnc/core/rfb.js%00.js',
      '/novnc/package.json',
      '/novnc/README.md',
      '/novnc/core/',
      '/novnc/core/nope.js',
      '/novnc/%E0%A4%A',
      '/xterm/package.json',
      '/xterm/lib/../../../../etc/passwd',
      '/novnc//etc/passwd',
      '/elsewhere',
    ]) {
      const r = await get(f, path);
      assert.equal(r.status, 404, path);
      assert.ok(!r.body.includes('"name"'), path);
    }
  });

  it('refuses other methods', async () => {
    assert.equal((await get(f, '/vnc_lite.html', {}, 'POST')).status, 405);
  });
});
