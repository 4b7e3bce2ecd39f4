/**
 * The network-agent service of one host: the dataplane (bridges, taps, DHCP, firewall,
 * metadata proxy) in the host's network namespace, converging on the host's desired state
 * (agentSource). With the fake driver there is nothing to plumb: a no-op agent. With `serve`
 * (its own process) it also answers the host's compute process on `network.<host>`
 * (dataplane-rpc.ts); inside the compute process the compute uses it directly.
 */
import { join } from 'node:path';
import type { Bus } from '../bus/bus.js';
import type { Config } from '../config.js';
import type { HostStateSource } from '../network/types.js';
import { createLinuxAgent, createNoopAgent, type NetworkAgent } from '../network/agent/agent.js';
import { logger } from '../util/log.js';
import { hostNamespace } from './namespace.js';
import { serveDataplane } from './dataplane-rpc.js';

const log = logger('network-agent');

export interface NetworkAgentService {
  agent: NetworkAgent;
  /** Stops the agent (guests' namespace and DHCP keep running unless removeNamespace). */
  stop(opts?: { removeNamespace?: boolean }): Promise<void>;
}

export async function startNetworkAgentService(opts: {
  config: Config;
  bus: Bus;
  host: string;
  source: HostStateSource;
  /** The api's metadata server socket (null: no metadata proxy). */
  metadataSocket: string | null;
  /** Answer the host's compute process over the bus. */
  serve?: boolean;
}): Promise<NetworkAgentService> {
  const { config, bus, host } = opts;
  const agent =
    config.driver === 'qemu'
      ? createLinuxAgent({
          host,
          netns: hostNamespace(config.dataDir, host),
          bus,
          source: opts.source,
          metadataSocket: opts.metadataSocket,
          stateDir: join(config.dataDir, 'network', host),
          log: (m) => log.info(m),
        })
      : createNoopAgent();
  await agent.start();
  let stopServe: (() => Promise<void>) | null = null;
  try {
    if (opts.serve) stopServe = await serveDataplane(bus, host, agent);
  } catch (e) {
    await agent.stop();
    throw e;
  }
  return {
    agent,
    async stop(o = {}) {
      await stopServe?.();
      await agent.stop({ removeNamespace: o.removeNamespace });
    },
  };
}
