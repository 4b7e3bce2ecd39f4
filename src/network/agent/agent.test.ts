/**
 * The Linux network agent against real namespaces. Guests are namespaces of this test's own
 * with one end of a veth pair; the other end, in the agent's namespace, is the port's devname
 * (a persistent tap without QEMU has no carrier). Everything is named nts-test-<pid>-* and
 * removed in after(), also on failure. Needs root, ip, iptables, dnsmasq; DHCP needs busybox.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { InProcessBus } from '../../bus/in-process.js';
import { AGENT_TOPIC, bridgeName, tapName, type AgentPort, type AgentRule, type HostNetworkState } from '../types.js';
import { createLinuxAgent, type LinuxNetworkAgent } from './agent.js';
import { cmdline } from './processes.js';

const canRun =
  process.getuid?.() === 0 && ['ip', 'iptables-restore', 'dnsmasq'].every((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
const hasBusybox = spawnSync('sh', ['-c', 'command -v busybox']).status === 0;
const skip = canRun ? false : 'needs root, ip, iptables and dnsmasq';

const PREFIX = `nts-test-${process.pid}`;
const HOST = 'agent-test-host';

function sh(cmd: string, args: string[], timeout = 10_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}
async function must(cmd: string, args: string[]): Promise<string> {
  const r = await sh(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.out}`);
  return r.out;
}
const inNs = (ns: string, code: string, timeout = 5000) => sh('ip', ['netns', 'exec', ns, process.execPath, '-e', code], timeout);

/** True when a TCP connection from the guest to ip:port gets the server's greeting within 0.6 s. */
async function tcpOk(ns: string, ip: string, port: number, localAddress?: string): Promise<boolean> {
  const r = await inNs(
    ns,
    `const s=require('net').connect({host:'${ip}',port:${port}${localAddress ? `,localAddress:'${localAddress}'` : ''}});` +
      `s.setTimeout(600,()=>process.exit(3));s.on('data',()=>process.exit(0));s.on('error',()=>process.exit(4));`,
  );
  return r.code === 0;
}
const pingOk = async (ns: string, ip: string) => (await sh('ip', ['netns', 'exec', ns, 'busybox', 'ping', '-c', '1', '-W', '1', ip])).code === 0;

const rule = (protocol: string | null, port: number | null, remote: string[] | null, portMax = port): AgentRule => ({
  ethertype: 'IPv4',
  protocol,
  port_min: port,
  port_max: portMax,
  remote,
});
const ANY: AgentRule = rule(null, null, null);

describe('linux network agent', { skip }, () => {
  const agentNs = `${PREFIX}-agent`;
  const guests = { a: `${PREFIX}-ga`, b: `${PREFIX}-gb`, c: `${PREFIX}-gc` };
  const dir = mkdtempSync(join(tmpdir(), 'nts-agent-'));
  const stateDir = join(dir, 'state');
  const metaSock = join(dir, 'metadata.sock');
  const bus = new InProcessBus();
  const n1 = randomUUID();
  const n2 = randomUUID();
  const [s1, s2] = [randomUUID(), randomUUID()];
  const port = (id: string, net: string, subnet: string, mac: string, ip: string, devname: string, host: string): AgentPort => ({
    id,
    network_id: net,
    mac,
    devname,
    fixed_ips: [{ subnet_id: subnet, ip_address: ip }],
    hostname: host,
    device_id: randomUUID(),
    port_security: true,
    ingress: [],
    egress: [ANY],
  });
  const A = port(randomUUID(), n1, s1, 'fa:16:3e:00:00:0a', '198.18.0.10', 'vetha', 'guest-a');
  const B = port(randomUUID(), n1, s1, 'fa:16:3e:00:00:0b', '198.18.0.11', 'vethb', 'guest-b');
  const C = port(randomUUID(), n2, s2, 'fa:16:3e:00:00:0c', '198.18.1.10', 'vethc', 'guest-c');
  C.ingress = [ANY];
  const subnet = (id: string, cidr: string, gw: string) => ({
    id,
    cidr,
    gateway_ip: gw,
    bridge_address: gw,
    enable_dhcp: true,
    dns_nameservers: [],
    host_routes: [],
  });
  const state: HostNetworkState = {
    host: HOST,
    networks: [
      { id: n1, bridge: bridgeName(n1), mtu: 1500, subnets: [subnet(s1, '198.18.0.0/24', '198.18.0.1')] },
      { id: n2, bridge: bridgeName(n2), mtu: 1500, subnets: [subnet(s2, '198.18.1.0/24', '198.18.1.1')] },
    ],
    ports: [A, B, C],
  };
  const source = { hostState: async () => structuredClone(state) };
  const logs: string[] = [];
  const makeAgent = () =>
    createLinuxAgent({ host: HOST, netns: agentNs, bus, source, metadataSocket: metaSock, stateDir, log: (m) => logs.push(m) });
  let agent: LinuxNetworkAgent | null = null;
  let web: ChildProcess | null = null;
  let meta: Server | null = null;

  before(async () => {
    await must('ip', ['netns', 'add', agentNs]);
    for (const [g, p] of [
      [guests.a, A],
      [guests.b, B],
      [guests.c, C],
    ] as const) {
      await must('ip', ['netns', 'add', g]);
      await must('ip', ['-n', agentNs, 'link', 'add', p.devname, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', g]);
      await must('ip', ['-n', g, 'link', 'set', 'eth0', 'address', p.mac, 'up']);
      await must('ip', ['-n', g, 'link', 'set', 'lo', 'up']);
    }
    agent = makeAgent();
    await agent.start();
  });

  after(async () => {
    web?.kill('SIGKILL');
    meta?.close();
    try {
      await agent?.stop({ removeNamespace: true });
    } finally {
      const left = (await sh('ip', ['netns', 'list'])).out.split('\n').map((l) => l.split(' ')[0]);
      for (const ns of left) if (ns.startsWith(PREFIX)) await sh('ip', ['netns', 'del', ns]);
      await bus.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('start plumbs bridges with the gateway addresses and a dnsmasq per network; a second sync changes nothing', async () => {
    const links = JSON.parse(await must('ip', ['-n', agentNs, '-j', 'addr', 'show'])) as any[];
    const br1 = links.find((l) => l.ifname === bridgeName(n1));
    assert.ok(br1, 'bridge of network 1');
    assert.ok(br1.addr_info.some((a: any) => a.local === '198.18.0.1' && a.prefixlen === 24));
    assert.equal(links.find((l) => l.ifname === 'vetha')?.master, bridgeName(n1));
    assert.equal(links.find((l) => l.ifname === 'vethc')?.master, bridgeName(n2));
    assert.equal((await must('ip', ['netns', 'exec', agentNs, 'cat', '/proc/sys/net/ipv4/ip_forward'])).trim(), '0');
    const hosts = readFileSync(join(stateDir, `dnsmasq-${n1}.hosts`), 'utf8');
    assert.match(hosts, /fa:16:3e:00:00:0a,198\.18\.0\.10,guest-a/);
    await agent!.sync();
    assert.equal(agent!.lastSync()?.linkChanges, 0);
    assert.equal(agent!.lastSync()?.firewallApplied, false);
  });

  test('a guest gets its fixed IP from dnsmasq', { skip: hasBusybox ? false : 'busybox (udhcpc) is not installed' }, async () => {
    const r = await sh('ip', ['netns', 'exec', guests.a, 'busybox', 'udhcpc', '-n', '-q', '-f', '-i', 'eth0', '-s', '/bin/true', '-t', '5', '-T', '1'], 15_000);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /lease of 198\.18\.0\.10 obtained/);
  });

  test('guest traffic follows the ingress rules; rule changes take effect within 2 s', async (t) => {
    for (const [g, p] of [
      [guests.a, A],
      [guests.b, B],
      [guests.c, C],
    ] as const) {
      const gw = p === C ? '198.18.1.1' : '198.18.0.1';
      await must('ip', ['-n', g, 'addr', 'add', `${p.fixed_ips[0].ip_address}/24`, 'dev', 'eth0']);
      await must('ip', ['-n', g, 'route', 'add', 'default', 'via', gw]);
    }
    web = spawn('ip', ['netns', 'exec', guests.b, process.execPath, '-e', `require('net').createServer(s=>{s.write('hi\\n');s.on('data',d=>s.write(d));s.on('error',()=>{})}).listen(80,()=>console.log('ready'))`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((r) => web!.stdout!.once('data', r));
    assert.equal(await tcpOk(guests.a, '198.18.0.11', 80), false, 'B admits nothing yet');
    B.ingress = [rule('tcp', 80, ['198.18.0.10/32'])];
    await agent!.sync();
    assert.equal(await tcpOk(guests.a, '198.18.0.11', 80), true, 'B admits A on tcp/80');
    assert.equal(await tcpOk(guests.a, '198.18.0.11', 81), false, 'but not on another port');
    if (hasBusybox) {
      assert.equal(await pingOk(guests.a, '198.18.0.11'), false, 'ping not allowed yet');
      B.ingress.push(rule('icmp', null, ['198.18.0.0/24']));
      const before = agent!.lastSync();
      const t0 = Date.now();
      await bus.fanout(AGENT_TOPIC, 'changed', { hosts: [HOST] });
      while (agent!.lastSync() === before && Date.now() - t0 < 2000) await sleep(10);
      t.diagnostic(`rules applied ${Date.now() - t0} ms after the notice`);
      let ok = false;
      while (!ok && Date.now() - t0 < 2000) ok = await pingOk(guests.a, '198.18.0.11');
      assert.ok(ok, `ping allowed within 2 s of the notice (waited ${Date.now() - t0} ms)`);
    } else t.diagnostic('ping part skipped: busybox is not installed');
  });

  test('removing a rule cuts the flows it admitted within 2 s; flows still allowed keep going', { skip: hasBusybox ? false : 'busybox (ping) is not installed' }, async (t) => {
    assert.equal((await must('ip', ['netns', 'exec', agentNs, 'cat', '/proc/sys/net/netfilter/nf_conntrack_tcp_loose'])).trim(), '1');
    const fromA = ['198.18.0.10/32'];
    B.ingress = [rule('tcp', 80, fromA), rule('tcp', 81, fromA), rule('icmp', null, ['198.18.0.0/24'])];
    await agent!.sync();
    const replies: number[] = [];
    const echoes: number[] = [];
    const lines = (c: ChildProcess, match: RegExp, into: number[]) =>
      c.stdout!.setEncoding('utf8').on('data', (d: string) => d.split('\n').forEach((l) => match.test(l) && into.push(Date.now())));
    // A continuous ping and a long-lived TCP session (a line every 200 ms, echoed), both from A to B.
    const ping = spawn('ip', ['netns', 'exec', guests.a, 'busybox', 'ping', '-i', '0.2', '198.18.0.11'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const session = spawn(
      'ip',
      ['netns', 'exec', guests.a, process.execPath, '-e',
        `const s=require('net').connect(80,'198.18.0.11');s.setEncoding('utf8');s.on('data',d=>d.split('\\n').forEach(l=>l==='x'&&console.log('echo')));` +
        `s.on('error',e=>{console.log('error '+e.message);process.exit(1)});s.on('close',()=>process.exit(2));setInterval(()=>s.write('x\\n'),200);`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let sessionExit: number | null = null;
    session.on('exit', (code) => (sessionExit = code));
    try {
      lines(ping, /bytes from/, replies);
      lines(session, /^echo$/, echoes);
      const w0 = Date.now();
      while ((replies.length < 3 || echoes.length < 3) && Date.now() - w0 < 5000) await sleep(20);
      assert.ok(replies.length >= 3 && echoes.length >= 3, `ping (${replies.length} replies) and session (${echoes.length} echoes) running`);

      B.ingress = [rule('tcp', 80, fromA)]; // ICMP and tcp/81 removed
      const before = agent!.lastSync();
      const t0 = Date.now();
      await bus.fanout(AGENT_TOPIC, 'changed', { hosts: [HOST] });
      while (agent!.lastSync() === before && Date.now() - t0 < 2000) await sleep(10);
      const applied = Date.now();
      assert.notEqual(agent!.lastSync(), before, 'synced within 2 s of the notice');
      const flows = agent!.lastSync()!.flowsDeleted;
      t.diagnostic(`rules applied and ${flows} tracked flows deleted ${applied - t0} ms after the notice`);
      assert.ok(flows >= 2, `the ping's and the session's flows were deleted (${flows})`);
      await sleep(1200);
      const last = replies.filter((r) => r >= t0).at(-1);
      t.diagnostic(`last ping reply ${last === undefined ? 'before the notice' : `${last - t0} ms after the notice`}`);
      assert.ok(last === undefined || last - t0 < 2000, 'ping replies stopped within 2 s');
      assert.equal(replies.filter((r) => r > applied + 200).length, 0, 'no ping reply once the rule is gone');
      const after = echoes.filter((e) => e > applied + 200).length;
      t.diagnostic(`${after} echoes on the TCP session in the second after the change`);
      assert.ok(after >= 3, `the allowed TCP session keeps going (${after} echoes)`);
      assert.equal(sessionExit, null, 'the session is still open');
    } finally {
      ping.kill('SIGKILL');
      session.kill('SIGKILL');
    }
  });

  test("another network's guest cannot reach them even when rules admit anyone", async () => {
    B.ingress = [ANY];
    await agent!.sync();
    assert.equal(await tcpOk(guests.a, '198.18.0.11', 80), true);
    assert.equal(await tcpOk(guests.c, '198.18.0.11', 80), false);
  });

  test('no IPv6 between guests, whatever the rules', async () => {
    const ll = JSON.parse(await must('ip', ['-n', guests.b, '-j', '-6', 'addr', 'show', 'dev', 'eth0']))[0].addr_info.find((a: any) => a.scope === 'link')?.local;
    assert.ok(ll, 'guest B has a link-local address');
    assert.equal(B.ingress[0], ANY);
    assert.equal(await tcpOk(guests.a, `${ll}%eth0`, 80), false);
  });

  test('a guest cannot send from an address that is not its own', async () => {
    await must('ip', ['-n', guests.a, 'addr', 'add', '198.18.0.99/24', 'dev', 'eth0']);
    assert.equal(await tcpOk(guests.a, '198.18.0.11', 80, '198.18.0.99'), false);
    assert.equal(await tcpOk(guests.a, '198.18.0.11', 80, '198.18.0.10'), true);
    A.port_security = false;
    await agent!.sync();
    assert.equal(await tcpOk(guests.a, '198.18.0.11', 80, '198.18.0.99'), true, 'no filtering without port security');
    A.port_security = true;
    await agent!.sync();
  });

  test('the metadata proxy forwards with the guest address in X-Forwarded-For; 502 when the service is down', async () => {
    meta = createServer((req, res) => res.end(JSON.stringify({ xff: req.headers['x-forwarded-for'], url: req.url })));
    await new Promise<void>((r) => meta!.listen(metaSock, r));
    const get = `require('http').get({host:'169.254.169.254',path:'/openstack/latest/meta_data.json',headers:{'x-forwarded-for':'6.6.6.6'},timeout:2000},r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>{console.log(r.statusCode+' '+b);process.exit(0)})}).on('error',e=>{console.log('ERR '+e.message);process.exit(1)})`;
    const r = await inNs(guests.a, get);
    assert.equal(r.out.trim(), `200 ${JSON.stringify({ xff: '198.18.0.10', url: '/openstack/latest/meta_data.json' })}`);
    await new Promise((res) => meta!.close(res));
    meta = null;
    const down = await inNs(guests.a, get);
    assert.match(down.out, /^502 /);
  });

  test('removed ports and networks lose their devices, chains and dnsmasq', async () => {
    const pid2 = Number(readFileSync(join(stateDir, `dnsmasq-${n2}.pid`), 'utf8'));
    state.networks = state.networks.filter((n) => n.id !== n2);
    state.ports = state.ports.filter((p) => p !== C);
    const extra = { ...structuredClone(B), id: randomUUID(), devname: '', mac: 'fa:16:3e:00:00:0d' };
    extra.devname = tapName(extra.id);
    state.ports.push(extra);
    await agent!.plug([{ id: extra.id, devname: extra.devname } as any]);
    let links = (await must('ip', ['-n', agentNs, '-o', 'link'])).split('\n').join(' ');
    assert.ok(links.includes(extra.devname), 'tap created');
    assert.ok(logs.includes(`dnsmasq for network ${n1}: reloaded`), 'dnsmasq re-read its hosts file');
    assert.ok(!links.includes(bridgeName(n2)), 'bridge of network 2 deleted');
    assert.equal(cmdline(pid2), null, 'dnsmasq of network 2 stopped');
    state.ports = state.ports.filter((p) => p !== extra);
    await agent!.unplug([{ id: extra.id, devname: extra.devname } as any]);
    links = (await must('ip', ['-n', agentNs, '-o', 'link'])).split('\n').join(' ');
    assert.ok(!links.includes(extra.devname), 'tap deleted');
    const save = await must('ip', ['netns', 'exec', agentNs, 'iptables-save', '-t', 'filter']);
    assert.ok(!save.includes(C.id.replace(/-/g, '').slice(0, 16)), 'chains of the removed port deleted');
  });

  test('a dead dnsmasq is started again by the next sync', async () => {
    const pidFile = join(stateDir, `dnsmasq-${n1}.pid`);
    const old = Number(readFileSync(pidFile, 'utf8'));
    process.kill(old, 'SIGKILL');
    while (cmdline(old)) await sleep(10);
    await agent!.sync();
    const now = Number(readFileSync(pidFile, 'utf8'));
    assert.notEqual(now, old);
    assert.ok(cmdline(now)?.includes(`--pid-file=${pidFile}`));
  });

  test('the namespace itself only answers guests on DHCP, metadata and ICMP', async () => {
    const srv = spawn('ip', ['netns', 'exec', agentNs, process.execPath, '-e', `require('net').createServer(s=>s.end('hi')).listen(2222,()=>console.log('ready'))`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise((r) => srv.stdout!.once('data', r));
      assert.equal(await tcpOk(guests.a, '198.18.0.1', 2222), false);
      assert.equal(await tcpOk(agentNs, '198.18.0.1', 2222), true, 'the service itself runs');
    } finally {
      srv.kill('SIGKILL');
    }
  });

  test('a restarted agent adopts dnsmasq and a running proxy; stop with removeNamespace leaves nothing', async () => {
    const dns = Number(readFileSync(join(stateDir, `dnsmasq-${n1}.pid`), 'utf8'));
    const proxy0 = Number(readFileSync(join(stateDir, 'metadata-proxy.pid'), 'utf8'));
    await agent!.stop();
    assert.ok(existsSync(`/run/netns/${agentNs}`), 'namespace kept');
    assert.ok(cmdline(dns), 'dnsmasq kept');
    assert.equal(cmdline(proxy0), null, 'stop ends the proxy');
    agent = makeAgent();
    await agent.start();
    assert.equal(Number(readFileSync(join(stateDir, `dnsmasq-${n1}.pid`), 'utf8')), dns, 'same dnsmasq');
    const proxy = Number(readFileSync(join(stateDir, 'metadata-proxy.pid'), 'utf8'));
    // As after a crash: a new agent finds the proxy of the previous one running.
    const crashed = agent;
    logs.length = 0;
    agent = makeAgent();
    await agent.start();
    assert.ok(logs.includes(`metadata proxy adopted (pid ${proxy})`), logs.join('; '));
    await crashed.stop();
    await agent.stop({ removeNamespace: true });
    agent = null;
    assert.equal(existsSync(`/run/netns/${agentNs}`), false);
    assert.equal(cmdline(dns), null, 'dnsmasq gone');
    assert.equal(cmdline(proxy), null, 'proxy gone');
    assert.equal(existsSync(stateDir), false, 'state dir removed');
  });
});
