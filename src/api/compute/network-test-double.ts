/**
 * TEST DOUBLE, used only by the Compute API's unit tests: a small in-memory NetworkApi and
 * NetworkClient with Neutron-shaped views, so the networking parts of the Compute API can be
 * tested without the real network service. It mirrors the network rows the Compute API reads
 * directly (networks, subnets, ports, ip_allocations) into the given database. Not a reference
 * for Neutron semantics: it does only what those tests need (visibility, default group, ports
 * bound to instances, in-use and duplicate checks).
 */
import { conflict, notFound, NovaError } from '../../errors.js';
import type { Sql } from '../../db/sql.js';
import type { RequestContext } from '../../http/types.js';
import type { NetworkApi, NetworkClient, NeutronView } from '../../network/client.js';
import type { Vif } from '../../network/types.js';
import { nowIso } from '../../util/time.js';

type View = NeutronView & Record<string, any>;

export interface FakeNetwork {
  api: NetworkApi;
  client: NetworkClient;
  networks: Map<string, View>;
  ports: Map<string, View>;
  groups: Map<string, View>;
  /** Calls recorded by method name (updatePortSecurityGroups, ...). */
  calls: { method: string; args: unknown[] }[];
  addNetwork(o: { name: string; project_id: string; cidr?: string | null; shared?: boolean }): Promise<View>;
  addPort(o: { network_id: string; project_id: string; ip?: string; device_id?: string }): Promise<View>;
}

const visible = (ctx: RequestContext, projectId: string) => ctx.isAdmin || ctx.projectId === projectId;

export function fakeNetwork(sql: Sql): FakeNetwork {
  const networks = new Map<string, View>();
  const subnets = new Map<string, { id: string; network_id: string; cidr: string; next: number }>();
  const ports = new Map<string, View>();
  const groups = new Map<string, View>();
  const calls: FakeNetwork['calls'] = [];
  let macs = 0;

  const rule = (sg: View, r: Record<string, unknown>): View => ({
    id: crypto.randomUUID(), security_group_id: sg.id, project_id: sg.project_id, tenant_id: sg.project_id, direction: 'ingress',
    ethertype: 'IPv4', protocol: null, port_range_min: null, port_range_max: null, remote_ip_prefix: null, remote_group_id: null, ...r,
  });
  const newGroup = (projectId: string, name: string, description: string): View => {
    const sg: View = { id: crypto.randomUUID(), name, description, project_id: projectId, tenant_id: projectId, security_group_rules: [] };
    sg.security_group_rules.push(rule(sg, { direction: 'egress', ethertype: 'IPv4' }), rule(sg, { direction: 'egress', ethertype: 'IPv6' }));
    groups.set(sg.id, sg);
    return sg;
  };
  const ensureDefault = (projectId: string | null) => {
    if (!projectId || [...groups.values()].some((g) => g.project_id === projectId && g.name === 'default')) return;
    const sg = newGroup(projectId, 'default', 'Default security group');
    sg.security_group_rules.push(rule(sg, { remote_group_id: sg.id }), rule(sg, { ethertype: 'IPv6', remote_group_id: sg.id }));
  };
  const group = (ctx: RequestContext, id: string): View => {
    const g = groups.get(id);
    if (!g || !visible(ctx, g.project_id)) throw notFound(`Security group ${id} does not exist`);
    return g;
  };

  async function createPort(o: { network_id: string; project_id: string; ip?: string; device_id?: string; sgs?: string[] }): Promise<View> {
    const net = networks.get(o.network_id)!;
    const sub = [...subnets.values()].find((s) => s.network_id === o.network_id);
    const id = crypto.randomUUID();
    const mac = `fa:16:3e:00:00:${(++macs).toString(16).padStart(2, '0')}`;
    const ip = o.ip ?? (sub ? `${sub.cidr.split('/')[0].split('.').slice(0, 3).join('.')}.${sub.next++}` : undefined);
    const now = nowIso();
    await sql.run('INSERT INTO ports (id, network_id, project_id, mac_address, device_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      id, o.network_id, o.project_id, mac, o.device_id ?? '', now, now,
    ]);
    if (sub && ip) await sql.run('INSERT INTO ip_allocations (subnet_id, ip_address, port_id, network_id) VALUES (?, ?, ?, ?)', [sub.id, ip, id, o.network_id]);
    ensureDefault(o.project_id);
    const defaultId = [...groups.values()].find((g) => g.project_id === o.project_id && g.name === 'default')!.id;
    const port: View = {
      id, network_id: net.id, project_id: o.project_id, tenant_id: o.project_id, mac_address: mac, device_id: o.device_id ?? '',
      device_owner: o.device_id ? 'compute:nova' : '', status: o.device_id ? 'ACTIVE' : 'DOWN',
      fixed_ips: sub && ip ? [{ subnet_id: sub.id, ip_address: ip }] : [], security_groups: o.sgs ?? [defaultId], created_by_nova: !!o.device_id,
    };
    ports.set(id, port);
    return port;
  }

  const vifOf = (p: View): Vif => {
    const net = networks.get(p.network_id)!;
    const sub = [...subnets.values()].find((s) => s.network_id === p.network_id);
    return {
      id: p.id, address: p.mac_address, devname: `tap${p.id.slice(0, 11)}`, type: 'bridge', preserve_on_delete: !p.created_by_nova,
      network: {
        id: net.id, label: net.name, bridge: `brq${net.id.slice(0, 11)}`, mtu: 1500,
        subnets: sub ? [{ cidr: sub.cidr, gateway: null, dns: [], ips: p.fixed_ips.map((f: any) => ({ address: f.ip_address, type: 'fixed' as const })), dhcp_server: null, routes: [] }] : [],
      },
    };
  };

  const api: NetworkApi = {
    async listNetworks(ctx, f = {}) {
      return [...networks.values()].filter(
        (n) => (visible(ctx, n.project_id) || n.shared) && (!f.id || f.id.includes(n.id)) && (f.name === undefined || n.name === f.name) &&
          (f.shared === undefined || n.shared === f.shared) && (f.project_id === undefined || n.project_id === f.project_id),
      );
    },
    async showNetwork(ctx, id) {
      const n = networks.get(id);
      if (!n || !(visible(ctx, n.project_id) || n.shared)) throw new NovaError('NotFound', `Network ${id} could not be found.`, { neutronType: 'NetworkNotFound' });
      return n;
    },
    async listPorts(ctx, f) {
      return [...ports.values()].filter(
        (p) => visible(ctx, p.project_id) && (f.device_id === undefined || p.device_id === f.device_id) &&
          (f.network_id === undefined || p.network_id === f.network_id) && (!f.id || f.id.includes(p.id)),
      );
    },
    async showPort(ctx, id) {
      const p = ports.get(id);
      if (!p || !visible(ctx, p.project_id)) throw new NovaError('NotFound', `Port ${id} could not be found.`, { neutronType: 'PortNotFound' });
      return p;
    },
    async updatePortSecurityGroups(ctx, id, ids) {
      calls.push({ method: 'updatePortSecurityGroups', args: [id, ids] });
      const p = await api.showPort(ctx, id);
      for (const g of ids) group(ctx, g);
      p.security_groups = [...new Set(ids)];
      return p;
    },
    async listSecurityGroups(ctx, f = {}) {
      ensureDefault(ctx.projectId);
      return [...groups.values()].filter(
        (g) => visible(ctx, g.project_id) && (!f.id || f.id.includes(g.id)) && (f.name === undefined || g.name === f.name) &&
          (f.project_id === undefined || g.project_id === f.project_id),
      );
    },
    async showSecurityGroup(ctx, id) {
      return group(ctx, id);
    },
    async createSecurityGroup(ctx, body) {
      return newGroup(ctx.projectId!, body.name, body.description ?? '');
    },
    async updateSecurityGroup(ctx, id, body) {
      const g = group(ctx, id);
      if (body.name !== undefined) g.name = body.name;
      if (body.description !== undefined) g.description = body.description;
      return g;
    },
    async deleteSecurityGroup(ctx, id) {
      const g = group(ctx, id);
      if ([...ports.values()].some((p) => p.security_groups.includes(id)))
        throw new NovaError('Conflict', `Security Group ${id} in use.`, { neutronType: 'SecurityGroupInUse' });
      groups.delete(g.id);
    },
    async createSecurityGroupRule(ctx, body) {
      const g = group(ctx, String(body.security_group_id));
      const r = rule(g, body);
      const key = (x: View) => JSON.stringify([x.direction, x.ethertype, x.protocol, x.port_range_min, x.port_range_max, x.remote_ip_prefix, x.remote_group_id]);
      if (g.security_group_rules.some((x: View) => key(x) === key(r)))
        throw new NovaError('Conflict', 'Security group rule already exists.', { neutronType: 'SecurityGroupRuleExists' });
      g.security_group_rules.push(r);
      return r;
    },
    async showSecurityGroupRule(ctx, id) {
      for (const g of groups.values()) {
        const r = g.security_group_rules.find((x: View) => x.id === id);
        if (r && visible(ctx, g.project_id)) return r;
      }
      throw notFound(`Security group rule ${id} could not be found.`);
    },
    async deleteSecurityGroupRule(ctx, id) {
      const r = await api.showSecurityGroupRule(ctx, id);
      const g = groups.get(r.security_group_id as string)!;
      g.security_group_rules = g.security_group_rules.filter((x: View) => x.id !== id);
    },
  };

  const client: NetworkClient = {
    async allocateForInstance() {
      throw new Error('not used by the Compute API');
    },
    async rebindPorts() {
      throw new Error('not used by the Compute API');
    },
    async deallocateForInstance() {},
    async instanceNetworkInfo(a) {
      return [...ports.values()].filter((p) => p.device_id === a.instance_uuid).map(vifOf);
    },
    async attachInterface(a) {
      if (a.port_id) {
        const p = ports.get(a.port_id)!;
        if (p.device_id) throw conflict(`Port ${a.port_id} is still in use.`);
        p.device_id = a.instance_uuid;
        p.status = 'ACTIVE';
        return vifOf(p);
      }
      return vifOf(await createPort({ network_id: a.net_id!, project_id: a.project_id, ip: a.fixed_ip, device_id: a.instance_uuid }));
    },
    async detachInterface(a) {
      const p = ports.get(a.port_id);
      if (!p) return;
      if (p.created_by_nova) {
        ports.delete(p.id);
        await sql.run('DELETE FROM ip_allocations WHERE port_id = ?', [p.id]);
        await sql.run('DELETE FROM ports WHERE id = ?', [p.id]);
      } else {
        p.device_id = '';
        p.status = 'DOWN';
      }
    },
  };

  return {
    api, client, networks, ports, groups, calls,
    async addNetwork(o) {
      const id = crypto.randomUUID();
      const now = nowIso();
      await sql.run('INSERT INTO networks (id, project_id, name, shared, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [
        id, o.project_id, o.name, o.shared ? 1 : 0, now, now,
      ]);
      const net: View = { id, name: o.name, project_id: o.project_id, tenant_id: o.project_id, shared: !!o.shared, status: 'ACTIVE', subnets: [] };
      if (o.cidr !== null) {
        const cidr = o.cidr ?? `198.18.${networks.size}.0/24`;
        const sid = crypto.randomUUID();
        await sql.run('INSERT INTO subnets (id, network_id, project_id, cidr, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [sid, id, o.project_id, cidr, now, now]);
        subnets.set(sid, { id: sid, network_id: id, cidr, next: 10 });
        net.subnets.push(sid);
      }
      networks.set(id, net);
      return net;
    },
    addPort: (o) => createPort(o),
  };
}
