import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IMAGE_ID, startKit, type Kit } from './server-test-kit.js';
import { fakeNetwork, type FakeNetwork } from './network-test-double.js';
import { cidrContains } from './server-networks.js';

describe('server create: requested networks and security groups (router level, network test double)', () => {
  let k: Kit;
  let net: FakeNetwork;
  let priv: { id: string };
  let shared: { id: string };
  const boot = (server: Record<string, unknown>, mv = '2.37', ctx?: Kit['demo']) =>
    k.call(ctx ?? k.demo, 'POST', '/v2.1/servers', { server: { name: 'vm', imageRef: IMAGE_ID, flavorRef: '1', ...server } }, mv);
  const message = (r: { body: any }) => (Object.values(r.body ?? {})[0] as any)?.message;
  const count = async () => (await k.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM instances'))!.n;

  before(async () => {
    k = await startKit();
    net = fakeNetwork(k.sql);
    shared = await net.addNetwork({ name: 'shared', project_id: 'p-admin', shared: true, cidr: '198.18.0.0/24' });
    priv = await net.addNetwork({ name: 'demo-net', project_id: 'p-demo', cidr: '198.18.1.0/24' });
  });
  after(async () => k.close());

  it('without a network service only none and auto are accepted', async () => {
    assert.equal((await boot({ networks: 'none' })).status, 202);
    assert.equal((await boot({ networks: 'auto' })).status, 202);
    const r = await boot({ networks: [{ uuid: priv.id }] });
    assert.equal(r.status, 400);
    assert.equal(message(r), 'Networking is not available');
  });

  it('with the network service: visible networks pass, unknown and other projects\' networks are 400', async () => {
    k.deps.network = net;
    assert.equal((await boot({ networks: [{ uuid: priv.id }, { uuid: shared.id }, { uuid: priv.id }] })).status, 202, 'duplicates allowed as Nova');
    const theirs = await net.addNetwork({ name: 'other-net', project_id: 'p-other', cidr: '198.18.2.0/24' });
    const before = await count();
    const r = await boot({ networks: [{ uuid: theirs.id }] });
    assert.equal(r.status, 400);
    assert.equal(message(r), `Network ${theirs.id} could not be found.`);
    const missing = '0b7e9a38-5a1c-4c8e-9b7e-0e0f3c8d2a11';
    assert.equal(message(await boot({ networks: [{ uuid: missing }] })), `Network ${missing} could not be found.`);
    const bare = await net.addNetwork({ name: 'no-subnet', project_id: 'p-demo', cidr: null });
    assert.equal(message(await boot({ networks: [{ uuid: bare.id }] })), `Network ${bare.id} requires a subnet in order to boot instances on.`);
    assert.equal(await count(), before, 'nothing recorded on a refused create');
  });

  it('auto, and networks omitted before 2.37, are 409 when the project sees several networks', async () => {
    const r = await boot({ networks: 'auto' });
    assert.equal(r.status, 409);
    assert.equal(message(r), 'Multiple possible networks found, use a Network ID to be more specific.');
    assert.equal((await boot({}, '2.1')).status, 409);
    assert.equal((await boot({ networks: 'none' })).status, 202);
    // A project that sees only the shared network boots on it without naming it.
    const lone = { ...k.other, projectId: 'p-lone', userId: 'u-lone' };
    assert.equal((await boot({ networks: 'auto' }, '2.37', lone)).status, 202);
  });

  it('ports: must exist and be visible (400), unbound (409), alone when max_count > 1 (400)', async () => {
    const free = await net.addPort({ network_id: priv.id, project_id: 'p-demo' });
    const bound = await net.addPort({ network_id: priv.id, project_id: 'p-demo', device_id: 'some-instance' });
    const theirs = await net.addPort({ network_id: shared.id, project_id: 'p-other' });
    assert.equal((await boot({ networks: [{ port: free.id }] })).status, 202);
    const inUse = await boot({ networks: [{ port: bound.id }] });
    assert.equal(inUse.status, 409);
    assert.equal(message(inUse), `Port ${bound.id} is still in use.`);
    const hidden = await boot({ networks: [{ port: theirs.id }] });
    assert.equal(hidden.status, 400);
    assert.equal(message(hidden), `Port id ${theirs.id} could not be found.`);
    const multi = await boot({ networks: [{ port: free.id }], max_count: 2 });
    assert.equal(multi.status, 400);
    assert.match(message(multi), /max_count cannot be greater than 1 if an port_id is specified/);
    const twice = await boot({ networks: [{ port: free.id }, { port: free.id }] });
    assert.equal(twice.status, 409);
  });

  it('fixed IPs: IPv4 inside a subnet of the network and free; not with max_count > 1', async () => {
    assert.equal((await boot({ networks: [{ uuid: priv.id, fixed_ip: '198.18.1.77' }] })).status, 202);
    const outside = await boot({ networks: [{ uuid: priv.id, fixed_ip: '198.18.9.7' }] });
    assert.equal(outside.status, 400);
    assert.match(message(outside), /198\.18\.9\.7 is not a valid IP for any of the subnets/);
    const v6 = await boot({ networks: [{ uuid: priv.id, fixed_ip: 'fd00::5' }] });
    assert.equal(v6.status, 400);
    assert.match(message(v6), /IPv4 only/);
    const taken = await net.addPort({ network_id: priv.id, project_id: 'p-demo', ip: '198.18.1.50', device_id: 'inst-1' });
    const r = await boot({ networks: [{ uuid: priv.id, fixed_ip: '198.18.1.50' }] });
    assert.equal(r.status, 400);
    assert.equal(message(r), 'Fixed IP address 198.18.1.50 is already in use on instance inst-1.');
    assert.ok(taken);
    const multi = await boot({ networks: [{ uuid: priv.id, fixed_ip: '198.18.1.78' }], max_count: 2 });
    assert.match(message(multi), /max_count cannot be greater than 1 if an fixed_ip is specified/);
    const withPort = await boot({ networks: [{ port: (await net.addPort({ network_id: priv.id, project_id: 'p-demo' })).id, fixed_ip: '198.18.1.79' }] });
    assert.equal(withPort.status, 400);
  });

  it('security groups: known names pass and are stored, unknown is 400 naming the project', async () => {
    await net.api.createSecurityGroup(k.demo, { name: 'web' });
    const ok = await boot({ networks: 'none', security_groups: [{ name: 'web' }, { name: 'default' }] });
    assert.equal(ok.status, 202);
    const row = await k.sql.get<{ security_groups: string }>('SELECT security_groups FROM instances WHERE uuid = ?', [ok.body.server.id]);
    assert.deepEqual(JSON.parse(row!.security_groups), ['web', 'default']);
    const bad = await boot({ networks: 'none', security_groups: [{ name: 'nope' }] });
    assert.equal(bad.status, 400);
    assert.equal(message(bad), 'Security group nope not found for project p-demo.');
    const otherOnes = await boot({ networks: 'none', security_groups: [{ name: 'web' }] }, '2.37', k.other);
    assert.equal(otherOnes.status, 400, "another project's group is not usable");
  });

  it('cidrContains', () => {
    assert.ok(cidrContains('198.18.0.0/15', '198.19.255.1'));
    assert.ok(!cidrContains('198.18.0.0/16', '198.19.0.1'));
    assert.ok(cidrContains('0.0.0.0/0', '8.8.8.8'));
    assert.ok(!cidrContains('10.0.0.0/8', 'fd00::1'));
  });
});
