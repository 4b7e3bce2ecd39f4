/**
 * End to end with the real `openstack` CLI: choosing the host (issue 5) on a fake-driver cloud
 * of 20 hosts, run as a user would: the operator builds three availability zones and an SSD
 * aggregate with `aggregate create --zone / add host / set --property`, and every server then
 * lands where zones, aggregate extra specs, anti-affinity groups, disabled services and explicit
 * targets require. Placements are read back as an admin with `server show` / `server list --long`.
 *
 * Layout: az1 = host1..host6, az2 = host7..host13, the default zone nova = host14..host20;
 * aggregate ssd (no zone, ssd=true) = host2, host3, host15; flavors ssd.tiny (needs ssd=true) and
 * filler (100000 MB of a fake host's 131072). The steps run in order, each on the
 * state the previous left; CLI calls within a step run a few at a time.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, describeCli, startCloudProcess, type CliResult, type CloudProcess } from '../helpers/process.js';

const HOSTS = 20;
const host = (i: number) => `host${i}`;
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => host(a + i));
const AZ1 = range(1, 6);
const AZ2 = range(7, 13);
const NOVA = range(14, 20);
const SSD = ['host2', 'host3', 'host15'];
const BOOT = ['--flavor', 'm1.tiny', '--image', 'tiny-linux', '--nic', 'none'];

let cloud: CloudProcess | undefined;

function c(): CloudProcess {
  assert.ok(cloud, 'the cloud did not start (see the before hook)');
  return cloud;
}

/** Runs the CLI (as admin) and asserts it succeeded; returns the result (with .json for -f json). */
async function ok(args: string[]): Promise<CliResult> {
  const r = await c().cli(args);
  assert.equal(r.code, 0, describeCli(r));
  return r;
}

/**
 * Runs several CLI commands in one `openstack` process (its interactive mode, fed on stdin),
 * which saves the Python start-up of each; asserts that none of them printed an error.
 */
function script(lines: string[][]): Promise<string> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_')) env[k] = v;
  env.OS_CLIENT_CONFIG_FILE = c().cloudsYaml;
  env.OS_CLOUD = 'nova-ts'; // as an option, cmd2 would also read it as a command to run
  env.PYTHONWARNINGS = 'ignore';
  const input = lines.map((l) => l.map((a) => (/^[\w.:=/-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')).join('\n') + '\n';
  return new Promise((resolve, reject) => {
    const child = spawn('openstack', [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0 || err.trim()) reject(new Error(`openstack script exited ${code}:\n${input}\nstderr: ${err}\nstdout: ${out.slice(0, 2000)}`));
      else resolve(out);
    });
    child.stdin.end(input);
  });
}

interface Placed {
  name: string;
  status: string;
  host: string;
  zone: string;
}

/**
 * Polls `server list --long` until `count` servers whose name matches `prefix` are ACTIVE;
 * fails with the fault of any that went to ERROR.
 */
async function placed(prefix: string, count: number, timeoutMs = 20_000): Promise<Placed[]> {
  const end = Date.now() + timeoutMs;
  let last: Placed[] = [];
  while (Date.now() < end) {
    const rows = (await ok(['server', 'list', '--long', '--name', `^${prefix}`, '-f', 'json'])).json as any[];
    last = rows.map((r) => ({ name: r.Name, status: r.Status, host: r.Host, zone: r['Availability Zone'] }));
    const failed = last.find((s) => s.status === 'ERROR');
    if (failed) {
      const shown = (await ok(['server', 'show', failed.name, '-f', 'json'])).json;
      assert.fail(`${failed.name} went to ERROR: ${JSON.stringify(shown.fault)}`);
    }
    if (last.length === count && last.every((s) => s.status === 'ACTIVE')) return last.sort((a, b) => a.name.localeCompare(b.name));
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${count} servers ${prefix}* not ACTIVE within ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

/** Host and zone of one server, as `server show -c` prints them to an admin. */
async function whereIs(name: string): Promise<{ host: string; zone: string }> {
  const s = (await ok(['server', 'show', name, '-c', 'OS-EXT-SRV-ATTR:host', '-c', 'OS-EXT-AZ:availability_zone', '-f', 'json'])).json;
  return { host: s['OS-EXT-SRV-ATTR:host'], zone: s['OS-EXT-AZ:availability_zone'] };
}

before(async () => {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'ensure-system-packages.mjs'), 'python3-openstackclient'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `could not install python3-openstackclient:\n${r.stdout}\n${r.stderr}`);
  cloud = await startCloudProcess({ fakeHosts: HOSTS });
});

after(async () => {
  if (cloud) await cloud.stop();
});

describe('openstack CLI: zones, aggregates, groups and host choice on 20 fake hosts', { timeout: 180_000 }, () => {
  test('the operator builds az1, az2 and an ssd aggregate; availability zone list --long shows them', async () => {
    // One CLI process for the whole set-up (see script()); each result is checked below.
    await script([
      ['quota', 'set', '--instances', '100', '--cores', '200', '--ram', '2000000', 'admin'],
      ['aggregate', 'create', '--zone', 'az1', 'agg1'],
      ['aggregate', 'create', '--zone', 'az2', 'agg2'],
      ['aggregate', 'create', 'ssd'],
      ...AZ1.map((h) => ['aggregate', 'add', 'host', 'agg1', h]),
      ...AZ2.map((h) => ['aggregate', 'add', 'host', 'agg2', h]),
      ...SSD.map((h) => ['aggregate', 'add', 'host', 'ssd', h]),
      ['aggregate', 'set', '--property', 'ssd=true', 'ssd'],
      ['flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', '--property', 'aggregate_instance_extra_specs:ssd=true', 'ssd.tiny'],
      ['flavor', 'create', '--ram', '100000', '--disk', '1', '--vcpus', '1', 'filler'],
    ]);
    const ssd = (await ok(['aggregate', 'show', 'ssd', '-f', 'json'])).json;
    assert.deepEqual([...ssd.hosts].sort(), [...SSD].sort());
    assert.match(JSON.stringify(ssd.properties), /ssd[^,]*true/);
    const agg1 = (await ok(['aggregate', 'show', 'agg1', '-f', 'json'])).json;
    assert.equal(agg1.availability_zone, 'az1');

    const zones = (await ok(['availability', 'zone', 'list', '--long', '-f', 'json'])).json as any[];
    const computeHosts = (zone: string) =>
      zones.filter((z) => z['Zone Name'] === zone && z['Service Name'] === 'nova-compute').map((z) => z['Host Name']).sort();
    assert.deepEqual(computeHosts('az1'), [...AZ1].sort(), JSON.stringify(zones));
    assert.deepEqual(computeHosts('az2'), [...AZ2].sort());
    assert.deepEqual(computeHosts('nova'), [...NOVA].sort());
    for (const z of zones.filter((x) => x['Service Name'] === 'nova-compute')) {
      assert.equal(z['Zone Status'], 'available', JSON.stringify(z));
      assert.match(z['Service Status'], /enabled :-\) /, JSON.stringify(z));
    }
  });

  test('hypervisor list and show', async () => {
    const hyps = (await ok(['hypervisor', 'list', '-f', 'json'])).json as any[];
    assert.equal(hyps.length, HOSTS);
    assert.deepEqual(hyps.map((h) => h['Hypervisor Hostname']).sort(), range(1, HOSTS).sort());
    assert.ok(hyps.every((h) => h.State === 'up'), JSON.stringify(hyps));
    const h5 = (await ok(['hypervisor', 'show', 'host5', '-f', 'json'])).json;
    assert.equal(h5.hypervisor_hostname, 'host5');
    assert.equal(h5.hypervisor_type, 'fake');
    assert.equal(h5.state, 'up');
    assert.equal(h5.status, 'enabled');
    assert.equal(h5.service_host, 'host5');
  });

  test('server create --availability-zone az1 lands in az1, az2 in az2', async () => {
    await Promise.all([
      ok(['server', 'create', ...BOOT, '--availability-zone', 'az1', '--min', '4', '--max', '4', 'inaz1']),
      ok(['server', 'create', ...BOOT, '--availability-zone', 'az2', '--min', '3', '--max', '3', 'inaz2']),
    ]);
    for (const s of await placed('inaz1', 4)) {
      assert.ok(AZ1.includes(s.host), `${s.name} on ${s.host}, not in az1`);
      assert.equal(s.zone, 'az1');
    }
    for (const s of await placed('inaz2', 3)) assert.ok(AZ2.includes(s.host), `${s.name} on ${s.host}, not in az2`);
    assert.deepEqual(await whereIs('inaz1-1').then((w) => w.zone), 'az1');
  });

  test('a flavor with aggregate_instance_extra_specs:ssd=true lands only on the ssd hosts', async () => {
    const flavor = (await ok(['flavor', 'show', 'ssd.tiny', '-f', 'json'])).json;
    assert.match(JSON.stringify(flavor.properties), /aggregate_instance_extra_specs:ssd[^,]*true/);
    await ok(['server', 'create', '--flavor', 'ssd.tiny', '--image', 'tiny-linux', '--nic', 'none', '--min', '6', '--max', '6', 'fast']);
    const servers = await placed('fast', 6);
    for (const s of servers) assert.ok(SSD.includes(s.host), `${s.name} on ${s.host}, not an ssd host`);
    const one = await whereIs(servers[0].name);
    assert.ok(SSD.includes(one.host));
    assert.equal(one.zone, one.host === 'host15' ? 'nova' : 'az1', 'the zone is the one of the host it landed on');
  });

  test('members of an anti-affinity group land on distinct hosts, even where one host is far emptier', async () => {
    // Fill six of az2's seven hosts with a 100000 MB server: the RAM weigher then prefers the
    // seventh for every server, so only the anti-affinity filter can spread the group.
    await ok(['server', 'create', '--flavor', 'filler', '--image', 'tiny-linux', '--nic', 'none', '--availability-zone', 'az2', '--min', '6', '--max', '6', 'filler']);
    const fillers = await placed('filler', 6);
    const emptiest = AZ2.filter((h) => !fillers.some((f) => f.host === h));
    assert.equal(emptiest.length, 1, `fillers on ${fillers.map((f) => f.host).join(', ')}`);

    const group = (await ok(['server', 'group', 'create', '--policy', 'anti-affinity', 'spread', '-f', 'json'])).json;
    assert.equal(group.policy ?? group.policies, 'anti-affinity');
    await ok(['server', 'create', ...BOOT, '--availability-zone', 'az2', '--hint', `group=${group.id}`, '--min', '3', '--max', '3', 'apart']);
    const hosts = (await placed('apart', 3)).map((s) => s.host);
    assert.equal(new Set(hosts).size, 3, `anti-affinity members share hosts: ${hosts.join(', ')}`);
    assert.ok(hosts.includes(emptiest[0]), `one member on the emptiest host ${emptiest[0]}: ${hosts.join(', ')}`);
    assert.ok(hosts.every((h) => AZ2.includes(h)));
    const members = (await ok(['server', 'group', 'show', 'spread', '-f', 'json'])).json.members;
    assert.equal(String(members).split(/[,\s]+/).filter(Boolean).length, 3, JSON.stringify(members));
  });

  test('a disabled compute service gets no new servers', async () => {
    await ok(['compute', 'service', 'set', '--disable', '--disable-reason', 'disk replacement', 'host4', 'nova-compute']);
    const svc = (await ok(['compute', 'service', 'list', '--host', 'host4', '--service', 'nova-compute', '--long', '-f', 'json'])).json[0];
    assert.equal(svc.Status, 'disabled');
    assert.equal(svc['Disabled Reason'], 'disk replacement');
    // As in Nova, the detailed zone list leaves disabled services out.
    const zones = (await ok(['availability', 'zone', 'list', '--long', '-f', 'json'])).json as any[];
    const az1 = zones.filter((z) => z['Zone Name'] === 'az1' && z['Service Name'] === 'nova-compute').map((z) => z['Host Name']);
    assert.deepEqual(az1.sort(), AZ1.filter((h) => h !== 'host4').sort(), JSON.stringify(zones));
    // Eight boots into the six-host az1: with host4 out, none may land there.
    await ok(['server', 'create', ...BOOT, '--availability-zone', 'az1', '--min', '8', '--max', '8', 'nodisk']);
    const servers = await placed('nodisk', 8);
    for (const s of servers) assert.notEqual(s.host, 'host4', `${s.name} landed on the disabled host4`);
    assert.ok(servers.every((s) => AZ1.includes(s.host)));
    const h4 = (await ok(['hypervisor', 'show', 'host4', '-f', 'json'])).json;
    assert.equal(h4.status, 'disabled');
  });

  test('--availability-zone az:host and 2.74 --host target one host', async () => {
    await Promise.all([
      ok(['server', 'create', ...BOOT, '--availability-zone', 'az2:host9', 'pinned-az']),
      ok(['--os-compute-api-version', '2.74', 'server', 'create', ...BOOT, '--host', 'host17', 'pinned-host']),
    ]);
    await placed('pinned', 2);
    assert.deepEqual(await whereIs('pinned-az'), { host: 'host9', zone: 'az2' });
    assert.deepEqual(await whereIs('pinned-host'), { host: 'host17', zone: 'nova' });
  });

  test('usage show counts every server the project booted', async () => {
    const usage = (await ok(['usage', 'show', '--project', 'admin', '-f', 'json'])).json;
    // -f json prints the server usages themselves where the table prints their count.
    const servers = usage.Servers as { name: string; state: string; flavor: string }[];
    assert.equal(servers.length, 4 + 3 + 6 + 6 + 3 + 8 + 2, JSON.stringify(usage).slice(0, 500));
    assert.ok(servers.every((s) => s.state === 'active'));
    assert.equal(servers.filter((s) => s.flavor === 'ssd.tiny').length, 6);
    assert.ok(Number(usage['RAM MB-Hours']) > 0, JSON.stringify(usage));
  });
});
