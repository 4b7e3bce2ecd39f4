/**
 * The network side of a compute host's work: ports from the network service, the host's
 * dataplane (the network agent: bridges, taps, DHCP, filtering) and the instance's recorded
 * network_info. Order on build: allocate ports, record network_info, plug (taps exist), then the
 * driver spawns (QEMU opens the taps). On terminate: the driver destroys, then unplug and
 * deallocate. Without a network service (tests of the compute manager alone) every step is a
 * no-op and instances have no ports.
 */
import type { ConductorRpcApi } from '../conductor/rpcapi.js';
import type { NetworkClient, RequestedNetworks } from '../network/client.js';
import type { Vif } from '../network/types.js';
import type { InstancePayload } from '../virt/driver.js';

/** The part of a network agent the compute host drives. */
export interface HostDataplane {
  plug(vifs: Vif[]): Promise<void>;
  unplug(vifs: Vif[]): Promise<void>;
}

export class InstanceNetworking {
  constructor(
    private readonly host: string,
    private readonly conductor: ConductorRpcApi,
    private readonly network: NetworkClient | null,
    private readonly dataplane: HostDataplane | null,
  ) {}

  /**
   * Ports for the instance on this host (reused when it already has them, e.g. after a
   * reschedule), recorded as its network_info and plugged. Returns the payload to spawn.
   */
  async setUp(instance: InstancePayload, requested: RequestedNetworks, securityGroups: string[]): Promise<InstancePayload> {
    if (!this.network) return instance;
    const vifs = await this.network.allocateForInstance({
      instance_uuid: instance.uuid,
      project_id: instance.project_id,
      hostname: instance.hostname ?? instance.display_name,
      host: this.host,
      requested,
      security_groups: securityGroups,
    });
    await this.conductor.instanceUpdate({ uuid: instance.uuid, updates: { network_info: vifs as unknown as string } });
    await this.dataplane?.plug(vifs);
    return { ...instance, network_info: vifs };
  }

  /**
   * Evacuate: the instance's ports (addresses kept) bound to this host, recorded as its
   * network_info and plugged here. Returns the payload to spawn.
   */
  async rebind(instance: InstancePayload): Promise<InstancePayload> {
    if (!this.network) return instance;
    const vifs = await this.network.rebindPorts({ instance_uuid: instance.uuid, host: this.host });
    await this.conductor.instanceUpdate({ uuid: instance.uuid, updates: { network_info: vifs as unknown as string } });
    await this.dataplane?.plug(vifs);
    return { ...instance, network_info: vifs };
  }

  /** Unplugs the instance's ports and deletes (or unbinds) them. Idempotent. */
  async tearDown(instance: InstancePayload): Promise<void> {
    if (!this.network) return;
    await this.network.deallocateForInstance({ instance_uuid: instance.uuid });
    await this.dataplane?.unplug(instance.network_info ?? []);
  }

  /** Removes the instance's taps from this host but keeps its ports (shelve offload: they are bound again on unshelve). */
  async unplug(instance: InstancePayload): Promise<void> {
    if (this.dataplane && instance.network_info?.length) await this.dataplane.unplug(instance.network_info);
  }

  /** Makes sure the instance's current ports are plugged (start, reboot, resume after a host restart). */
  async replug(instance: InstancePayload): Promise<void> {
    if (this.dataplane && instance.network_info?.length) await this.dataplane.plug(instance.network_info);
  }

  /** A new or given port bound here and plugged; the instance's network_info updated. */
  async attach(instance: InstancePayload, a: { net_id?: string; port_id?: string; fixed_ip?: string }): Promise<Vif> {
    if (!this.network) throw new Error('This compute host has no network service.');
    const vif = await this.network.attachInterface({
      instance_uuid: instance.uuid,
      project_id: instance.project_id,
      hostname: instance.hostname ?? instance.display_name,
      host: this.host,
      ...a,
    });
    await this.dataplane?.plug([vif]);
    await this.record(instance.uuid);
    return vif;
  }

  /** The port deleted or unbound, its tap removed, network_info updated. */
  async detach(instance: InstancePayload, vif: Vif): Promise<void> {
    if (!this.network) return;
    await this.network.detachInterface({ instance_uuid: instance.uuid, port_id: vif.id });
    await this.dataplane?.unplug([vif]);
    await this.record(instance.uuid);
  }

  /** Writes the network service's view of the instance's ports into its network_info. */
  async record(uuid: string): Promise<Vif[]> {
    if (!this.network) return [];
    const vifs = await this.network.instanceNetworkInfo({ instance_uuid: uuid });
    await this.conductor.instanceUpdate({ uuid, updates: { network_info: vifs as unknown as string } });
    return vifs;
  }
}
