import type { Migration } from '../migrate.js';

/**
 * Ports of instances:
 * - auto_created: 1 for a port the network service created for an instance (deleted with the
 *   instance's networks; Nova's preserve_on_delete false), 0 for one a user created (only
 *   unbound when the instance goes);
 * - device_index: the port's place among its instance's NICs (the order of network_info).
 */
export const network010: Migration = {
  id: '010-port-origin',
  up: () => `
ALTER TABLE ports ADD COLUMN auto_created INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ports ADD COLUMN device_index INTEGER NOT NULL DEFAULT 0;
`,
};
