/**
 * The conductor service (topic `conductor`): the DB side of every compute host. In a split
 * deployment it also serves the service clients compute hosts and network agents use
 * (images, ports, volumes, host network state) on topic `service-clients`.
 */
import type { Bus } from '../bus/bus.js';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import type { ImageClient } from '../image/client.js';
import { startConductor } from '../conductor/manager.js';
import { serveServiceClients, type ServiceClients } from '../rpc/service-clients.js';

export async function startConductorService(opts: {
  config: Config;
  bus: Bus;
  sql: Sql;
  images: ImageClient;
  host?: string;
  /**
   * Serve these in-process clients to remote compute hosts and network agents (split
   * deployments); absent: none (the all-in-one hands them to its computes directly).
   */
  serveClients?: ServiceClients;
}): Promise<{ stop(): Promise<void> }> {
  const conductor = await startConductor({ sql: opts.sql, bus: opts.bus, images: opts.images, config: opts.config, host: opts.host });
  const stops: (() => Promise<void>)[] = [conductor.stop];
  if (opts.serveClients) {
    // Round robin over every conductor process.
    stops.push(await serveServiceClients(opts.bus, opts.serveClients));
  }
  return {
    async stop() {
      for (const s of stops.reverse()) await s();
    },
  };
}
