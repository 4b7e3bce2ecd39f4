import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProxy } from './metadata-proxy.js';
import { proxyArgv, proxyScript } from './metadata-proxy-process.js';

const dir = mkdtempSync(join(tmpdir(), 'nts-mdproxy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function get(port: number, path: string, headers: Record<string, string> = {}, body?: string) {
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: body ? 'POST' : 'GET', headers }, (res) => {
      let b = '';
      res.setEncoding('utf8').on('data', (d: string) => (b += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: b, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('forwards method, path, headers and body to the socket, replacing X-Forwarded-For; streams the answer back', async () => {
  const socket = join(dir, 'md.sock');
  const upstream = createServer((req, res) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => {
      res.writeHead(201, { 'x-up': 'yes' });
      res.end(JSON.stringify({ method: req.method, url: req.url, xff: req.headers['x-forwarded-for'], host: req.headers.host, b }));
    });
  });
  await new Promise<void>((r) => upstream.listen(socket, r));
  const { port, close } = await runProxy({ host: '127.0.0.1', port: 0, socket, pidFile: null });
  try {
    const r = await get(port, '/openstack/latest/user_data?x=1', { 'X-Forwarded-For': '6.6.6.6', host: 'meta' }, 'hello');
    assert.equal(r.status, 201);
    assert.equal(r.headers['x-up'], 'yes');
    assert.deepEqual(JSON.parse(r.body), { method: 'POST', url: '/openstack/latest/user_data?x=1', xff: '127.0.0.1', host: 'meta', b: 'hello' });
    await new Promise((res) => upstream.close(res));
    const down = await get(port, '/latest/meta-data/');
    assert.equal(down.status, 502);
    assert.match(down.body, /not available/);
  } finally {
    await close();
  }
});

test('the proxy is run from the file beside the agent, with node and its loader flags', () => {
  assert.match(proxyScript(), /metadata-proxy\.ts$/);
  const argv = proxyArgv('/run/md.sock', '/var/lib/x');
  assert.equal(argv[0], process.execPath);
  assert.ok(argv.includes(proxyScript()));
  assert.deepEqual(argv.slice(-6), ['--listen', '169.254.169.254:80', '--socket', '/run/md.sock', '--pid-file', '/var/lib/x/metadata-proxy.pid']);
  assert.ok(!argv.some((a) => a.startsWith('--test')));
});
