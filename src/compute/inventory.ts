/**
 * The inventory settings a compute host reports with its node's resources: allocation ratios
 * and reserved amounts from its config (Nova's cpu/ram/disk_allocation_ratio and
 * reserved_host_cpus/memory_mb/disk_mb). The conductor writes them into compute_nodes; usable
 * capacity is (total - reserved) * ratio.
 */
import type { ComputeConfig } from '../config.js';
import type { HostResources, NodeInventory } from '../virt/driver.js';

export function inventoryOf(c: ComputeConfig): NodeInventory {
  return {
    cpu_allocation_ratio: c.cpuAllocationRatio,
    ram_allocation_ratio: c.ramAllocationRatio,
    disk_allocation_ratio: c.diskAllocationRatio,
    reserved_host_cpus: c.reservedHostCpus,
    reserved_host_memory_mb: c.reservedHostMemoryMb,
    reserved_host_disk_mb: c.reservedHostDiskMb,
  };
}

/** The driver's report plus this host's inventory settings. */
export const withInventory = (r: HostResources, c: ComputeConfig): HostResources => ({ ...r, inventory: inventoryOf(c) });
