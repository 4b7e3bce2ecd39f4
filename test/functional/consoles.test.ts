/**
 * Remote consoles through the Compute API of a whole cloud (fake driver): remote-consoles and
 * the old os-get*Console actions answer URLs of the cloud's console proxy carrying a token;
 * admins see what a token opens with os-console-auth-tokens, others get 403; Nova's 404, 409
 * and 400s; tokens expire after --console-token-ttl and go with their server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, waitFor, type Client, type TestCloud } from '../helpers/cloud.js';

const C = '/compute/v2.1';
const mvh = (mv: string) => ({ 'openstack-api-version': `compute ${mv}` });

/** The token and instance of a console URL (noVNC: inside `path`; serial: the query). */
function tokenOf(url: string): { token: string; instance: string } {
  const u = new URL(url);
  const q = new URLSearchParams((u.searchParams.get('path') ?? u.search).replace(/^\?/, ''));
  return { token: q.get('token')!, instance: q.get('instance_uuid')! };
}

async function bootActive(tc: TestCloud, c: Client, name: string): Promise<string> {
  const imageId = (await c.get('/image/v2/images')).body.images.find((i: any) => i.status === 'active').id;
  const r = await c.post(`${C}/servers`, { server: { name, flavorRef: '1', imageRef: imageId, networks: 'none' } }, mvh('2.37'));
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const id = r.body.server.id as string;
  await waitFor(async () => {
    const s = (await c.get(`${C}/servers/${id}`)).body.server;
    return s?.status === 'ACTIVE' && s['OS-EXT-STS:task_state'] === null;
  }, `${name} ACTIVE`);
  return id;
}

describe('remote consoles (Compute API, fake driver)', () => {
  let tc: TestCloud;
  let vm: string;
  const rc = (id: string, body: unknown, c: Client = tc.demo, mv = '2.6') => c.post(`${C}/servers/${id}/remote-consoles`, body, mvh(mv));
  const act = (id: string, body: unknown, c: Client = tc.demo, mv = '2.1') => c.post(`${C}/servers/${id}/action`, body, mvh(mv));
  const showToken = (token: string, c: Client = tc.admin, mv = '2.31') => c.get(`${C}/os-console-auth-tokens/${encodeURIComponent(token)}`, mvh(mv));

  before(async () => {
    tc = await startTestCloud();
    vm = await bootActive(tc, tc.demo, 'console-vm');
  });
  after(async () => tc?.close());

  it('novnc: a vnc_lite.html URL of the console proxy whose token admins can look up (403 for demo)', async () => {
    const r = await rc(vm, { remote_console: { protocol: 'vnc', type: 'novnc' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const { protocol, type, url } = r.body.remote_console;
    assert.deepEqual([protocol, type], ['vnc', 'novnc']);
    assert.ok(url.startsWith(`${tc.cloud.consoleUrl}/vnc_lite.html?path=%3Ftoken%3D`), url);
    const { token, instance } = tokenOf(url);
    assert.equal(instance, vm);
    assert.match(token, /^[A-Za-z0-9_-]{22}$/);

    const show = await showToken(token);
    assert.equal(show.status, 200, JSON.stringify(show.body));
    assert.equal(show.body.console.instance_uuid, vm);
    const host = (await tc.admin.get(`${C}/servers/${vm}`)).body.server['OS-EXT-SRV-ATTR:host'];
    assert.equal(show.body.console.host, host);
    assert.equal(typeof show.body.console.internal_access_path, 'string', 'the fake driver serves VNC on a unix socket');
    assert.equal(show.body.console.port, null);
    assert.equal((await showToken(token, tc.demo)).status, 403);
    assert.equal((await showToken(token, tc.admin, '2.30')).status, 401, 'below 2.31 only rdp-html5 tokens are shown');
    assert.equal((await showToken('made-up-token')).status, 404);
  });

  it('serial: a ws:// URL at the proxy root; the list extension shows it without the token; DELETE revokes', async () => {
    const r = await rc(vm, { remote_console: { protocol: 'serial', type: 'serial' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const url: string = r.body.remote_console.url;
    const proxy = new URL(tc.cloud.consoleUrl);
    assert.equal(url, `ws://${proxy.host}/?token=${tokenOf(url).token}&instance_uuid=${vm}`);
    const { token } = tokenOf(url);
    const list = await tc.admin.get(`${C}/os-console-auth-tokens?instance_uuid=${vm}`);
    assert.equal(list.status, 200);
    const serial = list.body.console_auth_tokens.filter((t: any) => t.console_type === 'serial');
    assert.equal(serial.length, 1);
    assert.ok(!JSON.stringify(list.body).includes(token));
    assert.equal((await tc.demo.get(`${C}/os-console-auth-tokens`)).status, 403);
    assert.equal((await tc.admin.delete(`${C}/os-console-auth-tokens/${token}`)).status, 204);
    assert.equal((await showToken(token)).status, 404);
  });

  it('old actions at 2.1: {"console": {type, url}}; 404 from 2.6 on; spice and rdp 400', async () => {
    const vnc = await act(vm, { 'os-getVNCConsole': { type: 'novnc' } });
    assert.equal(vnc.status, 200, JSON.stringify(vnc.body));
    assert.equal(vnc.body.console.type, 'novnc');
    assert.ok(vnc.body.console.url.startsWith(`${tc.cloud.consoleUrl}/vnc_lite.html?path=`));
    const serial = await act(vm, { 'os-getSerialConsole': { type: 'serial' } });
    assert.equal(serial.status, 200);
    assert.match(serial.body.console.url, /^ws:\/\/127\.0\.0\.1:\d+\/\?token=/);
    assert.equal((await act(vm, { 'os-getVNCConsole': { type: 'novnc' } }, tc.demo, '2.6')).status, 404);
    const spice = await act(vm, { 'os-getSPICEConsole': { type: 'spice-html5' } });
    assert.equal(spice.status, 400);
    assert.match(spice.body.badRequest.message, /^Unavailable console type spice-html5\./);
    assert.equal((await act(vm, { 'os-getRDPConsole': { type: 'rdp-html5' } })).status, 400);
    assert.equal((await rc(vm, { remote_console: { protocol: 'vnc', type: 'novnc' } }, tc.demo, '2.5')).status, 404);
  });

  it('400 for bad bodies and console types nova-ts does not serve, with the reason', async () => {
    const cases: [unknown, RegExp][] = [
      [{ remote_console: { protocol: 'spice', type: 'spice-html5' } }, /^Unavailable console type spice-html5\./],
      [{ remote_console: { protocol: 'vnc', type: 'serial' } }, /^Invalid console type serial$/],
      [{ remote_console: { protocol: 'vnc' } }, /'type' is a required property/],
      [{ remote_console: { protocol: 'ssh', type: 'serial' } }, /Invalid input for field\/attribute protocol\. Value: ssh\./],
      [{ remote_console: { protocol: 'vnc', type: 'novnc', extra: true } }, /'extra' was unexpected/],
      [{ console: {} }, /'remote_console' is a required property|'console' was unexpected/],
      ['not json', /./],
    ];
    for (const [body, msg] of cases) {
      const r = await rc(vm, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.body.badRequest.message, msg, JSON.stringify(body));
    }
  });

  it('404 for an unknown or another project\'s server; 409 for a SHUTOFF server', async () => {
    const body = { remote_console: { protocol: 'vnc', type: 'novnc' } };
    const missing = await rc('8d7b5e2c-0000-4000-8000-000000000000', body);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.itemNotFound.message, 'Instance 8d7b5e2c-0000-4000-8000-000000000000 could not be found.');
    const mine = await bootActive(tc, tc.admin, 'admin-vm');
    assert.equal((await rc(mine, body, tc.demo)).status, 404);

    const off = await bootActive(tc, tc.demo, 'off-vm');
    assert.equal((await act(off, { 'os-stop': null })).status, 202);
    await waitFor(async () => (await tc.demo.get(`${C}/servers/${off}`)).body.server.status === 'SHUTOFF', 'SHUTOFF');
    const r = await rc(off, body);
    assert.equal(r.status, 409);
    assert.match(r.body.conflictingRequest.message, new RegExp(`^Instance ${off} is not ready`));
    assert.equal((await act(off, { 'os-getSerialConsole': { type: 'serial' } })).status, 409);
  });

  it('deleting a server revokes its console tokens', async () => {
    const id = await bootActive(tc, tc.demo, 'short-lived');
    const { token } = tokenOf((await rc(id, { remote_console: { protocol: 'serial', type: 'serial' } })).body.remote_console.url);
    assert.equal((await showToken(token)).status, 200);
    assert.equal((await tc.demo.delete(`${C}/servers/${id}`)).status, 204);
    await waitFor(async () => (await tc.demo.get(`${C}/servers/${id}`)).status === 404, 'server gone');
    assert.equal((await showToken(token)).status, 404);
  });
});

describe('console tokens expire (console token ttl 2 s)', () => {
  let tc: TestCloud;
  before(async () => {
    tc = await startTestCloud({ consoles: { listenHost: '127.0.0.1', listenPort: 0, tokenTtlSec: 2 } });
  });
  after(async () => tc?.close());

  it('a token is shown while valid and is 404 "Token not found" once expired', async () => {
    const id = await bootActive(tc, tc.demo, 'ttl-vm');
    const r = await tc.demo.post(`${C}/servers/${id}/remote-consoles`, { remote_console: { protocol: 'vnc', type: 'novnc' } }, mvh('2.6'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const { token } = tokenOf(r.body.remote_console.url);
    const path = `${C}/os-console-auth-tokens/${token}`;
    const first = await tc.admin.get(path, mvh('2.31'));
    // expires_at is in whole seconds: a 2 s token is valid for at least 1 s after it is issued.
    assert.equal(first.status, 200);
    await new Promise((res) => setTimeout(res, 2100));
    const later = await tc.admin.get(path, mvh('2.31'));
    assert.equal(later.status, 404);
    assert.equal(later.body.itemNotFound.message, 'Token not found');
    assert.deepEqual((await tc.admin.get(`${C}/os-console-auth-tokens?instance_uuid=${id}`)).body.console_auth_tokens, []);
  });
});
