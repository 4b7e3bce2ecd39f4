import type { HostNetworkState } from '../types.js';
import { prefixLength } from './cidr.js';
import { run } from './exec.js';

/**
 * Bridges and taps in the namespace: read with one `ip -d -j addr show`, changed with one
 * `ip -batch` (nothing run when all is right).
 */

/** Name prefixes of the devices the agent creates and may delete (bridgeName/tapName). */
export const BRIDGE_PREFIX = 'brq';
export const TAP_PREFIX = 'tap';

export interface Link {
  name: string;
  kind: string | null;
  master: string | null;
  mtu: number;
  up: boolean;
  /** IPv4 addresses as `a.b.c.d/prefix`. */
  addrs: string[];
}

export async function readLinks(netns: string): Promise<Map<string, Link>> {
  const { stdout } = await run('ip', ['-n', netns, '-d', '-j', 'addr', 'show']);
  const out = new Map<string, Link>();
  for (const l of JSON.parse(stdout || '[]') as any[]) {
    out.set(l.ifname, {
      name: l.ifname,
      kind: l.linkinfo?.info_kind ?? null,
      master: l.master ?? null,
      mtu: l.mtu,
      up: Array.isArray(l.flags) && l.flags.includes('UP'),
      addrs: (l.addr_info ?? []).filter((a: any) => a.family === 'inet').map((a: any) => `${a.local}/${a.prefixlen}`),
    });
  }
  return out;
}

/**
 * The `ip -batch` lines that turn `links` into what `state` wants:
 * - a bridge per network (created when missing, MTU set, up) holding exactly the
 *   bridge_address/prefix of its subnets;
 * - for each port, the device named devname: created as a persistent tap when missing; an
 *   existing device of any kind with that name (a tap QEMU holds, a test's veth) is only
 *   enslaved to the bridge, given the MTU and set up when it is not already;
 * - devices with our prefixes (brq*, tap*) that no port or network wants are deleted, as are
 *   the devices named in `remove` (unplugged ports) when nothing wants them.
 */
export function planLinks(state: HostNetworkState, links: Map<string, Link>, remove: string[] = []): string[] {
  const del: string[] = [];
  const add: string[] = [];
  const wantedDevs = new Set<string>();
  const nets = new Map(state.networks.map((n) => [n.id, n]));
  for (const n of state.networks) {
    wantedDevs.add(n.bridge);
    const cur = links.get(n.bridge);
    if (cur && cur.kind !== 'bridge') del.push(`link del ${n.bridge}`);
    if (!cur || cur.kind !== 'bridge') add.push(`link add ${n.bridge} type bridge`);
    if (!cur || cur.kind !== 'bridge' || cur.mtu !== n.mtu || !cur.up) add.push(`link set ${n.bridge} mtu ${n.mtu} up`);
    const want = new Set(n.subnets.filter((s) => s.bridge_address).map((s) => `${s.bridge_address}/${prefixLength(s.cidr)}`));
    const have = new Set(cur?.kind === 'bridge' ? cur.addrs : []);
    for (const a of have) if (!want.has(a)) add.push(`addr del ${a} dev ${n.bridge}`);
    for (const a of want) if (!have.has(a)) add.push(`addr add ${a} brd + dev ${n.bridge}`);
  }
  for (const p of state.ports) {
    const n = nets.get(p.network_id);
    if (!n) continue;
    wantedDevs.add(p.devname);
    const cur = links.get(p.devname);
    if (!cur) add.push(`tuntap add dev ${p.devname} mode tap`);
    if (!cur || cur.master !== n.bridge || cur.mtu !== n.mtu || !cur.up)
      add.push(`link set ${p.devname} master ${n.bridge} mtu ${n.mtu} up`);
  }
  const removable = new Set(remove);
  for (const l of links.values()) {
    if (wantedDevs.has(l.name)) continue;
    if (l.name.startsWith(BRIDGE_PREFIX) || l.name.startsWith(TAP_PREFIX) || removable.has(l.name)) del.push(`link del ${l.name}`);
  }
  return [...del, ...add];
}

/** Applies planLinks' lines in one `ip -n <ns> -batch -`; returns how many there were. */
export async function applyLinks(netns: string, state: HostNetworkState, remove: string[] = []): Promise<number> {
  const lines = planLinks(state, await readLinks(netns), remove);
  if (lines.length) await run('ip', ['-n', netns, '-batch', '-'], { input: lines.join('\n') + '\n' });
  return lines.length;
}
