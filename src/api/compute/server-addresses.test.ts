import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IMAGE_ID, placeOnHost, startKit, type Kit } from './server-test-kit.js';
import type { Vif } from '../../network/types.js';

/** A VIF shaped as the network service hands it out (src/network/types.ts). */
function vif(id: string, mac: string, label: string, ips: string[]): Vif {
  return {
    id, address: mac, devname: `tap${id.slice(0, 11)}`, type: 'bridge', preserve_on_delete: false,
    network: {
      id: `net-${label}`, label, bridge: 'brqx', mtu: 1500,
      subnets: [{ cidr: '198.18.0.0/24', gateway: '198.18.0.1', dns: [], ips: ips.map((address) => ({ address, type: 'fixed' as const })), dhcp_server: '198.18.0.1', routes: [] }],
    },
  };
}

describe('server addresses from network_info (Vif)', () => {
  let k: Kit;
  before(async () => {
    k = await startKit();
  });
  after(async () => k.close());

  it('addresses carry OS-EXT-IPS:type and OS-EXT-IPS-MAC:mac_addr per fixed IP, grouped by network label; /ips drops them', async () => {
    const r = await k.call(k.demo, 'POST', '/v2.1/servers', { server: { name: 'addr', imageRef: IMAGE_ID, flavorRef: '1' } });
    const id = r.body.server.id;
    await placeOnHost(k.sql, id);
    const info = [vif('p1', 'fa:16:3e:00:00:01', 'private', ['198.18.0.5']), vif('p2', 'fa:16:3e:00:00:02', 'private', ['198.18.0.6']), vif('p3', 'fa:16:3e:00:00:03', 'db', ['198.18.0.7'])];
    await k.sql.run('UPDATE instances SET network_info = ? WHERE uuid = ?', [JSON.stringify(info), id]);
    const show = await k.call(k.demo, 'GET', `/v2.1/servers/${id}`);
    assert.deepEqual(show.body.server.addresses, {
      private: [
        { version: 4, addr: '198.18.0.5', 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:01' },
        { version: 4, addr: '198.18.0.6', 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:02' },
      ],
      db: [{ version: 4, addr: '198.18.0.7', 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:03' }],
    });
    const ips = await k.call(k.demo, 'GET', `/v2.1/servers/${id}/ips/db`);
    assert.deepEqual(ips.body, { db: [{ version: 4, addr: '198.18.0.7' }] });
  });
});
