/**
 * The compute service of one process: one compute host per name in `hosts` (the fake driver
 * may run many; qemu one), each with its virt driver and the host's network agent, either
 * inside this process (`networkAgent: 'inside'`, the default) or a `network-agent` process of
 * its own for the host ('separate': reached over the bus, see dataplane-rpc.ts). A compute
 * process never opens the DB: it reaches it through the conductor and the service clients.
 */
import type { Bus } from '../bus/bus.js';
import type { Config } from '../config.js';
import { startCompute, type ComputeService } from '../compute/manager.js';
import type { HostDataplane } from '../compute/networking.js';
import { createDriver } from '../virt/registry.js';
import type { ComputeDriver } from '../virt/driver.js';
import { QemuDriver } from '../virt/qemu/driver.js';
import type { NetworkAgent } from '../network/agent/agent.js';
import type { ServiceClients } from './clients.js';
import { startNetworkAgentService, type NetworkAgentService } from './network-agent.js';
import { remoteAgentNetns, remoteDataplane } from './dataplane-rpc.js';
import { logger } from '../util/log.js';

const log = logger('compute-service');

export interface ComputeProcess {
  hosts: string[];
  /** The driver as a ready line names it, e.g. "qemu (TCG)" or "fake". */
  driverSummary: string;
  drivers: Map<string, ComputeDriver>;
  /** The network agents running in this process, by host (none for 'separate'). */
  agents: Map<string, NetworkAgent>;
  services: Map<string, ComputeService>;
  /** Stops every host (its compute service, then its agent); guests keep running. */
  stop(opts?: { removeNetworkNamespaces?: boolean }): Promise<void>;
}

/** Compute host names of a process: `<host>` alone, or `<host>-1..N` for N fake hosts. */
export function computeHostNames(host: string, fakeHosts: number): string[] {
  return fakeHosts <= 1 ? [host] : Array.from({ length: fakeHosts }, (_, i) => `${host}-${i + 1}`);
}

export async function startComputeService(opts: {
  config: Config;
  bus: Bus;
  hosts: string[];
  clients: ServiceClients;
  /** The api's metadata server socket, for an agent inside this process (null: no metadata proxy). */
  metadataSocket: string | null;
  networkAgent?: 'inside' | 'separate';
}): Promise<ComputeProcess> {
  const { config, bus, clients } = opts;
  const drivers = new Map<string, ComputeDriver>();
  const agents = new Map<string, NetworkAgent>();
  const services = new Map<string, ComputeService>();
  const stops: ((o: { removeNetworkNamespaces?: boolean }) => Promise<void>)[] = [];
  const stopAll = async (o: { removeNetworkNamespaces?: boolean } = {}) => {
    for (const s of stops.splice(0).reverse())
      await s(o).catch((e: unknown) => log.warn('stopping a compute host failed', e));
  };
  try {
    for (const host of opts.hosts) {
      let dataplane: HostDataplane;
      let netns: string | null;
      if (opts.networkAgent === 'separate') {
        dataplane = remoteDataplane(bus, host);
        netns = await remoteAgentNetns(bus, host);
      } else {
        const a: NetworkAgentService = await startNetworkAgentService({ config, bus, host, source: clients.agentSource, metadataSocket: opts.metadataSocket });
        stops.push((o) => a.stop({ removeNamespace: o.removeNetworkNamespaces }));
        agents.set(host, a.agent);
        dataplane = a.agent;
        netns = a.agent.netns;
      }
      const driver = createDriver(config, host, { images: clients.images, netns });
      const svc = await startCompute({
        bus,
        host,
        driver,
        images: clients.images,
        config: config.compute,
        network: { client: clients.network, dataplane },
        volumes: clients.volumes,
      });
      stops.push(() => svc.stop());
      drivers.set(host, driver);
      services.set(host, svc);
    }
  } catch (e) {
    await stopAll().catch(() => undefined);
    throw e;
  }
  const first = drivers.get(opts.hosts[0]);
  const driverSummary = first instanceof QemuDriver ? `qemu (${first.accel === 'kvm' ? 'KVM' : 'TCG'})` : config.driver;
  return { hosts: [...opts.hosts], driverSummary, drivers, agents, services, stop: stopAll };
}
