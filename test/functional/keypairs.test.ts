/** os-keypairs through the Compute API: import, generate, list/show/delete, per-microversion shapes. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';

const K = '/compute/v2.1/os-keypairs';
const mv = (v: string) => ({ 'openstack-api-version': `compute ${v}` });

/** An ed25519 OpenSSH public key built independently of the code under test, and its MD5 fingerprint. */
function ed25519Key(): { line: string; fingerprint: string } {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from((publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url');
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
  const fp = createHash('md5').update(blob).digest('hex').match(/../g)!.join(':');
  return { line: `ssh-ed25519 ${blob.toString('base64')} me@host`, fingerprint: fp };
}

describe('keypairs', () => {
  let t: TestCloud;
  before(async () => {
    t = await startTestCloud();
  });
  after(async () => {
    await t?.close();
  });

  it('imports a public key and computes its fingerprint', async () => {
    const k = ed25519Key();
    const r = await t.demo.post(K, { keypair: { name: 'imported', public_key: k.line } });
    assert.equal(r.status, 200);
    assert.equal(r.body.keypair.fingerprint, k.fingerprint);
    assert.equal(r.body.keypair.user_id, t.demo.userId);
    assert.equal('private_key' in r.body.keypair, false);
    assert.equal('type' in r.body.keypair, false);
    const dup = await t.demo.post(K, { keypair: { name: 'imported', public_key: k.line } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.conflictingRequest.message, "Key pair 'imported' already exists.");
  });

  it('generates a key pair when no public key is given (before 2.92)', async () => {
    const r = await t.demo.post(K, { keypair: { name: 'generated', type: 'ssh' } }, mv('2.2'));
    assert.equal(r.status, 201);
    assert.match(r.body.keypair.private_key, /^-----BEGIN RSA PRIVATE KEY-----/);
    assert.match(r.body.keypair.public_key, /^ssh-rsa AAAA/);
    assert.equal(r.body.keypair.type, 'ssh');
    const blob = Buffer.from(r.body.keypair.public_key.split(' ')[1], 'base64');
    assert.equal(r.body.keypair.fingerprint, createHash('md5').update(blob).digest('hex').match(/../g)!.join(':'));
    const x = await t.demo.post(K, { keypair: { name: 'cert', type: 'x509' } }, mv('2.2'));
    assert.equal(x.status, 201);
    assert.match(x.body.keypair.public_key, /^-----BEGIN CERTIFICATE-----/);
    assert.match(x.body.keypair.fingerprint, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
    const v292 = await t.demo.post(K, { keypair: { name: 'needs-key' } }, mv('2.92'));
    assert.equal(v292.status, 400);
    assert.match(v292.body.badRequest.message, /'public_key' is a required property.*ssh-keygen.*--public-key.*2\.91/);
  });

  it('rejects invalid keys and names with 400', async () => {
    const bad = await t.demo.post(K, { keypair: { name: 'bad', public_key: 'ssh-rsa notbase64!!' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.badRequest.message, /^Keypair data is invalid: /);
    assert.equal((await t.demo.post(K, { keypair: { name: 'bad2', public_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== x' } })).status, 400);
    assert.equal((await t.demo.post(K, { keypair: { name: 'a@b', public_key: ed25519Key().line } })).status, 400);
    assert.equal((await t.demo.post(K, { keypair: { name: 'a@b.c', public_key: ed25519Key().line } }, mv('2.92'))).status, 201);
    assert.equal((await t.demo.post(K, { keypair: { name: 'x', type: 'ssh', public_key: ed25519Key().line } })).status, 400);
    assert.equal((await t.demo.post(K, { keypair: {} })).status, 400);
    const names = (await t.demo.get(K)).body.keypairs.map((k: any) => k.keypair.name);
    assert.ok(!names.includes('bad') && !names.includes('bad2') && !names.includes('x'));
  });

  it('lists, shows and deletes with the shape of each microversion', async () => {
    const list = await t.demo.get(K);
    const entry = list.body.keypairs.find((k: any) => k.keypair.name === 'imported').keypair;
    assert.deepEqual(Object.keys(entry).sort(), ['fingerprint', 'name', 'public_key']);
    const list22 = await t.demo.get(K, mv('2.2'));
    assert.equal(list22.body.keypairs[0].keypair.type, 'ssh');
    const show = await t.demo.get(`${K}/imported`);
    assert.equal(show.status, 200);
    assert.equal(show.body.keypair.user_id, t.demo.userId);
    assert.equal(show.body.keypair.deleted, false);
    assert.equal(typeof show.body.keypair.id, 'number');
    assert.match(show.body.keypair.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.equal((await t.demo.get(`${K}/a@b.c`)).status, 200);
    assert.equal((await t.demo.delete(`${K}/a@b.c`, mv('2.2'))).status, 204);
    assert.equal((await t.demo.delete(`${K}/generated`)).status, 202);
    assert.equal((await t.demo.get(`${K}/generated`)).status, 404);
    assert.equal((await t.demo.delete(`${K}/generated`)).status, 404);
  });

  it('pages from 2.35', async () => {
    for (const n of ['p1', 'p2', 'p3']) await t.admin.post(K, { keypair: { name: n, public_key: ed25519Key().line } });
    const page = await t.admin.get(`${K}?limit=2`, mv('2.35'));
    assert.deepEqual(page.body.keypairs.map((k: any) => k.keypair.name), ['p1', 'p2']);
    assert.match(page.body.keypairs_links[0].href, /marker=p2/);
    const rest = await t.admin.get(`${K}?limit=2&marker=p2`, mv('2.35'));
    assert.deepEqual(rest.body.keypairs.map((k: any) => k.keypair.name), ['p3']);
    assert.equal((await t.admin.get(`${K}?marker=zz`, mv('2.35'))).status, 400);
  });

  it("keeps users' key pairs apart; admins act for others with user_id (2.10)", async () => {
    assert.equal((await t.admin.get(`${K}/imported`)).status, 404);
    assert.equal((await t.demo.get(`${K}/p1`)).status, 404);
    assert.equal((await t.demo.delete(`${K}/p1`)).status, 404);
    const asAdmin = await t.admin.get(`${K}/imported?user_id=${t.demo.userId}`, mv('2.10'));
    assert.equal(asAdmin.status, 200);
    assert.equal((await t.demo.get(`${K}?user_id=${t.admin.userId}`, mv('2.10'))).status, 403);
    const forDemo = await t.admin.post(K, { keypair: { name: 'for-demo', user_id: t.demo.userId, public_key: ed25519Key().line } }, mv('2.10'));
    assert.equal(forDemo.status, 201);
    assert.equal(forDemo.body.keypair.user_id, t.demo.userId);
    assert.equal((await t.demo.get(`${K}/for-demo`)).status, 200);
    const other = await t.demo.post(K, { keypair: { name: 'x', user_id: t.admin.userId, public_key: ed25519Key().line } }, mv('2.10'));
    assert.equal(other.status, 403);
  });

  it('lets a reader list key pairs but not create or delete them', async () => {
    const user = await t.admin.post('/identity/v3/users', { user: { name: 'kp-reader', password: 'secret-pw-1', domain_id: 'default' } });
    assert.equal(user.status, 201);
    const role = (await t.admin.get('/identity/v3/roles?name=reader')).body.roles[0];
    const grant = await t.admin.put(`/identity/v3/projects/${t.demo.projectId}/users/${user.body.user.id}/roles/${role.id}`);
    assert.equal(grant.status, 204);
    const reader = await t.login('kp-reader', 'secret-pw-1', 'demo');
    assert.equal((await reader.get(K)).status, 200);
    const c = await reader.post(K, { keypair: { name: 'nope', public_key: ed25519Key().line } });
    assert.equal(c.status, 403);
    assert.equal((await reader.get(`${K}/nope`)).status, 404);
    assert.equal((await reader.delete(`${K}/nope`)).status, 403);
  });

  it('enforces the key_pairs quota with 403', async () => {
    const q = await t.admin.put(`/compute/v2.1/os-quota-sets/${t.demo.projectId}?user_id=${t.demo.userId}`, { quota_set: { key_pairs: 3, force: true } });
    assert.equal(q.status, 200);
    const have = (await t.demo.get(K)).body.keypairs.length;
    assert.equal(have, 3);
    const r = await t.demo.post(K, { keypair: { name: 'one-too-many', public_key: ed25519Key().line } });
    assert.equal(r.status, 403);
    assert.equal(r.body.forbidden.message, 'Quota exceeded, too many key pairs.');
  });
});
