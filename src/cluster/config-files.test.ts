import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeHostNames, planCluster, renderIni, writeConfigFiles, type ClusterPlanInput } from './config-files.js';
import { loadServiceConfig, type ServiceName } from '../service-config.js';

const input = (over: Partial<ClusterPlanInput> = {}): ClusterPlanInput => ({
  dir: '/srv/c',
  computes: 2,
  driver: 'fake',
  fakeHostsPerCompute: 1,
  apis: 1,
  schedulers: 1,
  conductors: 1,
  databaseUrl: 'postgres://nova:pw@127.0.0.1:5432/nova',
  transportUrl: 'amqp://guest:guest@127.0.0.1:5672/',
  apiPorts: [8774],
  consolePort: 6080,
  reportIntervalSec: 2,
  serviceDownTimeSec: 10,
  servicePassword: 'svc-pw',
  region: 'RegionOne',
  ...over,
});

test('every planned config file is accepted by its service, and only the DB services get the database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cluster-conf-'));
  try {
    const plan = planCluster(input({ dir, driver: 'qemu', computes: 2, apis: 2, schedulers: 2, apiPorts: [9000, 9001] }));
    const files = writeConfigFiles(dir, plan);
    assert.deepEqual(
      plan.map((p) => p.name),
      ['api-1', 'api-2', 'scheduler-1', 'scheduler-2', 'conductor-1', 'volume', 'console-proxy', 'compute-host1', 'network-agent-host1', 'compute-host2', 'network-agent-host2'],
    );
    for (const p of plan) {
      const file = files.get(p.name)!;
      assert.equal(statSync(file).mode & 0o777, 0o600, `${file} holds passwords`);
      const cfg = loadServiceConfig(file, {}, p.service as ServiceName);
      assert.equal(cfg.transportUrl, 'amqp://guest:guest@127.0.0.1:5672/');
      assert.equal(cfg.config.serviceDownTimeSec, 10);
      assert.equal(cfg.config.compute.reportIntervalSec, 2);
      const needsDb = !['compute', 'network-agent'].includes(p.service);
      assert.equal(cfg.databaseUrl, needsDb ? 'postgres://nova:pw@127.0.0.1:5432/nova' : null, p.name);
    }
    const api2 = loadServiceConfig(files.get('api-2')!);
    assert.equal(api2.config.listenPort, 9001);
    assert.equal(api2.config.publicUrl, 'http://127.0.0.1:9000', 'every API puts the first one in the catalog');
    assert.equal(loadServiceConfig(files.get('api-1')!).config.publicUrl, 'http://127.0.0.1:9000');
    assert.equal(api2.config.dataDir, join(dir, 'api'), 'the APIs share one data dir (images, CA, secrets)');
    const compute = loadServiceConfig(files.get('compute-host2')!);
    assert.equal(compute.host, 'host2');
    assert.equal(compute.config.driver, 'qemu');
    assert.equal(compute.networkAgent, 'separate');
    assert.deepEqual(compute.serviceAuth, { authUrl: 'http://127.0.0.1:9000/identity/v3', username: 'nova', password: 'svc-pw', projectName: 'service' });
    const agent = loadServiceConfig(files.get('network-agent-host2')!);
    assert.equal(agent.metadataSocket, loadServiceConfig(files.get('api-1')!).metadataSocket, 'agents proxy to the first API');
    assert.notEqual(api2.metadataSocket, agent.metadataSocket, 'two APIs in one data dir need two sockets');
    assert.equal(api2.config.consoles.publicUrl, 'http://127.0.0.1:6080', 'the API hands out the console proxy\'s URL');
    assert.equal(api2.config.driver, 'qemu', 'a qemu cluster\'s API seeds the real guest image');
    assert.equal(loadServiceConfig(files.get('volume')!).host, 'storage');
    assert.equal(loadServiceConfig(files.get('volume')!).serviceAuth?.authUrl, 'http://127.0.0.1:9000/identity/v3', 'volumes from images read image data over the Image API');
    assert.equal(loadServiceConfig(files.get('console-proxy')!).config.consoles.listenPort, 6080);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fake compute processes run several hosts each and no network agent process', () => {
  const plan = planCluster(input({ computes: 3, fakeHostsPerCompute: 2 }));
  assert.equal(plan.filter((p) => p.service === 'network-agent').length, 0);
  assert.deepEqual(plan.flatMap((p) => p.computeHosts ?? []), ['host1-1', 'host1-2', 'host2-1', 'host2-2', 'host3-1', 'host3-2']);
  assert.equal(plan.find((p) => p.name === 'compute-host3')!.ini.compute.fake_hosts, 2);
  assert.deepEqual(computeHostNames(4, 1), ['host4']);
});

test('renderIni puts DEFAULT first, comments the header and refuses line breaks in values', () => {
  const text = renderIni({ api: { listen: '127.0.0.1:1' }, DEFAULT: { host: 'a' } }, 'hello\nworld');
  assert.equal(text, '# hello\n# world\n\n[DEFAULT]\nhost = a\n\n[api]\nlisten = 127.0.0.1:1\n');
  assert.throws(() => renderIni({ DEFAULT: { host: 'a\nb' } }), /\[DEFAULT\] host has a line break/);
});
