import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IMAGE_ID, placeOnHost, startKit, type Kit } from './server-test-kit.js';
import type { Vif } from '../../network/types.js';

/** One VIF on network `private` with one fixed IP. */
function vif(mac: string, ip: string): Vif {
  return {
    id: 'p1', address: mac, devname: 'tapp1', type: 'bridge', preserve_on_delete: false,
    network: {
      id: 'net-private', label: 'private', bridge: 'brqx', mtu: 1500,
      subnets: [{ cidr: '198.18.0.0/24', gateway: '198.18.0.1', dns: [], ips: [{ address: ip, type: 'fixed' }], dhcp_server: '198.18.0.1', routes: [] }],
    },
  };
}

describe('server view addresses: extended in show/detail and 2.75+ bodies, plain in update/rebuild bodies before 2.75', () => {
  let k: Kit;
  let id: string;
  const plain = { private: [{ version: 4, addr: '198.18.0.9' }] };
  const extended = { private: [{ version: 4, addr: '198.18.0.9', 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:09' }] };

  before(async () => {
    k = await startKit();
    const r = await k.call(k.demo, 'POST', '/v2.1/servers', { server: { name: 'addr', imageRef: IMAGE_ID, flavorRef: '1' } });
    id = r.body.server.id;
    await placeOnHost(k.sql, id);
    await k.sql.run('UPDATE instances SET network_info = ? WHERE uuid = ?', [JSON.stringify([vif('fa:16:3e:00:00:09', '198.18.0.9')]), id]);
  });
  after(async () => k.close());

  it('GET show and detail carry OS-EXT-IPS:type and OS-EXT-IPS-MAC:mac_addr', async () => {
    assert.deepEqual((await k.call(k.demo, 'GET', `/v2.1/servers/${id}`)).body.server.addresses, extended);
    const detail = await k.call(k.demo, 'GET', '/v2.1/servers/detail');
    assert.deepEqual(detail.body.servers.find((s: any) => s.id === id).addresses, extended);
  });

  it('update and rebuild bodies: only addr and version before 2.75, extended from 2.75', async () => {
    for (const mv of ['2.1', '2.47', '2.74']) {
      const u = await k.call(k.demo, 'PUT', `/v2.1/servers/${id}`, { server: { name: `u-${mv}` } }, mv);
      assert.equal(u.status, 200, JSON.stringify(u.body));
      assert.deepEqual(u.body.server.addresses, plain, `update at ${mv}`);
      await placeOnHost(k.sql, id);
      const rb = await k.call(k.demo, 'POST', `/v2.1/servers/${id}/action`, { rebuild: { imageRef: IMAGE_ID } }, mv);
      assert.equal(rb.status, 202, JSON.stringify(rb.body));
      assert.deepEqual(rb.body.server.addresses, plain, `rebuild at ${mv}`);
      await placeOnHost(k.sql, id);
    }
    const u = await k.call(k.demo, 'PUT', `/v2.1/servers/${id}`, { server: { name: 'u-2.75' } }, '2.75');
    assert.deepEqual(u.body.server.addresses, extended);
    const rb = await k.call(k.demo, 'POST', `/v2.1/servers/${id}/action`, { rebuild: { imageRef: IMAGE_ID } }, '2.75');
    assert.equal(rb.status, 202, JSON.stringify(rb.body));
    assert.deepEqual(rb.body.server.addresses, extended);
  });
});
