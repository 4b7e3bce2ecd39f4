import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envName, loadServiceConfig, parseServiceConfig } from './service-config.js';
import { defaultConfig } from './config.js';

const F = '/etc/nova-ts/compute1.conf';

const SAMPLE = `
# a compute host
[DEFAULT]
data_dir = /var/lib/nova-ts/compute1     # this process's own state
host = host1
transport_url = amqp://guest:guest@127.0.0.1:5672/
report_interval = 2
service_down_time = 7

[compute]
driver = fake
fake_hosts = 3
cpu_allocation_ratio = 8.5
reserved_host_memory_mb = 0

[service_auth]
auth_url = http://127.0.0.1:8774/identity/v3
password = s3cret

[metadata]
socket = /run/nova-ts/metadata.sock
`;

test('a compute config file maps onto Config and the split settings; the rest keeps the all-in-one defaults', () => {
  const s = parseServiceConfig(SAMPLE, F, {}, 'compute');
  const d = defaultConfig({ dataDir: '/var/lib/nova-ts/compute1' });
  assert.equal(s.file, F);
  assert.equal(s.host, 'host1');
  assert.equal(s.transportUrl, 'amqp://guest:guest@127.0.0.1:5672/');
  assert.equal(s.databaseUrl, null);
  assert.equal(s.config.databaseUrl, '');
  assert.equal(s.config.dataDir, '/var/lib/nova-ts/compute1');
  assert.equal(s.config.compute.reportIntervalSec, 2);
  assert.equal(s.config.serviceDownTimeSec, 7);
  assert.equal(s.config.fakeHosts, 3);
  assert.equal(s.config.compute.cpuAllocationRatio, 8.5);
  assert.equal(s.config.compute.reservedHostMemoryMb, 0);
  assert.equal(s.config.compute.ramAllocationRatio, d.compute.ramAllocationRatio);
  assert.deepEqual(s.config.scheduler, d.scheduler);
  assert.equal(s.config.region, 'RegionOne');
  assert.equal(s.config.listenPort, 8774);
  assert.equal(s.config.consoles.listenPort, 6080);
  assert.deepEqual(s.serviceAuth, { authUrl: 'http://127.0.0.1:8774/identity/v3', username: 'nova', password: 's3cret', projectName: 'service' });
  assert.equal(s.metadataSocket, '/run/nova-ts/metadata.sock');
  assert.equal(s.networkAgent, 'inside');
});

test('environment variables override the file, DEFAULT keys without a section name', () => {
  const s = parseServiceConfig(SAMPLE, F, {
    NOVA_TS_HOST: 'host9',
    NOVA_TS_COMPUTE_FAKE_HOSTS: '5',
    NOVA_TS_SERVICE_AUTH_PASSWORD: 'fromenv',
    NOVA_TS_SCHEDULER_FILTERS: 'ComputeFilter,ResourceFilter',
    NOVA_TS_SOMETHING_ELSE: 'ignored',
  });
  assert.equal(s.host, 'host9');
  assert.equal(s.config.fakeHosts, 5);
  assert.equal(s.serviceAuth?.password, 'fromenv');
  assert.deepEqual(s.config.scheduler.filters, ['ComputeFilter', 'ResourceFilter']);
  assert.equal(envName('DEFAULT', 'data_dir'), 'NOVA_TS_DATA_DIR');
  assert.equal(envName('service_auth', 'auth_url'), 'NOVA_TS_SERVICE_AUTH_AUTH_URL');
});

test('api, console and scheduler keys', () => {
  const s = parseServiceConfig(
    `[DEFAULT]\ndata_dir=/d\n[database]\nconnection = postgres://nova:pw@127.0.0.1:5432/nova\n[api]\nlisten = 0.0.0.0:9774\ntls = true\n` +
      `[console]\nlisten = :7080\ntoken_ttl = 30\npublic_url = https://console.example.org\n[scheduler]\nweighers = RAMWeigher=2, CPUWeigher=-1\nhost_subset_size = 3\n`,
    F,
    {},
    'api',
  );
  assert.equal(s.databaseUrl, 'postgres://nova:pw@127.0.0.1:5432/nova');
  assert.equal(s.config.databaseUrl, 'postgres://nova:pw@127.0.0.1:5432/nova');
  assert.equal(s.config.listenHost, '0.0.0.0');
  assert.equal(s.config.listenPort, 9774);
  assert.equal(s.config.tls, true);
  assert.deepEqual([s.config.consoles.listenHost, s.config.consoles.listenPort, s.config.consoles.tokenTtlSec], ['127.0.0.1', 7080, 30]);
  assert.equal(s.config.consoles.publicUrl, 'https://console.example.org');
  assert.deepEqual(s.config.scheduler.weighers, { RAMWeigher: 2, CPUWeigher: -1 });
  assert.equal(s.config.scheduler.hostSubsetSize, 3);
  assert.equal(s.metadataSocket, '/d/metadata.sock');
});

test('errors name the file, the section and the key, and say what to do', () => {
  const bad = (text: string, re: RegExp, env: NodeJS.ProcessEnv = {}, service?: 'compute' | 'api' | 'network-agent') =>
    assert.throws(() => parseServiceConfig(text, F, env, service), (e: Error) => {
      assert.match(e.message, re);
      assert.ok(e.message.startsWith(F), e.message);
      return true;
    });
  bad('[DEFAULT]\nhots = x\n', /compute1\.conf:2: \[DEFAULT\] hots: unknown key\. Known keys of \[DEFAULT\]: data_dir, host/);
  bad('[computer]\ndriver = fake\n', /\[computer\]: unknown section\. Known sections: DEFAULT, database/);
  bad('[compute]\nfake_hosts = two\n', /\[compute\] fake_hosts: wants a whole number from 1 to 10000, got 'two'/);
  bad('[compute]\ncpu_allocation_ratio = -1\n', /\[compute\] cpu_allocation_ratio: wants a number/);
  bad('[compute]\ndriver = xen\n', /\[compute\] driver: wants one of fake, qemu, got 'xen'/);
  bad('[api]\nlisten = 8774\n', /\[api\] listen: wants HOST:PORT/);
  bad('[scheduler]\nfilters = NoSuchFilter\n', /\[scheduler\] filters: unknown name 'NoSuchFilter'/);
  bad('driver = fake\n', /:1: 'driver' comes before any \[section\]; put it under \[DEFAULT\]/);
  bad('[DEFAULT]\njust words\n', /:2: expected '\[section\]' or 'key = value'/);
  bad('[DEFAULT]\n', /\[DEFAULT\] report_interval \(set by the environment as NOVA_TS_REPORT_INTERVAL\): wants a number/, { NOVA_TS_REPORT_INTERVAL: 'soon' });
  bad('[database]\nconnection = mysql://x\n', /\[database\] connection: wants sqlite:/);
  bad('[DEFAULT]\ntransport_url = kafka://x\n', /\[DEFAULT\] transport_url: wants inprocess or amqp:/);
  bad('[service_auth]\nusername = nova\n', /\[service_auth\]: auth_url and password missing/);
  // A compute or network agent never gets DB settings; DB services need them.
  bad('[database]\nconnection = postgres://nova@127.0.0.1/nova\n', /\[database\] connection: the compute service never opens the database.*remove the \[database\] section/, {}, 'compute');
  bad('[DEFAULT]\n', /\[database\] connection: the network-agent service never opens/, { NOVA_TS_DATABASE_CONNECTION: 'sqlite:/x.db' }, 'network-agent');
  bad('[DEFAULT]\n', /\[database\] connection: the api service needs the database: set connection = postgres:/, {}, 'api');
  bad('[compute]\ndriver = qemu\nfake_hosts = 2\n', /\[compute\] fake_hosts: applies to the fake driver only/, {}, 'compute');
});

test('loadServiceConfig reads the file; a missing file is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svc-config-'));
  const file = join(dir, 'scheduler.conf');
  writeFileSync(file, `[DEFAULT]\ndata_dir = ${dir}\n[database]\nconnection = sqlite:${dir}/nova.db\n`);
  const s = loadServiceConfig(file, {}, 'scheduler');
  assert.equal(s.config.dataDir, dir);
  assert.equal(s.databaseUrl, `sqlite:${dir}/nova.db`);
  assert.throws(() => loadServiceConfig(join(dir, 'nope.conf'), {}), /nope\.conf: cannot read the config file/);
});

test('[compute] build_timeout sets the conductor stuck-build timeout (NOVA_TS_COMPUTE_BUILD_TIMEOUT too); 180 s by default', () => {
  const conf = '[DEFAULT]\nhost = c1\n[database]\nconnection = postgres://nova@127.0.0.1/nova\n';
  assert.equal(parseServiceConfig(conf, F, {}, 'conductor').config.compute.buildTimeoutSec, 180);
  assert.equal(parseServiceConfig(conf + '[compute]\nbuild_timeout = 45\n', F, {}, 'conductor').config.compute.buildTimeoutSec, 45);
  assert.equal(parseServiceConfig(conf, F, { NOVA_TS_COMPUTE_BUILD_TIMEOUT: '0' }, 'conductor').config.compute.buildTimeoutSec, 0);
  assert.throws(() => parseServiceConfig(conf + '[compute]\nbuild_timeout = soon\n', F, {}, 'conductor'), /\[compute\] build_timeout: wants a whole number/);
});

test('[api] public_url names the API in the catalog (a load balancer); it must be an http(s) URL', () => {
  const api = (extra: string, env: NodeJS.ProcessEnv = {}) =>
    parseServiceConfig(`[database]\nconnection = postgres://nova:pw@127.0.0.1:5432/nova\n[api]\nlisten = 10.0.0.5:8774\n${extra}`, F, env, 'api');
  assert.equal(api('').config.publicUrl, undefined, 'default: the listener');
  assert.equal(api('public_url =\n').config.publicUrl, undefined);
  assert.equal(api('public_url = https://cloud.example.org:8774/\n').config.publicUrl, 'https://cloud.example.org:8774');
  assert.equal(api('', { NOVA_TS_API_PUBLIC_URL: 'http://lb:80' }).config.publicUrl, 'http://lb:80');
  assert.throws(() => api('public_url = lb.example.org:8774\n'), /compute1\.conf:\d+: \[api\] public_url: wants the API's http\(s\) base URL/);
});

test('[service_auth] cafile: the CA an https API is checked against (a path, resolved); empty: the system CAs', () => {
  const s = parseServiceConfig(SAMPLE.replace('password = s3cret\n', 'password = s3cret\ncafile = /etc/nova-ts/ca.pem\n'), F, {}, 'compute');
  assert.equal(s.serviceAuth?.caFile, '/etc/nova-ts/ca.pem');
  assert.equal(parseServiceConfig(SAMPLE, F, { NOVA_TS_SERVICE_AUTH_CAFILE: 'ca/cloud.pem' }).serviceAuth?.caFile, join(process.cwd(), 'ca/cloud.pem'));
  assert.equal(parseServiceConfig(SAMPLE.replace('password = s3cret\n', 'password = s3cret\ncafile =\n'), F).serviceAuth?.caFile, undefined);
  assert.equal(parseServiceConfig(SAMPLE, F).serviceAuth?.caFile, undefined);
});
