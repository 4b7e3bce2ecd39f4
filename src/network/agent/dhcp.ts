import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { AgentNetwork, AgentPort } from '../types.js';
import { unavailable } from '../../errors.js';
import { cidrRange, intToIp, netmask, prefixLength } from './cidr.js';
import { cmdline, killAndWait, ownedPid, waitForPid } from './processes.js';

/**
 * One dnsmasq per network with a DHCP-enabled subnet, inside the namespace, bound to the
 * network's bridge, DHCP only (no DNS: --port=0), static leases from a hosts file with one line
 * per port address. Files in the state dir: dnsmasq-<network>.{pid,hosts,leases,log}.
 */

export const LEASE_SECONDS = 86400;
const METADATA_IP = '169.254.169.254';

export const dhcpFiles = (stateDir: string, networkId: string) => {
  const base = join(stateDir, `dnsmasq-${networkId}`);
  return { pid: `${base}.pid`, hosts: `${base}.hosts`, leases: `${base}.leases`, log: `${base}.log` };
};

/** dnsmasq's argv (without the program) for the network, or null when no subnet has DHCP. */
export function dnsmasqArgs(net: AgentNetwork, stateDir: string): string[] | null {
  const subnets = net.subnets.filter((s) => s.enable_dhcp && s.bridge_address && !s.cidr.includes(':'));
  if (!subnets.length) return null;
  const f = dhcpFiles(stateDir, net.id);
  const args = [
    '--no-resolv',
    '--no-hosts',
    '--port=0',
    `--interface=${net.bridge}`,
    '--bind-interfaces',
    '--except-interface=lo',
    // It runs as root: the state dir may be private to root, and it re-reads the hosts file on SIGHUP.
    '--user=root',
    '--group=root',
    `--pid-file=${f.pid}`,
    `--dhcp-leasefile=${f.leases}`,
    `--dhcp-hostsfile=${f.hosts}`,
    '--dhcp-authoritative',
  ];
  subnets.forEach((s, i) => {
    const tag = `subnet${i}`;
    const { first } = cidrRange(s.cidr);
    const prefix = prefixLength(s.cidr);
    args.push(`--dhcp-range=set:${tag},${intToIp(first)},static,${netmask(prefix)},${LEASE_SECONDS}s`);
    if (s.gateway_ip) args.push(`--dhcp-option=tag:${tag},option:router,${s.gateway_ip}`);
    if (s.dns_nameservers.length) args.push(`--dhcp-option=tag:${tag},option:dns-server,${s.dns_nameservers.join(',')}`);
    // Classless routes replace the router option in clients (RFC 3442), so the default route is
    // repeated there; the metadata route is needed when the bridge is not the gateway.
    const routes = s.host_routes.map((r) => `${r.destination},${r.nexthop}`);
    if (s.bridge_address !== s.gateway_ip) routes.push(`${METADATA_IP}/32,${s.bridge_address}`);
    if (routes.length) {
      if (s.gateway_ip) routes.push(`0.0.0.0/0,${s.gateway_ip}`);
      args.push(`--dhcp-option=tag:${tag},option:classless-static-route,${routes.join(',')}`);
    }
  });
  return args;
}

/** A hostname dnsmasq accepts: one DNS label. */
const label = (h: string) => h.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);

/** The dhcp-hostsfile: `MAC,IP[,hostname]` per fixed IP of each port in a DHCP subnet. */
export function hostsFile(net: AgentNetwork, ports: AgentPort[]): string {
  const dhcp = new Set(net.subnets.filter((s) => s.enable_dhcp).map((s) => s.id));
  const lines: string[] = [];
  for (const p of [...ports].sort((a, b) => a.id.localeCompare(b.id))) {
    if (p.network_id !== net.id) continue;
    for (const ip of p.fixed_ips) {
      if (!dhcp.has(ip.subnet_id)) continue;
      const h = label(p.hostname);
      lines.push([p.mac.toLowerCase(), ip.ip_address, ...(h ? [h] : [])].join(','));
    }
  }
  return lines.map((l) => l + '\n').join('');
}

/** Networks with a dnsmasq pid file in the state dir. */
export function dnsmasqNetworks(stateDir: string): string[] {
  if (!existsSync(stateDir)) return [];
  return readdirSync(stateDir)
    .map((f) => /^dnsmasq-(.+)\.pid$/.exec(f)?.[1])
    .filter((x): x is string => !!x);
}

function writeIfChanged(path: string, content: string): boolean {
  let old: string | null = null;
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    /* first write */
  }
  if (old === content) return false;
  writeFileSync(path, content, { mode: 0o644 });
  return true;
}

/** Starts dnsmasq in the namespace; it daemonizes and writes its pid file; resolves with its PID. */
async function startDnsmasq(netns: string, args: string[], files: ReturnType<typeof dhcpFiles>): Promise<number> {
  const fd = openSync(files.log, 'a');
  try {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', netns, 'dnsmasq', ...args], { stdio: ['ignore', fd, fd] });
      child.on('error', reject);
      child.on('exit', (c) => resolve(c ?? -1));
    });
    if (code !== 0) {
      const tail = readFileSync(files.log, 'utf8').trim().split('\n').slice(-3).join(' ');
      throw unavailable(`dnsmasq failed to start (exit ${code}): ${tail}`);
    }
  } finally {
    closeSync(fd);
  }
  const pid = await waitForPid(files.pid, files.pid, 5000);
  if (pid === null) throw unavailable(`dnsmasq did not write ${files.pid}`);
  return pid;
}

/**
 * Makes the network's dnsmasq run with the wanted arguments and hosts file: starts it when
 * missing or dead, restarts it when its arguments changed, SIGHUPs it when only the hosts file
 * changed, stops it when the network has no DHCP subnet any more. Idempotent.
 */
export async function ensureDnsmasq(
  netns: string,
  net: AgentNetwork,
  ports: AgentPort[],
  stateDir: string,
): Promise<'started' | 'restarted' | 'reloaded' | 'unchanged' | 'stopped' | 'none'> {
  const files = dhcpFiles(stateDir, net.id);
  const args = dnsmasqArgs(net, stateDir);
  if (!args) return (await stopDnsmasq(stateDir, net.id)) ? 'stopped' : 'none';
  const hostsChanged = writeIfChanged(files.hosts, hostsFile(net, ports));
  const pid = ownedPid(files.pid, files.pid);
  if (pid !== null) {
    const argv = cmdline(pid);
    if (argv && JSON.stringify(argv.slice(1)) === JSON.stringify(args)) {
      if (!hostsChanged) return 'unchanged';
      process.kill(pid, 'SIGHUP');
      return 'reloaded';
    }
    await killAndWait(pid);
  }
  rmSync(files.pid, { force: true });
  await startDnsmasq(netns, args, files);
  return pid === null ? 'started' : 'restarted';
}

/** Stops the network's dnsmasq (if ours and alive) and removes its files. True if one ran. */
export async function stopDnsmasq(stateDir: string, networkId: string): Promise<boolean> {
  const files = dhcpFiles(stateDir, networkId);
  const pid = ownedPid(files.pid, files.pid);
  if (pid !== null) await killAndWait(pid);
  for (const f of Object.values(files)) rmSync(f, { force: true });
  return pid !== null;
}
