import type { InstancePayload } from './driver.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contractInstance } from './driver.contract.js';
import { metadataFiles, needsConfigDrive, netmask, networkData, type NetworkInfoVif } from './metadata-content.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample user@host';
const parse = (files: Map<string, Buffer>, path: string): any => {
  const buf = files.get(path);
  assert.ok(buf, `missing ${path}; have ${[...files.keys()].join(', ')}`);
  return JSON.parse(buf.toString('utf8'));
};

test('latest meta_data.json describes the instance in Nova\'s shape', () => {
  const vm = contractInstance({
    display_name: 'web 1',
    hostname: 'web-1',
    project_id: 'proj-a',
    launch_index: 2,
    availability_zone: 'az1',
    metadata: { role: 'web' },
    key_name: 'mykey',
    key_data: KEY,
  });
  const md = parse(metadataFiles(vm), 'openstack/latest/meta_data.json');
  assert.equal(md.uuid, vm.uuid);
  assert.equal(md.name, 'web 1');
  assert.equal(md.hostname, 'web-1.novalocal');
  assert.equal(md.launch_index, 2);
  assert.equal(md.availability_zone, 'az1');
  assert.equal(md.project_id, 'proj-a');
  assert.deepEqual(md.meta, { role: 'web' });
  assert.deepEqual(md.public_keys, { mykey: KEY });
  assert.deepEqual(md.keys, [{ name: 'mykey', type: 'ssh', data: KEY }]);
  assert.deepEqual(md.devices, []);
  assert.deepEqual(md.dedicated_cpus, []);
  assert.equal(Buffer.from(md.random_seed, 'base64').length, 512);
  assert.ok(!Object.keys(md).some((k) => k.includes('-')), 'no dashes in top-level keys');
});

test('without key, metadata or zone the optional fields follow Nova', () => {
  const vm = contractInstance({ metadata: {}, availability_zone: null, key_name: null, key_data: null });
  const md = parse(metadataFiles(vm, { dhcpDomain: '' }), 'openstack/latest/meta_data.json');
  assert.equal('public_keys' in md, false);
  assert.equal('keys' in md, false);
  assert.equal('meta' in md, false, 'Nova leaves out meta when the server has none');
  assert.equal(md.availability_zone, 'nova');
  assert.equal(md.hostname, 'contract-vm');
});

test('user_data is the base64-decoded raw bytes, and absent without user data', () => {
  const raw = Buffer.from([0x23, 0x21, 0x2f, 0x62, 0x69, 0x6e, 0x2f, 0x73, 0x68, 0x0a, 0x00, 0xff, 0xfe]);
  const withUd = metadataFiles(contractInstance({ user_data: raw.toString('base64') }));
  assert.deepEqual(withUd.get('openstack/latest/user_data'), raw);
  assert.deepEqual(withUd.get('openstack/2012-08-10/user_data'), raw);
  const without = metadataFiles(contractInstance({ user_data: null }));
  assert.equal([...without.keys()].some((k) => k.endsWith('/user_data')), false);
});

test('each version directory holds only the files and fields its version defined', () => {
  const files = metadataFiles(contractInstance(), { now: new Date('2030-01-01T00:00:00Z') });
  const folsom = parse(files, 'openstack/2012-08-10/meta_data.json');
  assert.equal('random_seed' in folsom, false);
  assert.equal('project_id' in folsom, false);
  assert.equal(files.has('openstack/2012-08-10/vendor_data.json'), false);
  assert.equal(files.has('openstack/2013-10-17/network_data.json'), false);
  assert.ok('random_seed' in parse(files, 'openstack/2013-04-04/meta_data.json'));
  assert.ok(files.has('openstack/2015-10-15/network_data.json'));
  assert.equal(files.has('openstack/2016-06-30/vendor_data2.json'), false);
  assert.equal('dedicated_cpus' in parse(files, 'openstack/2018-08-27/meta_data.json'), false);
  assert.deepEqual(parse(files, 'openstack/2020-10-14/meta_data.json').dedicated_cpus, []);
  for (const v of ['latest', '2016-10-06']) {
    assert.deepEqual(parse(files, `openstack/${v}/vendor_data.json`), {});
    assert.deepEqual(parse(files, `openstack/${v}/vendor_data2.json`), { static: {} });
    assert.deepEqual(parse(files, `openstack/${v}/network_data.json`), {});
  }
  // Versions dated after `now` are hidden, as in Nova's listing.
  const early = metadataFiles(contractInstance(), { now: new Date('2016-01-01T00:00:00Z') });
  assert.ok(early.has('openstack/2015-10-15/meta_data.json'));
  assert.equal(early.has('openstack/2016-06-30/meta_data.json'), false);
  assert.ok(early.has('openstack/latest/meta_data.json'));
});

test('random_seed differs between documents', () => {
  const files = metadataFiles(contractInstance());
  const a = parse(files, 'openstack/latest/meta_data.json').random_seed;
  const b = parse(files, 'openstack/2013-04-04/meta_data.json').random_seed;
  assert.notEqual(a, b);
});

test('needsConfigDrive: asked for, user data, a key pair, or an image that demands it', () => {
  assert.equal(needsConfigDrive(contractInstance()), false);
  assert.equal(needsConfigDrive(contractInstance({ config_drive: true })), true);
  assert.equal(needsConfigDrive(contractInstance({ user_data: 'aGk=' })), true);
  assert.equal(needsConfigDrive(contractInstance({ key_name: 'k', key_data: KEY })), true);
  const image = { id: 'i', name: 'x', disk_format: 'qcow2', container_format: 'bare', size: 1, min_disk: 0, min_ram: 0 };
  assert.equal(needsConfigDrive(contractInstance({ image: { ...image, properties: { img_config_drive: 'mandatory' } } })), true);
  assert.equal(needsConfigDrive(contractInstance({ image: { ...image, properties: { img_config_drive: 'optional' } } })), false);
});

test('network_data.json maps ports to links, networks and deduplicated DNS services', () => {
  const vifs: NetworkInfoVif[] = [
    {
      id: 'port-1',
      address: 'fa:16:3e:00:00:01',
      devname: 'tapport-1',
      type: 'bridge',
      network: {
        id: 'net-a',
        mtu: 1450,
        subnets: [
          { cidr: '198.18.0.0/24', gateway: '198.18.0.1', dns: ['198.18.0.2'], ips: [{ address: '198.18.0.10' }], routes: [{ cidr: '198.19.0.0/16', gateway: '198.18.0.254' }] },
          { cidr: 'fd00:1::/64', gateway: null, dns: ['198.18.0.2', 'fd00:1::53'], ips: [{ address: 'fd00:1::10' }] },
        ],
      },
    },
    { id: 'port-unbound', address: 'fa:16:3e:00:00:09', network: { id: 'net-x', subnets: [] } },
    {
      id: 'port-2',
      address: 'fa:16:3e:00:00:02',
      type: 'weird',
      network: { id: 'net-b', mtu: 1500, subnets: [{ cidr: '198.18.1.0/24', gateway: '198.18.1.1', dns: [], ips: [{ address: '198.18.1.5' }], dhcp_server: '198.18.1.2' }] },
    },
  ];
  assert.deepEqual(networkData(vifs), {
    links: [
      { id: 'tapport-1', vif_id: 'port-1', type: 'bridge', mtu: 1450, ethernet_mac_address: 'fa:16:3e:00:00:01' },
      { id: 'interface1', vif_id: 'port-2', type: 'phy', mtu: null, ethernet_mac_address: 'fa:16:3e:00:00:02' },
    ],
    networks: [
      {
        id: 'network0',
        type: 'ipv4',
        link: 'tapport-1',
        ip_address: '198.18.0.10',
        netmask: '255.255.255.0',
        routes: [
          { network: '0.0.0.0', netmask: '0.0.0.0', gateway: '198.18.0.1' },
          { network: '198.19.0.0', netmask: '255.255.0.0', gateway: '198.18.0.254' },
        ],
        network_id: 'net-a',
        services: [{ type: 'dns', address: '198.18.0.2' }],
      },
      {
        id: 'network1',
        type: 'ipv6',
        link: 'tapport-1',
        ip_address: 'fd00:1::10',
        netmask: 'ffff:ffff:ffff:ffff::',
        routes: [],
        network_id: 'net-a',
        services: [{ type: 'dns', address: '198.18.0.2' }, { type: 'dns', address: 'fd00:1::53' }],
      },
      { id: 'network2', type: 'ipv4_dhcp', link: 'interface1', network_id: 'net-b' },
    ],
    services: [{ type: 'dns', address: '198.18.0.2' }, { type: 'dns', address: 'fd00:1::53' }],
  });
  // The same mapping is what lands in the files.
  const files = metadataFiles(contractInstance({ network_info: vifs as InstancePayload['network_info'] }));
  assert.deepEqual(parse(files, 'openstack/latest/network_data.json'), networkData(vifs));
});

test('netmask renders prefix lengths like netaddr', () => {
  assert.equal(netmask(4, 0), '0.0.0.0');
  assert.equal(netmask(4, 20), '255.255.240.0');
  assert.equal(netmask(4, 32), '255.255.255.255');
  assert.equal(netmask(6, 0), '::');
  assert.equal(netmask(6, 56), 'ffff:ffff:ffff:ff00::');
  assert.equal(netmask(6, 112), 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:0');
  assert.equal(netmask(6, 128), 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
});
