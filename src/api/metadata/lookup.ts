/**
 * Which instance owns a fixed IP, as the metadata server's lookup: the network service names
 * the port holding the address, the port's device_id is the instance. Only live instances
 * (not deleted) count; a port of anything else (a DHCP port, a port of no instance) is null.
 */
import type { Sql } from '../../db/sql.js';
import type { InstanceRow } from '../../db/instances.js';
import { instancePayload } from '../../conductor/payload.js';
import type { InstancePayload } from '../../virt/driver.js';

export interface FixedIpLookupDeps {
  sql: Sql;
  /** The port holding this fixed IP (network service), or null. */
  portByFixedIp(ip: string): Promise<{ device_id: string } | null>;
}

export function lookupByFixedIp(deps: FixedIpLookupDeps): (ip: string) => Promise<InstancePayload | null> {
  return async (ip) => {
    const port = await deps.portByFixedIp(ip);
    if (!port?.device_id) return null;
    const row = await deps.sql.get<InstanceRow>('SELECT * FROM instances WHERE uuid = ? AND deleted = 0', [port.device_id]);
    return row ? instancePayload(deps.sql, row) : null;
  };
}
