import type { Bus } from '../bus/bus.js';
import { AGENT_TOPIC } from './types.js';
import { logger } from '../util/log.js';

const log = logger('network');

/**
 * Tells the network agents that ports, security groups or rules changed; each agent re-reads
 * its host's state (hosts: only those; none: every agent). Never throws: a lost notice is
 * repaired by the agents' periodic resync.
 */
export async function notifyAgents(bus: Bus, hosts?: string[]): Promise<void> {
  await bus.fanout(AGENT_TOPIC, 'changed', hosts ? { hosts } : {}).catch((e) => log.warn('notifying the network agents failed', e));
}
