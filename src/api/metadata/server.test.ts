/**
 * The metadata server over a real unix socket, as the metadata proxy reaches it: two instances
 * behind two fixed IPs, each sees only its own data; requests without a usable X-Forwarded-For
 * or from unknown addresses are refused; directory listings and EC2-style paths as Nova's.
 * lookupByFixedIp on a real (in-memory) database.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../db/open.js';
import { contractInstance } from '../../virt/driver.contract.js';
import type { InstancePayload } from '../../virt/driver.js';
import { networkData } from '../../virt/metadata-content.js';
import type { Vif } from '../../network/types.js';
import { createMetadataServer, lookupByFixedIp, type MetadataServer } from './index.js';

const vif = (ip: string, mac: string): Vif => ({
  id: `port-${ip}`, address: mac, devname: `tap-${ip}`, type: 'bridge', preserve_on_delete: true,
  network: { id: 'net1', label: 'private', bridge: 'brq1', mtu: 1500,
    subnets: [{ cidr: '198.18.0.0/20', gateway: '198.18.0.1', dns: [], ips: [{ address: ip, type: 'fixed' }], dhcp_server: '198.18.0.1', routes: [] }] },
});

const A = contractInstance({
  display_name: 'vm-a', hostname: 'vm-a', key_name: 'mykey', key_data: 'ssh-ed25519 AAAAkeyA a@x',
  user_data: Buffer.from('#!/bin/sh\necho user-data-of-a\n').toString('base64'), metadata: { role: 'a' },
  network_info: [vif('198.18.0.10', 'fa:16:3e:00:00:10')],
});
const B = contractInstance({ display_name: 'vm-b', hostname: 'vm-b', network_info: [vif('198.18.0.11', 'fa:16:3e:00:00:11')] });
const BY_IP: Record<string, InstancePayload> = { '198.18.0.10': A, '198.18.0.11': B };

interface Reply {
  status: number;
  type: string;
  body: string;
}

function get(socketPath: string, path: string, forwardedFor?: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor };
    const req = request({ socketPath, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metadata server', () => {
  let dir: string;
  let sock: string;
  let md: MetadataServer;
  const logged: string[] = [];
  let failLookup = false;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'md-'));
    sock = join(dir, 'metadata.sock');
    md = await createMetadataServer({
      socketPath: sock,
      lookup: async (ip) => {
        if (failLookup) throw new Error('database is down');
        return BY_IP[ip] ?? null;
      },
      log: (m) => logged.push(m),
    });
  });
  after(async () => {
    await md.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on a socket only its owner may use', async () => {
    assert.equal((await stat(sock)).mode & 0o777, 0o600);
  });

  it('gives each instance its own meta_data.json, user data and network_data.json, identified by X-Forwarded-For', async () => {
    const a = await get(sock, '/openstack/latest/meta_data.json', '198.18.0.10');
    assert.equal(a.status, 200);
    assert.equal(a.type, 'application/json');
    const ma = JSON.parse(a.body);
    assert.equal(ma.uuid, A.uuid);
    assert.equal(ma.name, 'vm-a');
    assert.equal(ma.hostname, 'vm-a.novalocal');
    assert.deepEqual(ma.public_keys, { mykey: 'ssh-ed25519 AAAAkeyA a@x' });
    assert.deepEqual(ma.meta, { role: 'a' });

    const mb = JSON.parse((await get(sock, '/openstack/latest/meta_data.json', '198.18.0.11')).body);
    assert.equal(mb.uuid, B.uuid);
    assert.equal(mb.public_keys, undefined);

    const ud = await get(sock, '/openstack/latest/user_data', '198.18.0.10');
    assert.equal(ud.status, 200);
    assert.equal(ud.body, '#!/bin/sh\necho user-data-of-a\n');
    assert.equal((await get(sock, '/openstack/2012-08-10/user_data', '198.18.0.10')).body, ud.body);
    assert.equal((await get(sock, '/openstack/latest/user_data', '198.18.0.11')).status, 404, 'B has no user data');

    const nd = await get(sock, '/openstack/latest/network_data.json', '198.18.0.11');
    assert.deepEqual(JSON.parse(nd.body), networkData(B.network_info));
    assert.equal(JSON.parse(nd.body).links[0].ethernet_mac_address, 'fa:16:3e:00:00:11');
    assert.deepEqual(JSON.parse((await get(sock, '/openstack/latest/vendor_data2.json', '198.18.0.11')).body), { static: {} });
    assert.deepEqual(JSON.parse((await get(sock, '/openstack/2018-08-27/vendor_data.json', '198.18.0.11')).body), {});
  });

  it('refuses requests without a usable X-Forwarded-For, and addresses no instance owns', async () => {
    const none = await get(sock, '/openstack/latest/meta_data.json');
    assert.equal(none.status, 400);
    assert.match(none.body, /X-Forwarded-For is missing/);
    for (const bad of ['198.18.0.10, 198.18.0.11', 'vm-a', '']) {
      const r = await get(sock, '/openstack/latest/meta_data.json', bad);
      assert.equal(r.status, 400, `X-Forwarded-For '${bad}'`);
      assert.doesNotMatch(r.body, new RegExp(A.uuid));
    }
    const unknown = await get(sock, '/openstack/latest/meta_data.json', '198.18.0.99');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body, /No instance has the address 198\.18\.0\.99/);
    assert.equal((await get(sock, '/openstack', '198.18.0.99')).status, 404);
  });

  it('lists directories as Nova does (newline-separated names)', async () => {
    const versions = (await get(sock, '/openstack', '198.18.0.10')).body.split('\n');
    assert.equal(versions[0], '2012-08-10');
    assert.equal(versions.at(-1), 'latest');
    assert.ok(versions.includes('2018-08-27'));
    assert.equal((await get(sock, '/openstack/', '198.18.0.10')).body, versions.join('\n'));
    assert.equal(
      (await get(sock, '/openstack/latest', '198.18.0.10')).body,
      'meta_data.json\nuser_data\nvendor_data.json\nnetwork_data.json\nvendor_data2.json',
    );
    assert.equal((await get(sock, '/openstack/latest/', '198.18.0.11')).body, 'meta_data.json\nvendor_data.json\nnetwork_data.json\nvendor_data2.json');
    assert.equal((await get(sock, '/openstack/2012-08-10', '198.18.0.10')).body, 'meta_data.json\nuser_data');
    assert.equal((await get(sock, '/openstack/2013-10-17', '198.18.0.11')).body, 'meta_data.json\nvendor_data.json');
    for (const missing of ['/openstack/1999-01-01', '/openstack/latest/nothing', '/openstack/latest/meta_data.json/x', '/nothing/meta-data'])
      assert.equal((await get(sock, missing, '198.18.0.10')).status, 404, missing);
  });

  it('serves the EC2-style tree: hostname, instance-id, local-ipv4, the public key, user-data', async () => {
    const q = async (p: string, ip = '198.18.0.10') => {
      const r = await get(sock, p, ip);
      assert.equal(r.status, 200, p);
      return r.body;
    };
    const root = (await q('/')).split('\n');
    assert.equal(root[0], '1.0');
    assert.ok(root.includes('2009-04-04'));
    assert.equal(root.at(-1), 'latest');
    assert.equal(await q('/latest'), 'meta-data/\nuser-data');
    assert.equal(await q('/latest', '198.18.0.11'), 'meta-data/');
    const listing = (await q('/latest/meta-data/')).split('\n');
    for (const k of ['hostname', 'instance-id', 'local-ipv4', 'placement/', 'public-keys/']) assert.ok(listing.includes(k), k);
    assert.ok(!(await q('/latest/meta-data/', '198.18.0.11')).includes('public-keys'));
    assert.equal(await q('/latest/meta-data/hostname'), 'vm-a.novalocal');
    assert.equal(await q('/latest/meta-data/instance-id'), A.uuid);
    assert.equal(await q('/latest/meta-data/instance-id', '198.18.0.11'), B.uuid);
    assert.equal(await q('/latest/meta-data/local-ipv4'), '198.18.0.10');
    assert.equal(await q('/2009-04-04/meta-data/placement/availability-zone'), 'nova');
    assert.equal(await q('/latest/meta-data/public-keys'), '0=mykey');
    assert.equal(await q('/latest/meta-data/public-keys/0'), 'openssh-key');
    assert.equal(await q('/latest/meta-data/public-keys/0/openssh-key'), 'ssh-ed25519 AAAAkeyA a@x');
    assert.equal(await q('/latest/user-data'), '#!/bin/sh\necho user-data-of-a\n');
    assert.equal((await get(sock, '/latest/user-data', '198.18.0.11')).status, 404);
  });

  it('answers only GET and HEAD; a failing lookup is a logged 500', async () => {
    const post = await get(sock, '/openstack/latest/meta_data.json', '198.18.0.10', 'POST');
    assert.equal(post.status, 405);
    const head = await get(sock, '/openstack/latest/user_data', '198.18.0.10', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    failLookup = true;
    try {
      const r = await get(sock, '/openstack/latest/meta_data.json', '198.18.0.10');
      assert.equal(r.status, 500);
      assert.doesNotMatch(r.body, /database is down/);
      assert.ok(logged.some((m) => m.includes('database is down')));
    } finally {
      failLookup = false;
    }
  });

  it('replaces a stale socket left by a killed process, and refuses to remove anything else', async () => {
    const stale = join(dir, 'stale.sock');
    const script = `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`;
    spawnSync(process.execPath, ['-e', script]);
    assert.ok((await stat(stale)).isSocket(), 'the killed process left its socket file');
    const again = await createMetadataServer({ socketPath: stale, lookup: async () => B });
    try {
      assert.equal(JSON.parse((await get(stale, '/openstack/latest/meta_data.json', '198.18.0.11')).body).uuid, B.uuid);
    } finally {
      await again.close();
    }
    const file = join(dir, 'regular');
    await writeFile(file, 'keep me');
    await assert.rejects(createMetadataServer({ socketPath: file, lookup: async () => null }), /something other than a socket/);
    assert.equal((await stat(file)).size, 7);
  });
});

describe('lookupByFixedIp', () => {
  it('answers the live instance owning the port of the address, else null', async () => {
    const sql = await openDatabase('sqlite::memory:');
    try {
      const add = (uuid: string, deleted: number) =>
        sql.run(
          `INSERT INTO instances (uuid, project_id, user_id, display_name, hostname, flavor_id, flavor, vm_state, memory_mb, vcpus, root_gb,
             reservation_id, network_info, created_at, updated_at, deleted)
           VALUES (?, 'p1', 'u1', ?, ?, 1, ?, 'active', 64, 1, 1, 'r', ?, '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', ?)`,
          [uuid, `name-${uuid}`, `host-${uuid}`, JSON.stringify(A.flavor), JSON.stringify(A.network_info), deleted],
        );
      await add('live-1', 0);
      await add('gone-1', 7);
      const ports: Record<string, { device_id: string }> = { '198.18.0.10': { device_id: 'live-1' }, '198.18.0.12': { device_id: 'gone-1' }, '198.18.0.1': { device_id: '' } };
      const lookup = lookupByFixedIp({ sql, portByFixedIp: async (ip) => ports[ip] ?? null });
      const p = await lookup('198.18.0.10');
      assert.equal(p?.uuid, 'live-1');
      assert.equal(p?.display_name, 'name-live-1');
      assert.deepEqual(p?.network_info, A.network_info);
      assert.equal(await lookup('198.18.0.12'), null, 'deleted instance');
      assert.equal(await lookup('198.18.0.1'), null, 'port of no instance');
      assert.equal(await lookup('198.18.0.99'), null, 'no port');
    } finally {
      await sql.close();
    }
  });
});
