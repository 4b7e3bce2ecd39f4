/**
 * NetworkClient for the all-in-one: the compute manager's calls straight into the DB. Each
 * allocation runs in one transaction (all of an instance's ports or none) and tells the
 * agents of the hosts it touched.
 */
import { NovaError, invalid } from '../errors.js';
import type { NetworkClient, RequestedNetworks } from './client.js';
import type { NetCore } from './core.js';
import { notifyHosts } from './core.js';
import { buildVifs } from './host-state.js';
import { createPort, deletePort, updatePort } from './ports.js';
import { getNetwork, getPort, networkNotFound, portNotFound, type NetworkRow, type PortRow } from './repo.js';
import type { Vif } from './types.js';
import type { Sql } from '../db/sql.js';

const OWNER = 'compute:nova';

async function instancePorts(sql: Sql, instance: string): Promise<PortRow[]> {
  return sql.all<PortRow>('SELECT * FROM ports WHERE device_id = ? ORDER BY device_index, created_at, id', [instance]);
}

/** The one network a project may use for 'auto' (its own and shared ones). */
async function autoNetwork(sql: Sql, projectId: string): Promise<NetworkRow> {
  const nets = await sql.all<NetworkRow>('SELECT * FROM networks WHERE project_id = ? OR shared = 1 ORDER BY created_at, id', [projectId]);
  if (nets.length > 1)
    throw new NovaError('Conflict', 'Multiple possible networks found, use a Network ID to be more specific.', { neutronType: 'NetworkAmbiguous' });
  if (!nets.length) throw invalid('No network is available to attach the server to: this project has no network and none is shared. Create one, or boot with networks "none".');
  return nets[0];
}

async function usableNetwork(sql: Sql, projectId: string, id: string): Promise<NetworkRow> {
  const n = await getNetwork(sql, id);
  if (n.project_id !== projectId && !n.shared) throw networkNotFound(id);
  return n;
}

/** A user's port the instance may take: in its project, unbound or already its own. */
async function usablePort(sql: Sql, projectId: string, instance: string, id: string): Promise<PortRow> {
  const p = await getPort(sql, id);
  if (p.project_id !== projectId) throw portNotFound(id);
  if (p.device_id && p.device_id !== instance)
    throw new NovaError('Conflict', `Port ${id} is still in use by device ${p.device_id}.`, { neutronType: 'PortInUse' });
  return p;
}

export function inProcessNetworkClient(core: NetCore): NetworkClient {
  const { sql, sg } = core;

  const bind = (tx: Sql, p: PortRow, instance: string, host: string, index: number) =>
    updatePort(tx, sg, p.id, { device_id: instance, device_owner: p.device_owner || OWNER, binding_host_id: host, device_index: index });

  return {
    async allocateForInstance(a) {
      if (a.requested === 'none') return [];
      const before = await instancePorts(sql, a.instance_uuid);
      const entries: Exclude<RequestedNetworks, 'auto' | 'none'> = a.requested === 'auto' ? [{ uuid: 'auto' }] : a.requested;
      const ports = await sql.tx(async (tx) => {
        const taken = new Set<string>();
        const out: PortRow[] = [];
        for (const [index, e] of entries.entries()) {
          if (e.port) {
            const p = await usablePort(tx, a.project_id, a.instance_uuid, e.port);
            taken.add(p.id);
            out.push(await bind(tx, p, a.instance_uuid, a.host, index));
            continue;
          }
          const network = e.uuid === 'auto' ? await autoNetwork(tx, a.project_id) : e.uuid ? await usableNetwork(tx, a.project_id, e.uuid) : await autoNetwork(tx, a.project_id);
          // Idempotent: a port this instance already has on that network (and address) is reused.
          const ips = await tx.all<{ port_id: string; ip_address: string }>('SELECT port_id, ip_address FROM ip_allocations WHERE network_id = ?', [network.id]);
          const reuse = before.find(
            (p) => p.auto_created && p.network_id === network.id && !taken.has(p.id) && (!e.fixed_ip || ips.some((i) => i.port_id === p.id && i.ip_address === e.fixed_ip)),
          );
          if (reuse) {
            taken.add(reuse.id);
            out.push(await bind(tx, reuse, a.instance_uuid, a.host, index));
            continue;
          }
          const groups = a.security_groups.length ? a.security_groups : undefined;
          const p = await createPort(tx, sg, network, {
            project_id: a.project_id, device_id: a.instance_uuid, device_owner: OWNER, binding_host_id: a.host, auto_created: true, device_index: index,
            fixed_ips: e.fixed_ip ? [{ ip_address: e.fixed_ip }] : undefined,
            security_groups: network.port_security_enabled ? groups : undefined,
          });
          taken.add(p.id);
          out.push(p);
        }
        return out;
      });
      await notifyHosts(core, [a.host, ...before.map((p) => p.binding_host_id)]);
      return buildVifs(sql, ports);
    },

    async rebindPorts(a) {
      const before = await instancePorts(sql, a.instance_uuid);
      const ports = await sql.tx(async (tx) => {
        const out: PortRow[] = [];
        for (const p of before) out.push(p.binding_host_id === a.host ? p : await updatePort(tx, sg, p.id, { binding_host_id: a.host }));
        return out;
      });
      await notifyHosts(core, [a.host, ...before.map((p) => p.binding_host_id)]);
      return buildVifs(sql, ports);
    },

    async deallocateForInstance(a) {
      const ports = await instancePorts(sql, a.instance_uuid);
      await sql.tx(async (tx) => {
        for (const p of ports) {
          if (p.auto_created) await deletePort(tx, p.id);
          else await updatePort(tx, sg, p.id, { device_id: '', device_owner: '', binding_host_id: '', device_index: 0 });
        }
      });
      await notifyHosts(core, ports.map((p) => p.binding_host_id));
    },

    async instanceNetworkInfo(a) {
      return buildVifs(sql, await instancePorts(sql, a.instance_uuid));
    },

    async attachInterface(a): Promise<Vif> {
      const existing = await instancePorts(sql, a.instance_uuid);
      const index = existing.reduce((m, p) => Math.max(m, p.device_index + 1), 0);
      const port = await sql.tx(async (tx) => {
        if (a.port_id) return bind(tx, await usablePort(tx, a.project_id, a.instance_uuid, a.port_id), a.instance_uuid, a.host, index);
        const network = a.net_id ? await usableNetwork(tx, a.project_id, a.net_id) : await autoNetwork(tx, a.project_id);
        return createPort(tx, sg, network, {
          project_id: a.project_id, device_id: a.instance_uuid, device_owner: OWNER, binding_host_id: a.host, auto_created: true, device_index: index,
          fixed_ips: a.fixed_ip ? [{ ip_address: a.fixed_ip }] : undefined,
        });
      });
      await notifyHosts(core, [a.host]);
      return (await buildVifs(sql, [port]))[0];
    },

    async detachInterface(a) {
      const p = await sql.get<PortRow>('SELECT * FROM ports WHERE id = ?', [a.port_id]);
      if (!p || p.device_id !== a.instance_uuid)
        throw new NovaError('NotFound', `Port ${a.port_id} is not attached to instance ${a.instance_uuid}.`, { neutronType: 'PortNotFound' });
      if (p.auto_created) await deletePort(sql, p.id);
      else await updatePort(sql, sg, p.id, { device_id: '', device_owner: '', binding_host_id: '', device_index: 0 });
      await notifyHosts(core, [p.binding_host_id]);
    },
  };
}
