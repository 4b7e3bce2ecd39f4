/**
 * The network agent of a host as a service of its own (topic `network.<host>`), for a compute
 * process whose network agent runs in another process on the same machine:
 * - info {} (call) -> {netns}: the namespace guests of the host live in (null: none).
 * - plug {vifs} / unplug {vifs} (call): HostDataplane.plug / unplug.
 * Version 1.0.
 */
import type { Bus } from '../bus/bus.js';
import { invalid, unavailable } from '../errors.js';
import type { HostDataplane } from '../compute/networking.js';
import type { Vif } from '../network/types.js';
import type { NetworkAgent } from '../network/agent/agent.js';

export const dataplaneTopic = (host: string): string => `network.${host}`;

/** Serves the agent's plug, unplug and info; returns the stopper. */
export function serveDataplane(bus: Bus, host: string, agent: NetworkAgent): Promise<() => Promise<void>> {
  return bus.serve(dataplaneTopic(host), async (method, args) => {
    const vifs = (): Vif[] => {
      if (!Array.isArray(args?.vifs)) throw invalid(`Network agent request ${method} has no vifs.`);
      return args.vifs as Vif[];
    };
    switch (method) {
      case 'info':
        return { netns: agent.netns };
      case 'plug':
        return void (await agent.plug(vifs()));
      case 'unplug':
        return void (await agent.unplug(vifs()));
      default:
        throw invalid(`Unknown network agent method '${method}'.`);
    }
  });
}

/** The dataplane of a host whose agent serves on the bus; plug and unplug wait as long as a sync may take. */
export function remoteDataplane(bus: Bus, host: string): HostDataplane {
  const topic = dataplaneTopic(host);
  return {
    plug: async (vifs) => void (await bus.call(topic, 'plug', { vifs }, { timeout: 120_000 })),
    unplug: async (vifs) => void (await bus.call(topic, 'unplug', { vifs }, { timeout: 120_000 })),
  };
}

/**
 * Asks the host's agent for its namespace, retrying until it answers (it may start after the
 * compute process) or waitMs passed: then Unavailable naming the host.
 */
export async function remoteAgentNetns(bus: Bus, host: string, waitMs = 60_000): Promise<string | null> {
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      const r = await bus.call<{ netns: string | null }>(dataplaneTopic(host), 'info', {}, { timeout: 5000 });
      return r.netns;
    } catch (e) {
      if (Date.now() > until)
        throw unavailable(`The network agent of ${host} does not answer on ${dataplaneTopic(host)} (${(e as Error).message}): start its network-agent service.`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
