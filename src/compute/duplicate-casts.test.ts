/**
 * Casts are delivered at least once over AMQP (a server that dies before acking, or an ack
 * lost in a broker restart, means a second delivery). A second build_and_run_instance for the
 * same instance must not start a second guest nor undo the first build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getInstance } from '../db/instances.js';
import { unavailable } from '../errors.js';
import { rig, settled, lastFault, allocations } from '../conductor/test-rig.js';
import type { ComputeManager } from './compute-manager.js';

type BuildArgs = Parameters<ComputeManager['buildAndRunInstance']>[0];

/** Makes host deliver every build twice: the duplicate right after the first one finished. */
function deliverTwice(m: ComputeManager, after: (a: BuildArgs) => Promise<void> = async () => undefined) {
  const once = m.buildAndRunInstance.bind(m);
  m.buildAndRunInstance = async (a) => {
    await once(a);
    await after(a);
    await once(a);
  };
}

test('a build_and_run_instance delivered twice gives one guest and an ACTIVE instance', async () => {
  const r = await rig({ host1: 8192 });
  try {
    const h = r.hosts.get('host1')!;
    let second!: () => void;
    const secondDone = new Promise<void>((res) => (second = res));
    const once = h.svc.manager.buildAndRunInstance.bind(h.svc.manager);
    h.svc.manager.buildAndRunInstance = async (a) => {
      await once(a);
      await once(a);
      second();
    };
    const uuid = await r.boot();
    await secondDone;
    const row = await r.waitState(uuid, settled, 'ACTIVE');
    assert.equal(row.vm_state, 'active');
    assert.equal(row.host, 'host1');
    assert.deepEqual(await h.driver.listInstances(), [uuid]);
    assert.equal(await h.driver.powerState(uuid), 1);
    assert.equal(await lastFault(r.sql, uuid), undefined);
  } finally {
    await r.close();
  }
});

test('a duplicate build arriving after the build was rescheduled elsewhere changes nothing', async () => {
  // host1 (more free RAM, picked first) fails the build; the conductor reschedules to host2.
  const r = await rig({ host1: 8192, host2: 4096 }, { failingHosts: ['host1'] });
  try {
    const h1 = r.hosts.get('host1')!;
    const h2 = r.hosts.get('host2')!;
    let second!: () => void;
    const secondDone = new Promise<void>((res) => (second = res));
    let uuid = '';
    deliverTwice(h1.svc.manager, async () => {
      // The duplicate comes once the instance runs on host2.
      await r.waitState(uuid, (row) => settled(row) && row.host === 'host2', 'ACTIVE on host2');
      h1.driver.opts.failingHosts = []; // host1 could build it now: it still must not
    });
    const orig = h1.svc.manager.buildAndRunInstance;
    h1.svc.manager.buildAndRunInstance = async (a) => {
      await orig(a);
      second();
    };
    uuid = await r.boot();
    await secondDone;
    const row = await getInstance(r.sql, uuid);
    assert.equal(row.vm_state, 'active');
    assert.equal(row.task_state, null);
    assert.equal(row.host, 'host2');
    assert.deepEqual(await h1.driver.listInstances(), []);
    assert.deepEqual(await h2.driver.listInstances(), [uuid]);
  } finally {
    await r.close();
  }
});

test('a build_instances delivered again after the conductor dispatched it schedules nothing more', async () => {
  const r = await rig({ host1: 8192, host2: 8192 });
  try {
    // The hosts hold builds until the second delivery was handled: the instance has its host
    // but is still 'scheduling' when the conductor sees build_instances again.
    let open!: () => void;
    const gate = new Promise<void>((res) => (open = res));
    for (const h of r.hosts.values()) {
      const once = h.svc.manager.buildAndRunInstance.bind(h.svc.manager);
      h.svc.manager.buildAndRunInstance = async (a) => {
        await gate;
        await once(a);
      };
    }
    const uuid = await r.boot();
    const row = await r.waitState(uuid, (x) => x.host !== null, 'dispatched');
    await r.conductor.buildInstances({ instance_uuids: [uuid], request_id: `req-${uuid}` });
    await new Promise((res) => setTimeout(res, 100));
    open();
    const done = await r.waitState(uuid, settled, 'ACTIVE');
    await new Promise((res) => setTimeout(res, 100)); // let a second build, if any, land
    assert.equal(done.vm_state, 'active');
    assert.equal(done.host, row.host);
    const guests = [...(await r.hosts.get('host1')!.driver.listInstances()), ...(await r.hosts.get('host2')!.driver.listInstances())];
    assert.deepEqual(guests, [uuid]);
    assert.equal((await allocations(r.sql, uuid)).length, 1);
  } finally {
    await r.close();
  }
});

test('a conductor briefly unavailable when the build is marked started: the host asks again and the build ends ACTIVE', async () => {
  const r = await rig({ host1: 8192 });
  try {
    const h = r.hosts.get('host1')!;
    const conductor = (h.svc.manager as unknown as { conductor: { instanceUpdate: (a: unknown) => Promise<unknown> } }).conductor;
    const real = conductor.instanceUpdate.bind(conductor);
    let refused = 0;
    conductor.instanceUpdate = async (a) => {
      if (refused < 2) {
        refused++;
        throw unavailable('The database is unavailable: connection refused. Try again later.');
      }
      return real(a);
    };
    const uuid = await r.boot();
    const row = await r.waitState(uuid, settled, 'ACTIVE');
    assert.equal(row.vm_state, 'active');
    assert.equal(refused, 2);
    assert.deepEqual(await h.driver.listInstances(), [uuid]);
  } finally {
    await r.close();
  }
});
