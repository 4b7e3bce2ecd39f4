import { defaultConfig } from '../config.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../db/open.js';
import { InProcessBus } from '../bus/in-process.js';
import { NovaError } from '../errors.js';
import { upsertComputeNode } from '../conductor/compute-nodes.js';
import { startScheduler } from './manager.js';
import { SchedulerRpcApi, SCHEDULER_TOPIC } from './rpcapi.js';
import { makeSpec } from './testing.js';

const config = { ...defaultConfig().scheduler, filters: ['ComputeFilter', 'AvailabilityZoneFilter', 'ResourceFilter'], weighers: { RAMWeigher: 1 } };
const resources = (name: string) => ({ hypervisor_hostname: name, hypervisor_type: 'fake', hypervisor_version: 1, vcpus: 4, memory_mb: 4096, local_gb: 100, host_ip: '127.0.0.1', cpu_info: {} });

test('scheduler service: registers itself, validates requests, sees new hosts once told', async () => {
  const sql = await openDatabase('sqlite::memory:');
  const bus = new InProcessBus();
  const svc = await startScheduler({ sql, bus, config, host: 'ctl' });
  try {
    const row = await sql.get<{ report_count: number }>("SELECT report_count FROM services WHERE host = 'ctl' AND binary = 'nova-scheduler'");
    assert.ok(row && row.report_count >= 1);
    const api = new SchedulerRpcApi(bus);
    await assert.rejects(api.selectDestinations({ spec: { ...makeSpec(), instance_uuids: [] } }), (e: NovaError) => e.kind === 'Invalid' && /instance_uuids/.test(e.message));
    await assert.rejects(api.selectDestinations({ spec: makeSpec() }), (e: NovaError) => e.kind === 'NoValidHost' && /There are no compute hosts/.test(e.message));
    await upsertComputeNode(sql, 'h1', resources('h1'));
    await bus.fanout(SCHEDULER_TOPIC, 'update_host_state', {});
    await new Promise((r) => setImmediate(r));
    const [[sel]] = await api.selectDestinations({ spec: makeSpec() });
    assert.equal(sel.host, 'h1');
    assert.equal(sel.availability_zone, 'nova');
  } finally {
    await svc.stop();
    await bus.close();
    await sql.close();
  }
});
