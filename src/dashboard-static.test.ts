/** The dashboard's static serving, on a real HTTP server over a temporary dist directory. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dashboardFallback } from './dashboard-static.js';

async function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer(dashboardFallback(dir));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('dashboard static serving', () => {
  let tmp: string;
  let built: { server: Server; url: string };
  let missing: { server: Server; url: string };
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'nova-ts-dash-'));
    const dist = join(tmp, 'dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>dash</title>');
    writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(dist, 'assets', 'index-abc123.css'), 'body{}');
    writeFileSync(join(tmp, 'secret.txt'), 'secret');
    symlinkSync(join(tmp, 'secret.txt'), join(dist, 'assets', 'leak.txt'));
    built = await serve(dist);
    missing = await serve(join(tmp, 'nothing-here'));
  });
  after(() => {
    built.server.close();
    missing.server.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('serves index.html at / and for client-side routes, revalidated', async () => {
    for (const path of ['/', '/project/instances', '/project/instances/0f1e-uuid?tab=log', '/admin/hypervisors']) {
      const r = await fetch(built.url + path);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(r.headers.get('cache-control'), 'no-cache');
      assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.equal(await r.text(), '<!doctype html><title>dash</title>');
    }
    const first = await fetch(built.url + '/');
    const again = await fetch(built.url + '/', { headers: { 'if-none-match': first.headers.get('etag')! } });
    assert.equal(again.status, 304);
  });

  it('serves hashed assets with their type, cached as immutable; HEAD has no body', async () => {
    const js = await fetch(built.url + '/assets/index-abc123.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(await js.text(), 'console.log(1)');
    const css = await fetch(built.url + '/assets/index-abc123.css', { method: 'HEAD' });
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    assert.equal(css.headers.get('content-length'), '6');
    assert.equal(await css.text(), '');
  });

  it('answers 404 for a missing asset, traversal and symlinks out of dist; 405 for other methods', async () => {
    for (const path of ['/assets/index-old.js', '/favicon.ico', '/assets/leak.txt', '/..%2fsecret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/a%5c..%5csecret.txt']) {
      const r = await fetch(built.url + path);
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(await r.text(), /secret|<title>dash/, path);
    }
    const post = await fetch(built.url + '/project/instances', { method: 'POST', body: '{}' });
    assert.equal(post.status, 405);
  });

  it('never answers an API path with the app', async () => {
    for (const path of ['/compute/v2.1/nope', '/identity', '/image/v2/x', '/volume/v3', '/network/v2.0/z', '/placement/r']) {
      const r = await fetch(built.url + path);
      assert.equal(r.status, 404, path);
      assert.match(r.headers.get('content-type') ?? '', /json/);
    }
  });

  it('says how to build it when dist is missing', async () => {
    const r = await fetch(missing.url + '/project/instances');
    assert.equal(r.status, 503);
    assert.match(await r.text(), /npm run build/);
  });
});
