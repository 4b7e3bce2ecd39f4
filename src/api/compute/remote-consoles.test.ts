import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { conflict, notFound } from '../../errors.js';
import { ConsoleTokenStore } from '../../console/token-store.js';
import { IMAGE_ID, placeOnHost, startKit, type Kit } from './server-test-kit.js';
import { consoleUrl, mountRemoteConsoles, servedConsoleType } from './remote-consoles.js';
import { mountConsoleAuthTokens } from './console-auth-tokens.js';

const PROXY = 'http://127.0.0.1:6080';
const SOCKET = '/run/nova-ts/fake/vnc.sock';

describe('consoleUrl and servedConsoleType', () => {
  it('novnc: vnc_lite.html with the websocket query encoded in path', () => {
    const url = consoleUrl('http://h:6080/', 'novnc', 'tok-_A', 'u-1');
    assert.equal(url, 'http://h:6080/vnc_lite.html?path=%3Ftoken%3Dtok-_A%26instance_uuid%3Du-1');
    const path = new URL(url).searchParams.get('path');
    assert.equal(path, '?token=tok-_A&instance_uuid=u-1');
  });

  it('serial: ws:// (wss:// for https) at the proxy root', () => {
    assert.equal(consoleUrl('http://h:6080', 'serial', 'T', 'U'), 'ws://h:6080/?token=T&instance_uuid=U');
    assert.equal(consoleUrl('https://h:6443', 'serial', 'T', 'U'), 'wss://h:6443/?token=T&instance_uuid=U');
  });

  it('protocols and types: served, unavailable, invalid', () => {
    assert.equal(servedConsoleType('vnc', 'novnc'), 'novnc');
    assert.equal(servedConsoleType('serial', 'serial'), 'serial');
    assert.throws(() => servedConsoleType('spice', 'spice-html5'), /^Invalid: Unavailable console type spice-html5\./);
    assert.throws(() => servedConsoleType('rdp', 'rdp-html5'), /Unavailable console type rdp-html5\./);
    assert.throws(() => servedConsoleType('mks', 'webmks'), /Unavailable console type webmks\./);
    assert.throws(() => servedConsoleType('vnc', 'serial'), /^Invalid: Invalid console type serial$/);
    assert.throws(() => servedConsoleType('vnc', 'xvpvnc'), /Invalid console type xvpvnc/);
  });
});

describe('remote consoles and os-console-auth-tokens (router level)', () => {
  let k: Kit;
  const boot = async (vmState = 'active') => {
    const r = await k.call(k.demo, 'POST', '/v2.1/servers', { server: { name: 'vm', imageRef: IMAGE_ID, flavorRef: '1' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await placeOnHost(k.sql, r.body.server.id, vmState, vmState === 'active' ? 1 : 4);
    return r.body.server.id as string;
  };
  const rc = (id: string, body: unknown, ctx = k.demo, mv = '2.6') => k.call(ctx, 'POST', `/v2.1/servers/${id}/remote-consoles`, body, mv);
  const act = (id: string, body: unknown, ctx = k.demo, mv = '2.1') => k.call(ctx, 'POST', `/v2.1/servers/${id}/action`, body, mv);
  const tokenOf = (url: string) => {
    const u = new URL(url);
    const q = u.searchParams.get('path') ?? u.search;
    return new URLSearchParams(q.replace(/^\?/, '')).get('token')!;
  };

  before(async () => {
    k = await startKit({ mounts: [mountRemoteConsoles, mountConsoleAuthTokens] });
    k.deps.consoles = { proxyUrl: () => PROXY, tokenTtlSec: 600 };
    await k.sql.run("INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('p-demo', 'instances', 100), ('p-demo', 'cores', 100)");
    k.replies.set('get_console_connect_info', (a) =>
      a.console_type === 'novnc'
        ? { host: 'host1', port: null, internal_access_path: SOCKET }
        : { host: 'host1', port: 10000, internal_access_path: null, address: '127.0.0.1' },
    );
  });
  after(async () => k.close());

  it('novnc: a URL whose token is stored hashed, bound to the instance, shown to admins at 2.31', async () => {
    const id = await boot();
    const r = await rc(id, { remote_console: { protocol: 'vnc', type: 'novnc' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.remote_console.protocol, 'vnc');
    assert.equal(r.body.remote_console.type, 'novnc');
    const url: string = r.body.remote_console.url;
    assert.ok(url.startsWith(`${PROXY}/vnc_lite.html?path=%3Ftoken%3D`), url);
    assert.ok(url.endsWith(`%26instance_uuid%3D${id}`), url);
    const token = tokenOf(url);
    assert.match(token, /^[A-Za-z0-9_-]{22}$/);
    const stored = await k.sql.all<any>('SELECT * FROM console_auth_tokens WHERE instance_uuid = ?', [id]);
    assert.equal(stored.length, 1);
    assert.ok(!JSON.stringify(stored).includes(token), 'the token itself is never stored');
    const call = k.sent.find((s) => s.method === 'get_console_connect_info' && s.args.instance.uuid === id);
    assert.equal(call?.topic, 'compute.host1');
    assert.equal(call?.args.console_type, 'novnc');

    const show = await k.call(k.admin, 'GET', `/v2.1/os-console-auth-tokens/${token}`, undefined, '2.31');
    assert.equal(show.status, 200);
    assert.deepEqual(show.body, { console: { instance_uuid: id, host: 'host1', port: null, internal_access_path: SOCKET } });
    const old = await k.call(k.admin, 'GET', `/v2.1/os-console-auth-tokens/${token}`, undefined, '2.30');
    assert.equal(old.status, 401);
    assert.equal(old.body.unauthorized.message, 'The requested console type details are not accessible');
    assert.equal((await k.call(k.demo, 'GET', `/v2.1/os-console-auth-tokens/${token}`, undefined, '2.31')).status, 403);
    const unknown = await k.call(k.admin, 'GET', '/v2.1/os-console-auth-tokens/nope', undefined, '2.31');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.itemNotFound.message, 'Token not found');
  });

  it('serial: ws:// URL; the list extension shows records without tokens; DELETE revokes', async () => {
    const id = await boot();
    const r = await rc(id, { remote_console: { protocol: 'serial', type: 'serial' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const url: string = r.body.remote_console.url;
    assert.match(url, new RegExp(`^ws://127\\.0\\.0\\.1:6080/\\?token=[A-Za-z0-9_-]{22}&instance_uuid=${id}$`));
    const token = tokenOf(url);
    const list = await k.call(k.admin, 'GET', `/v2.1/os-console-auth-tokens?instance_uuid=${id}`);
    assert.equal(list.status, 200);
    assert.equal(list.body.console_auth_tokens.length, 1);
    const t = list.body.console_auth_tokens[0];
    assert.equal(t.console_type, 'serial');
    assert.equal(t.port, 10000);
    assert.equal(t.access_url_base, PROXY);
    assert.ok(!JSON.stringify(list.body).includes(token));
    assert.equal((await k.call(k.admin, 'GET', '/v2.1/os-console-auth-tokens?instance_uuid=junk')).status, 400);
    assert.equal((await k.call(k.demo, 'GET', '/v2.1/os-console-auth-tokens')).status, 403);
    assert.equal((await k.call(k.admin, 'DELETE', `/v2.1/os-console-auth-tokens/${token}`)).status, 204);
    assert.equal((await k.call(k.admin, 'DELETE', `/v2.1/os-console-auth-tokens/${token}`)).status, 404);
    assert.equal((await k.call(k.admin, 'GET', `/v2.1/os-console-auth-tokens/${token}`, undefined, '2.31')).status, 404);
  });

  it('bad bodies: 400 with the field named; unavailable and invalid types', async () => {
    const id = await boot();
    const cases: [unknown, RegExp][] = [
      [{}, /'remote_console' is a required property/],
      [{ remote_console: { protocol: 'vnc' } }, /'type' is a required property/],
      [{ remote_console: { protocol: 'telnet', type: 'novnc' } }, /field\/attribute protocol\. Value: telnet\. telnet is not one of/],
      [{ remote_console: { protocol: 'vnc', type: 'novnc', x: 1 } }, /'x' was unexpected/],
      [{ remote_console: { protocol: 'mks', type: 'webmks' } }, /protocol\. Value: mks/],
      [{ remote_console: { protocol: 'spice', type: 'spice-html5' } }, /^Unavailable console type spice-html5\./],
      [{ remote_console: { protocol: 'rdp', type: 'rdp-html5' } }, /^Unavailable console type rdp-html5\./],
      [{ remote_console: { protocol: 'vnc', type: 'serial' } }, /^Invalid console type serial$/],
      [{ remote_console: { protocol: 'serial', type: 'novnc' } }, /^Invalid console type novnc$/],
    ];
    for (const [body, msg] of cases) {
      const r = await rc(id, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.body.badRequest.message, msg, JSON.stringify(body));
    }
    const mks = await rc(id, { remote_console: { protocol: 'mks', type: 'webmks' } }, k.demo, '2.8');
    assert.match(mks.body.badRequest.message, /^Unavailable console type webmks\./);
    assert.equal((await k.sql.all('SELECT 1 FROM console_auth_tokens WHERE instance_uuid = ?', [id])).length, 0, 'nothing issued');
  });

  it('404 for unknown and other projects\' servers and below 2.6; 409 when not running; 403 for readers', async () => {
    const body = { remote_console: { protocol: 'vnc', type: 'novnc' } };
    const missing = await rc('00000000-0000-0000-0000-000000000000', body);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.itemNotFound.message, 'Instance 00000000-0000-0000-0000-000000000000 could not be found.');
    const id = await boot();
    assert.equal((await rc(id, body, k.other)).status, 404);
    assert.equal((await rc(id, body, k.reader)).status, 403);
    assert.equal((await rc(id, body, k.demo, '2.5')).status, 404);
    const off = await boot('stopped');
    const r = await rc(off, body);
    assert.equal(r.status, 409);
    assert.match(r.body.conflictingRequest.message, new RegExp(`^Instance ${off} is not ready: .*vm_state stopped`));
    await k.sql.run("UPDATE instances SET host = NULL, vm_state = 'building' WHERE uuid = ?", [off]);
    assert.equal((await rc(off, body)).body.conflictingRequest.message, `Instance ${off} is not ready`);
    await k.sql.run("UPDATE instances SET locked = 1, locked_by = 'admin', task_state = 'deleting', vm_state = 'active', host = 'host1' WHERE uuid = ?", [id]);
    assert.equal((await rc(id, body)).body.conflictingRequest.message, `Cannot 'get_vnc_console' instance ${id} while it is in task_state deleting`);
    await k.sql.run('UPDATE instances SET task_state = NULL WHERE uuid = ?', [id]);
    assert.equal((await rc(id, body)).status, 200, 'a locked server still gives its console');
  });

  it('errors from the compute host: guest gone is 409, a driver conflict passes through', async () => {
    const id = await boot();
    const body = { remote_console: { protocol: 'serial', type: 'serial' } };
    k.replies.set('get_console_connect_info', () => {
      throw notFound(`Instance ${id} could not be found.`);
    });
    try {
      const gone = await rc(id, body);
      assert.equal(gone.status, 409);
      assert.match(gone.body.conflictingRequest.message, new RegExp(`^Instance ${id} is not ready: `));
      k.replies.set('get_console_connect_info', () => {
        throw conflict('The guest was started without a serial console: stop and start it.');
      });
      const c = await rc(id, body);
      assert.equal(c.status, 409);
      assert.equal(c.body.conflictingRequest.message, 'The guest was started without a serial console: stop and start it.');
      assert.equal((await k.sql.all('SELECT 1 FROM console_auth_tokens WHERE instance_uuid = ?', [id])).length, 0, 'nothing issued');
    } finally {
      k.replies.set('get_console_connect_info', () => ({ host: 'host1', port: null, internal_access_path: SOCKET }));
    }
  });

  it('old actions at 2.1-2.5: {"console": {type, url}}; 404 from 2.6; spice and rdp unavailable', async () => {
    const id = await boot();
    const vnc = await act(id, { 'os-getVNCConsole': { type: 'novnc' } });
    assert.equal(vnc.status, 200, JSON.stringify(vnc.body));
    assert.equal(vnc.body.console.type, 'novnc');
    assert.match(vnc.body.console.url, /^http:\/\/127\.0\.0\.1:6080\/vnc_lite\.html\?path=/);
    const serial = await act(id, { 'os-getSerialConsole': { type: 'serial' } }, k.demo, '2.5');
    assert.equal(serial.status, 200);
    assert.match(serial.body.console.url, /^ws:\/\//);
    assert.equal((await act(id, { 'os-getVNCConsole': { type: 'novnc' } }, k.demo, '2.6')).status, 404);
    assert.equal((await act(id, { 'os-getSerialConsole': { type: 'serial' } }, k.demo, '2.93')).status, 404);
    const spice = await act(id, { 'os-getSPICEConsole': { type: 'spice-html5' } });
    assert.equal(spice.status, 400);
    assert.match(spice.body.badRequest.message, /^Unavailable console type spice-html5\./);
    assert.equal((await act(id, { 'os-getRDPConsole': { type: 'rdp-html5' } })).status, 400);
    const bad = await act(id, { 'os-getVNCConsole': { type: 'serial' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.badRequest.message, /field\/attribute type\. Value: serial\. serial is not one of \["novnc","xvpvnc"\]/);
    assert.match((await act(id, { 'os-getVNCConsole': {} })).body.badRequest.message, /'type' is a required property/);
    assert.equal((await act(id, { 'os-getVNCConsole': null })).status, 400);
    assert.match((await act(id, { 'os-getVNCConsole': { type: 'xvpvnc' } })).body.badRequest.message, /^Invalid console type xvpvnc$/);
  });

  it('no console proxy: 501 saying so; deleting the server revokes its tokens', async () => {
    const id = await boot();
    const r = await rc(id, { remote_console: { protocol: 'vnc', type: 'novnc' } });
    const token = tokenOf(r.body.remote_console.url);
    const saved = k.deps.consoles;
    k.deps.consoles = undefined;
    try {
      const none = await rc(id, { remote_console: { protocol: 'vnc', type: 'novnc' } });
      assert.equal(none.status, 501);
      assert.match(none.body.notImplemented.message, /no console proxy/);
    } finally {
      k.deps.consoles = saved;
    }
    await k.sql.run("UPDATE instances SET host = NULL WHERE uuid = ?", [id]);
    assert.equal((await k.call(k.demo, 'DELETE', `/v2.1/servers/${id}`)).status, 204);
    assert.equal(await new ConsoleTokenStore(k.sql).find(token), undefined);
  });
});
