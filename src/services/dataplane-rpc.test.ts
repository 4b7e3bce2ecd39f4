import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InProcessBus } from '../bus/in-process.js';
import type { NetworkAgent } from '../network/agent/agent.js';
import type { Vif } from '../network/types.js';
import { remoteAgentNetns, remoteDataplane, serveDataplane } from './dataplane-rpc.js';

const vif = (id: string) => ({ id, address: 'fa:16:3e:00:00:01', devname: `tap${id}`, type: 'bridge' }) as unknown as Vif;

test("a compute reaches its host's network agent in another process over network.<host>", async () => {
  const bus = new InProcessBus();
  const calls: string[] = [];
  const agent: NetworkAgent = {
    netns: 'nts-1234-host1',
    start: async () => undefined,
    sync: async () => undefined,
    stop: async () => undefined,
    plug: async (v) => void calls.push(`plug ${v.map((x) => x.id).join(',')}`),
    unplug: async (v) => {
      calls.push(`unplug ${v.map((x) => x.id).join(',')}`);
      throw new Error('iptables failed');
    },
  };
  // The compute asks before the agent serves: it waits for it.
  const netns = remoteAgentNetns(bus, 'host1', 5000);
  await new Promise((r) => setTimeout(r, 100));
  const stop = await serveDataplane(bus, 'host1', agent);
  assert.equal(await netns, 'nts-1234-host1');
  const dp = remoteDataplane(bus, 'host1');
  await dp.plug([vif('a'), vif('b')]);
  await assert.rejects(dp.unplug([vif('a')]), /iptables failed/);
  assert.deepEqual(calls, ['plug a,b', 'unplug a']);
  await stop();
  await assert.rejects(remoteAgentNetns(bus, 'host2', 200), /The network agent of host2 does not answer on network\.host2 .*start its network-agent service/);
  await bus.close();
});
