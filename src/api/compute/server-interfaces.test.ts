import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IMAGE_ID, placeOnHost, startKit, type Kit } from './server-test-kit.js';
import { fakeNetwork, type FakeNetwork } from './network-test-double.js';
import { mountServerInterfaces } from './server-interfaces.js';

describe('os-interface (router level, network test double, recording compute host)', () => {
  let k: Kit;
  let net: FakeNetwork;
  let priv: { id: string };
  let shared: { id: string };
  const message = (r: { body: any }) => (Object.values(r.body ?? {})[0] as any)?.message;
  const boot = async (networks: unknown = 'none') => {
    const r = await k.call(k.demo, 'POST', '/v2.1/servers', { server: { name: 'vm', imageRef: IMAGE_ID, flavorRef: '1', networks } }, '2.42');
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await placeOnHost(k.sql, r.body.server.id);
    return r.body.server.id as string;
  };
  const P = (id: string) => `/v2.1/servers/${id}/os-interface`;
  /** What the compute host's manager does: the network client binds the port, network_info is recorded. */
  const recordNetworkInfo = async (uuid: string) => {
    const vifs = await net.client.instanceNetworkInfo({ instance_uuid: uuid });
    await k.sql.run('UPDATE instances SET network_info = ? WHERE uuid = ?', [JSON.stringify(vifs), uuid]);
  };

  before(async () => {
    k = await startKit({ mounts: [mountServerInterfaces] });
    await k.sql.run("INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('p-demo', 'instances', 100), ('p-demo', 'cores', 100)");
    net = fakeNetwork(k.sql);
    shared = await net.addNetwork({ name: 'shared', project_id: 'p-admin', shared: true, cidr: '198.18.0.0/24' });
    k.replies.set('attach_interface', async (a) => {
      const vif = await net.client.attachInterface({ instance_uuid: a.instance.uuid, project_id: a.instance.project_id, hostname: 'vm', host: 'host1', net_id: a.net_id, port_id: a.port_id, fixed_ip: a.fixed_ip });
      await recordNetworkInfo(a.instance.uuid);
      return vif;
    });
    k.replies.set('detach_interface', async (a) => {
      await net.client.detachInterface({ instance_uuid: a.instance.uuid, port_id: a.port_id });
      await recordNetworkInfo(a.instance.uuid);
    });
  });
  after(async () => k.close());

  it('without a network service the API answers 501', async () => {
    const id = await boot();
    const r = await k.call(k.demo, 'GET', P(id));
    assert.equal(r.status, 501);
    assert.equal(message(r), 'Networking is not available');
    k.deps.network = net;
  });

  it('attach on the only network, list, show; Nova shapes; the action is recorded and the host called', async () => {
    const id = await boot();
    assert.deepEqual((await k.call(k.demo, 'GET', P(id))).body, { interfaceAttachments: [] });
    const r = await k.call(k.demo, 'POST', P(id), { interfaceAttachment: {} });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const att = r.body.interfaceAttachment;
    assert.deepEqual(Object.keys(att).sort(), ['fixed_ips', 'mac_addr', 'net_id', 'port_id', 'port_state']);
    assert.equal(att.net_id, shared.id);
    assert.equal(att.port_state, 'ACTIVE');
    assert.match(att.fixed_ips[0].ip_address, /^198\.18\.0\./);
    assert.ok(att.fixed_ips[0].subnet_id);
    const call = k.sent.find((s) => s.method === 'attach_interface' && s.args.instance.uuid === id);
    assert.equal(call?.topic, 'compute.host1');
    assert.equal(call?.args.net_id, shared.id);
    const list = await k.call(k.demo, 'GET', P(id));
    assert.deepEqual(list.body.interfaceAttachments, [att]);
    assert.deepEqual((await k.call(k.demo, 'GET', `${P(id)}/${att.port_id}`)).body.interfaceAttachment, att);
    const action = await k.sql.get<{ action: string }>("SELECT action FROM instance_actions WHERE instance_uuid = ? AND action = 'attach_interface'", [id]);
    assert.ok(action);
    // Another server's port is not this server's interface.
    const other = await boot();
    const wrong = await k.call(k.demo, 'GET', `${P(other)}/${att.port_id}`);
    assert.equal(wrong.status, 404);
    assert.equal(message(wrong), `Instance ${other} does not have a port with id ${att.port_id}`);
  });

  it('request checks: both ids, fixed IP without network, unknown network or port, ports in use, taken IPs', async () => {
    priv = await net.addNetwork({ name: 'demo-net', project_id: 'p-demo', cidr: '198.18.1.0/24' });
    const id = await boot();
    const post = (a: unknown, mv = '2.1') => k.call(k.demo, 'POST', P(id), { interfaceAttachment: a }, mv);
    const free = await net.addPort({ network_id: priv.id, project_id: 'p-demo' });
    const busy = await net.addPort({ network_id: priv.id, project_id: 'p-demo', ip: '198.18.1.99', device_id: 'x' });
    assert.equal(message(await post({ net_id: priv.id, port_id: free.id })), 'Must not input both network_id and port_id');
    assert.equal(message(await post({ fixed_ips: [{ ip_address: '198.18.1.5' }] })), 'Must input network_id when request IP address');
    const ambiguous = await post({});
    assert.equal(ambiguous.status, 400);
    assert.match(message(ambiguous), /Multiple possible networks found/);
    const missing = '6d1f3a52-9b1c-4a5e-8d0f-2c3b4a5d6e7f';
    assert.equal((await post({ net_id: missing })).status, 404);
    assert.equal((await post({ port_id: missing })).status, 404);
    const inUse = await post({ port_id: busy.id });
    assert.equal(inUse.status, 409);
    assert.equal(message(inUse), `Port ${busy.id} is still in use.`);
    const taken = await post({ net_id: priv.id, fixed_ips: [{ ip_address: '198.18.1.99' }] });
    assert.equal(taken.status, 409);
    assert.equal(message(taken), 'Fixed IP address 198.18.1.99 is already in use on instance x.');
    assert.equal((await post({ net_id: priv.id, fixed_ips: [{ ip_address: '10.0.0.1' }] })).status, 400);
    assert.equal((await post({ net_id: priv.id, tag: 'a' })).status, 400, 'tag only from 2.49');
    assert.equal((await post({ net_id: priv.id, extra: 1 })).status, 400);
    const mine = await post({ port_id: free.id });
    assert.equal(mine.status, 200);
    assert.equal(mine.body.interfaceAttachment.port_id, free.id);
    const fixed = await post({ net_id: priv.id, fixed_ips: [{ ip_address: '198.18.1.42' }] });
    assert.deepEqual(fixed.body.interfaceAttachment.fixed_ips.map((f: any) => f.ip_address), ['198.18.1.42']);
  });

  it('tags: given at attach from 2.49, shown from 2.70 (also those of the create request)', async () => {
    const id = await boot([{ uuid: priv.id, tag: 'boot-nic' }]);
    // The host made the create-time port.
    await net.client.attachInterface({ instance_uuid: id, project_id: 'p-demo', hostname: 'vm', host: 'host1', net_id: priv.id });
    await recordNetworkInfo(id);
    const r = await k.call(k.demo, 'POST', P(id), { interfaceAttachment: { net_id: shared.id, tag: 'hot' } }, '2.49');
    assert.equal(r.status, 200);
    assert.equal(r.body.interfaceAttachment.tag, undefined, 'no tag in the view before 2.70');
    const list = await k.call(k.demo, 'GET', P(id), undefined, '2.70');
    assert.deepEqual(list.body.interfaceAttachments.map((a: any) => [a.net_id, a.tag]).sort(), [[priv.id, 'boot-nic'], [shared.id, 'hot']].sort());
    const one = await k.call(k.demo, 'GET', `${P(id)}/${r.body.interfaceAttachment.port_id}`, undefined, '2.70');
    assert.equal(one.body.interfaceAttachment.tag, 'hot');
  });

  it('states, locks and policy: stopped is fine, building/locked 409, readers 403, other projects 404', async () => {
    const id = await boot();
    await k.sql.run("UPDATE instances SET vm_state = 'stopped' WHERE uuid = ?", [id]);
    assert.equal((await k.call(k.demo, 'POST', P(id), { interfaceAttachment: { net_id: priv.id } })).status, 200);
    await k.sql.run("UPDATE instances SET vm_state = 'suspended' WHERE uuid = ?", [id]);
    const susp = await k.call(k.demo, 'POST', P(id), { interfaceAttachment: { net_id: priv.id } });
    assert.equal(susp.status, 409);
    assert.equal(message(susp), `Cannot 'attach_interface' instance ${id} while it is in vm_state suspended`);
    await k.sql.run("UPDATE instances SET vm_state = 'active', locked = 1, locked_by = 'admin' WHERE uuid = ?", [id]);
    assert.equal((await k.call(k.demo, 'POST', P(id), { interfaceAttachment: { net_id: priv.id } })).status, 409);
    const ports = (await k.call(k.demo, 'GET', P(id))).body.interfaceAttachments;
    assert.equal((await k.call(k.demo, 'DELETE', `${P(id)}/${ports[0].port_id}`)).status, 409);
    await k.sql.run('UPDATE instances SET locked = 0 WHERE uuid = ?', [id]);
    assert.equal((await k.call(k.reader, 'POST', P(id), { interfaceAttachment: { net_id: priv.id } })).status, 403);
    assert.equal((await k.call(k.reader, 'GET', P(id))).status, 200, 'readers may list');
    assert.equal((await k.call(k.other, 'GET', P(id))).status, 404);
    assert.equal((await k.call(k.other, 'POST', P(id), { interfaceAttachment: {} })).status, 404);
  });

  it('detach: 404 for a port not attached, 202 then the port is gone from the list', async () => {
    const id = await boot();
    const att = (await k.call(k.demo, 'POST', P(id), { interfaceAttachment: { net_id: priv.id } })).body.interfaceAttachment;
    const stray = await net.addPort({ network_id: priv.id, project_id: 'p-demo' });
    const nope = await k.call(k.demo, 'DELETE', `${P(id)}/${stray.id}`);
    assert.equal(nope.status, 404);
    assert.equal(message(nope), `Port ${stray.id} is not attached`);
    assert.equal((await k.call(k.demo, 'DELETE', `${P(id)}/${att.port_id}`)).status, 202);
    const call = k.sent.find((s) => s.method === 'detach_interface' && s.args.port_id === att.port_id);
    assert.equal(call?.topic, 'compute.host1');
    assert.deepEqual((await k.call(k.demo, 'GET', P(id))).body.interfaceAttachments, []);
    assert.equal((await k.call(k.demo, 'GET', `${P(id)}/${att.port_id}`)).status, 404);
  });
});
