import type { Bus } from '../bus/bus.js';
import type { ComputeConfig } from '../config.js';
import type { ImageClient } from '../image/client.js';
import type { ComputeDriver } from '../virt/driver.js';

export async function startCompute(_deps: {
  bus: Bus;
  host: string;
  driver: ComputeDriver;
  images: ImageClient;
  config: ComputeConfig;
}): Promise<{ stop(): Promise<void> }> {
  return { stop: async () => undefined };
}
