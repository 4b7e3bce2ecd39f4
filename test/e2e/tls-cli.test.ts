/**
 * End to end over HTTPS: nova-ts started as a process with --tls, driven by the real `openstack`
 * CLI with the CA file clouds.yaml names, and checked with the real `openssl s_client`/`verify`.
 * A client without the CA must be refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliSteps } from '../helpers/cli-steps.js';
import { REPO_ROOT, describeCli, runCli, startCloudProcess, type CloudProcess } from '../helpers/process.js';

let cloud: CloudProcess | undefined;
let work = '';
let caFile = '';

function c(): CloudProcess {
  assert.ok(cloud, 'the cloud did not start (see the before hook)');
  return cloud;
}

const { ok } = cliSteps(c);

/** Runs openssl with args (stdin closed at once); never rejects. */
function openssl(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
    child.stdin.end();
  });
}

before(async () => {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'ensure-system-packages.mjs'), 'python3-openstackclient', 'openssl'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `could not install python3-openstackclient and openssl:\n${r.stdout}\n${r.stderr}`);
  work = mkdtempSync(join(tmpdir(), 'nova-ts-e2e-tls-'));
  cloud = await startCloudProcess({ args: ['--tls'] });
  caFile = join(cloud.dataDir, 'ca', 'ca.pem');
});

after(async () => {
  if (cloud) await cloud.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('nova-ts --tls', { timeout: 60_000 }, () => {
  test('says https in its ready line and clouds.yaml, which names the CA file', () => {
    assert.match(c().output(), /ready at https:\/\/127\.0\.0\.1:\d+/);
    assert.ok(existsSync(caFile), 'the CA is kept in the data dir');
    const yaml = readFileSync(c().cloudsYaml, 'utf8');
    assert.match(yaml, new RegExp(`auth_url: ${c().url}/identity/v3`));
    assert.equal(yaml.split(`cacert: "${caFile}"`).length - 1, 2, yaml);
  });

  test('the openstack CLI works over HTTPS with the CA from clouds.yaml: server, flavor and image list', async () => {
    const [servers, flavors, images] = await Promise.all([
      ok(['server', 'list', '-f', 'json']),
      ok(['flavor', 'list', '-f', 'json']),
      ok(['image', 'list', '-f', 'json']),
    ]);
    assert.ok(Array.isArray(servers.json), servers.stdout);
    assert.ok((flavors.json as any[]).some((f) => f.Name === 'm1.tiny'), flavors.stdout);
    assert.ok((images.json as any[]).some((i) => i.Name === 'tiny-linux'), images.stdout);
    const made = (await ok(['server', 'create', '--flavor', 'm1.tiny', '--image', 'tiny-linux', '--nic', 'none', '--wait', 'tls-vm', '-f', 'json'], { cloud: 'nova-ts-demo' })).json;
    assert.equal(made.status, 'ACTIVE');
    const list = (await ok(['server', 'list', '-f', 'json'], { cloud: 'nova-ts-demo' })).json as any[];
    assert.deepEqual(list.map((s) => [s.Name, s.Status]), [['tls-vm', 'ACTIVE']]);
  });

  test('openssl accepts the served certificate chain for 127.0.0.1 with the CA file', async () => {
    const port = String(c().port);
    const s = await openssl(['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', caFile, '-verify_return_error', '-verify_ip', '127.0.0.1', '-showcerts']);
    assert.equal(s.code, 0, s.out);
    assert.match(s.out, /Verify return code: 0 \(ok\)/);
    const served = s.out.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/)?.[0];
    assert.ok(served, s.out);
    const file = join(work, 'served.pem');
    writeFileSync(file, served);
    const v = await openssl(['verify', '-CAfile', caFile, '-purpose', 'sslserver', file]);
    assert.equal(v.code, 0, v.out);
    assert.match(v.out, /served\.pem: OK/);
  });

  test('a client without the CA is refused: certificate verify failed', async () => {
    const yaml = readFileSync(c().cloudsYaml, 'utf8').replace(/^\s*cacert: .*\n/gm, '');
    const noCa = join(work, 'clouds-no-ca.yaml');
    writeFileSync(noCa, yaml);
    const r = await runCli(['server', 'list'], { cloudsYaml: noCa });
    assert.notEqual(r.code, 0, describeCli(r));
    assert.match(r.stderr, /CERTIFICATE_VERIFY_FAILED|certificate verify failed/, describeCli(r));
    // openssl without the CA (no trust store at all) refuses the chain as well.
    const s = await openssl(['s_client', '-connect', `127.0.0.1:${c().port}`, '-no-CAfile', '-no-CApath', '-no-CAstore', '-verify_return_error']);
    assert.notEqual(s.code, 0, s.out);
    assert.match(s.out, /verify error:num=20:unable to get local issuer certificate/);
  });
});
